#include "lib/auth/caller_policy.h"

#include <cmath>
#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace payments::auth {
namespace {

using nlohmann::json;

absl::Status Invalid(absl::string_view where, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("policy: ", where, ": ", problem));
}

bool IsAccountName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

absl::Status CheckKeys(const json& object, absl::string_view where,
                       std::initializer_list<absl::string_view> allowed) {
  if (!object.is_object()) return Invalid(where, "expected an object");
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (absl::string_view name : allowed) known = known || key == name;
    if (!known) return Invalid(where, absl::StrCat("unknown key '", key, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<RateLimit> ParseRateLimit(const json& value,
                                         const std::string& where) {
  if (absl::Status s = CheckKeys(value, where, {"per_second", "burst"});
      !s.ok()) {
    return s;
  }
  RateLimit limit;
  for (auto [key, field] :
       {std::pair<const char*, double*>{"per_second", &limit.per_second},
        {"burst", &limit.burst}}) {
    if (!value.contains(key) || !value[key].is_number()) {
      return Invalid(where, absl::StrCat("'", key, "' must be a number"));
    }
    *field = value[key].get<double>();
  }
  if (!(limit.per_second > 0) || !std::isfinite(limit.per_second)) {
    return Invalid(where, "'per_second' must be positive");
  }
  if (!(limit.burst >= 1) || !std::isfinite(limit.burst)) {
    return Invalid(where, "'burst' must be at least 1");
  }
  return limit;
}

absl::StatusOr<Limits> ParseLimits(const json& value,
                                   const std::string& where) {
  if (absl::Status s = CheckKeys(value, where, {"calls", "creates", "refunds"});
      !s.ok()) {
    return s;
  }
  Limits limits;
  for (auto [key, field] : {std::pair<const char*, std::optional<RateLimit>*>{
                                "calls", &limits.calls},
                            {"creates", &limits.creates},
                            {"refunds", &limits.refunds}}) {
    if (!value.contains(key)) continue;
    absl::StatusOr<RateLimit> limit =
        ParseRateLimit(value[key], absl::StrCat(where, ".", key));
    if (!limit.ok()) return limit.status();
    *field = *limit;
  }
  return limits;
}

// A list of names or ["*"].
absl::Status ParseNames(const json& value, const std::string& where, bool& all,
                        std::set<std::string, std::less<>>& names,
                        const std::function<bool(const std::string&)>& valid) {
  if (!value.is_array() || value.empty()) {
    return Invalid(where, "expected a non-empty list of names, or [\"*\"]");
  }
  for (const json& item : value) {
    if (!item.is_string()) return Invalid(where, "names must be strings");
    const std::string name = item.get<std::string>();
    if (name == "*") {
      all = true;
    } else if (!valid(name)) {
      return Invalid(where, absl::StrCat("unknown name '", name, "'"));
    } else {
      names.insert(name);
    }
  }
  if (all && !names.empty()) {
    return Invalid(where, "\"*\" cannot be combined with names");
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view LimitKindOf(absl::string_view rpc) {
  if (rpc == "CreateIntent" || rpc == "CreatePaymentLink") return "creates";
  if (rpc == "RefundIntent") return "refunds";
  return "";
}

absl::StatusOr<CallerPolicy> ParseCallerPolicy(
    absl::string_view text, const std::set<std::string>& known_rpcs) {
  const json document = json::parse(text, nullptr, /*allow_exceptions=*/false,
                                    /*ignore_comments=*/true);
  if (document.is_discarded()) return Invalid("document", "not valid JSON");
  if (absl::Status s = CheckKeys(document, "document", {"callers", "accounts"});
      !s.ok()) {
    return s;
  }
  CallerPolicy policy;
  if (document.contains("callers")) {
    const json& callers = document["callers"];
    if (!callers.is_object()) return Invalid("callers", "expected an object");
    for (const auto& [caller, rule_json] : callers.items()) {
      const std::string where = absl::StrCat("callers[\"", caller, "\"]");
      if (caller.empty() || caller.size() > 512) {
        return Invalid(where, "a caller is 1 to 512 characters");
      }
      if (absl::Status s =
              CheckKeys(rule_json, where, {"rpcs", "accounts", "limits"});
          !s.ok()) {
        return s;
      }
      if (!rule_json.contains("rpcs") || !rule_json.contains("accounts")) {
        return Invalid(where, "'rpcs' and 'accounts' are required");
      }
      CallerRule rule;
      if (absl::Status s = ParseNames(
              rule_json["rpcs"], where + ".rpcs", rule.all_rpcs, rule.rpcs,
              [&](const std::string& n) { return known_rpcs.count(n) > 0; });
          !s.ok()) {
        return s;
      }
      if (absl::Status s =
              ParseNames(rule_json["accounts"], where + ".accounts",
                         rule.all_accounts, rule.accounts,
                         [](const std::string& n) { return IsAccountName(n); });
          !s.ok()) {
        return s;
      }
      if (rule_json.contains("limits")) {
        absl::StatusOr<Limits> limits =
            ParseLimits(rule_json["limits"], where + ".limits");
        if (!limits.ok()) return limits.status();
        rule.limits = *limits;
      }
      policy.callers.emplace(caller, std::move(rule));
    }
  }
  if (document.contains("accounts")) {
    const json& accounts = document["accounts"];
    if (!accounts.is_object()) return Invalid("accounts", "expected an object");
    for (const auto& [account, entry] : accounts.items()) {
      const std::string where = absl::StrCat("accounts[\"", account, "\"]");
      if (!IsAccountName(account)) {
        return Invalid(where, "an account name is 1-64 of [A-Za-z0-9_-]");
      }
      if (absl::Status s = CheckKeys(entry, where, {"limits"}); !s.ok()) {
        return s;
      }
      Limits limits;
      if (entry.contains("limits")) {
        absl::StatusOr<Limits> parsed =
            ParseLimits(entry["limits"], where + ".limits");
        if (!parsed.ok()) return parsed.status();
        limits = *parsed;
      }
      policy.accounts.emplace(account, limits);
    }
  }
  return policy;
}

}  // namespace payments::auth
