#include "tests/emulator/account_registry.h"

#include <fstream>

namespace dojo_emulator {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' ||
                        s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::string_view OutcomeName(AuthResult::Outcome outcome) {
  switch (outcome) {
    case AuthResult::Outcome::kOk:
      return "ok";
    case AuthResult::Outcome::kMissing:
      return "missing";
    case AuthResult::Outcome::kMalformed:
      return "malformed";
    case AuthResult::Outcome::kUnknown:
      return "unknown";
    case AuthResult::Outcome::kForbidden:
      return "forbidden";
  }
  return "unknown";
}

std::optional<std::string> AccountRegistry::ParseKeyFile(
    const std::string& path, std::map<std::string, std::string>* key_to_name) {
  std::ifstream in(path);
  if (!in) return "cannot read " + path;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view text = Trim(line);
    if (text.empty() || text.front() == '#') continue;
    size_t eq = text.find('=');
    if (eq == std::string_view::npos) {
      return path + ":" + std::to_string(line_no) + ": expected name=key";
    }
    std::string_view name = Trim(text.substr(0, eq));
    std::string_view key = Trim(text.substr(eq + 1));
    if (name.empty() || key.empty()) {
      return path + ":" + std::to_string(line_no) + ": empty name or key";
    }
    // One account may have many keys (key rotation); one key, one account.
    auto [it, added] =
        key_to_name->emplace(std::string(key), std::string(name));
    if (!added && it->second != name) {
      return path + ":" + std::to_string(line_no) +
             ": this key is already listed for another account";
    }
  }
  return std::nullopt;
}

AccountRegistry::AccountRegistry(std::map<std::string, std::string> allowed,
                                 std::map<std::string, std::string> forbidden)
    : allowed_(std::move(allowed)), forbidden_(std::move(forbidden)) {}

AuthResult AccountRegistry::Authenticate(
    std::optional<std::string_view> header) const {
  using Outcome = AuthResult::Outcome;
  if (!header) return {Outcome::kMissing, ""};
  constexpr std::string_view kScheme = "Basic ";
  if (header->size() <= kScheme.size() ||
      header->substr(0, kScheme.size()) != kScheme) {
    return {Outcome::kMalformed, ""};
  }
  std::string key(Trim(header->substr(kScheme.size())));
  if (key.empty()) return {Outcome::kMalformed, ""};
  if (auto it = forbidden_.find(key); it != forbidden_.end()) {
    return {Outcome::kForbidden, it->second};
  }
  if (allowed_.empty()) {
    constexpr std::string_view kSandboxPrefix = "sk_sandbox_";
    if (key.size() > kSandboxPrefix.size() &&
        std::string_view(key).substr(0, kSandboxPrefix.size()) ==
            kSandboxPrefix) {
      return {Outcome::kOk, key.substr(key.size() - 4)};
    }
    return {Outcome::kUnknown, ""};
  }
  if (auto it = allowed_.find(key); it != allowed_.end()) {
    return {Outcome::kOk, it->second};
  }
  return {Outcome::kUnknown, ""};
}

}  // namespace dojo_emulator
