// The configuration parsers: LoadServerConfig (lib/config/server_config.h)
// with its durations, integers, ratios, addresses, URLs, store and TLS
// settings, the accounts file and webhook secret lists; and on their own
// the list syntax (lib/config/named_values.h) and DOJO_BASE_URL
// (lib/config/dojo_base_url.h, fed the input's first line).
//
// The input is the environment, one NAME=value per line, optionally
// followed by a line "--" and the contents of a file; a value "@file" names
// that file (DOJO_ACCOUNTS_FILE=@file, DOJO_API_KEY_FILE=@file, ...).
// PAYMENTS_TLS defaults to "off" and DOJO_API_KEY to a canary key.
//
// Invariants: a loaded config satisfies every documented range and rule;
// errors are INVALID_ARGUMENT and start with the name of a setting; no error
// quotes the canary key or any part of a secret value (keys, secrets, lists,
// store and Dojo URLs); lists yield trimmed entries, agree with the
// documented name and token rules and read back the same when written; a
// valid Dojo URL is normalised, loopback-only over http, and stays valid.

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "lib/config/dojo_base_url.h"
#include "lib/config/named_values.h"
#include "lib/config/server_config.h"
#include "tests/fuzz/fuzz_check.h"

namespace payments::config {
namespace {

constexpr char kCanaryKey[] = "sk_fuzz_canary_key_5d1e77b2";

// The file "@file" stands for, in a private temporary directory.
const std::string& FilePath() {
  static const std::string* const path = [] {
    std::string dir =
        absl::StrCat(getenv("TMPDIR") != nullptr ? getenv("TMPDIR") : "/tmp",
                     "/server_config_fuzzer.XXXXXX");
    FUZZ_CHECK(mkdtemp(dir.data()) != nullptr, "mkdtemp");
    static std::string file;
    file = dir + "/file";
    static std::string directory;
    directory = dir;
    atexit([] {
      unlink(file.c_str());
      rmdir(directory.c_str());
    });
    return &file;
  }();
  return *path;
}

// Runs of [A-Za-z0-9_-] of 16+ characters with a lower-case letter and a
// digit that occur once in `input`: distinctive enough that finding one in
// an error can only mean that the error quotes that part of the input.
std::vector<std::string> DistinctiveTokens(absl::string_view text,
                                           absl::string_view input) {
  std::vector<std::string> tokens;
  for (absl::string_view token : absl::StrSplit(
           text, absl::ByAnyChar(" \t\r\n!\"#$%&'()*+,./:;<=>?@[\\]^`{|}~"))) {
    if (token.size() < 16 ||
        std::none_of(token.begin(), token.end(),
                     [](char c) { return absl::ascii_islower(c); }) ||
        std::none_of(token.begin(), token.end(),
                     [](char c) { return absl::ascii_isdigit(c); })) {
      continue;
    }
    const size_t first = input.find(token);
    if (input.find(token, first + 1) == absl::string_view::npos) {
      tokens.emplace_back(token);
    }
  }
  return tokens;
}

// What IsSecretToken at least requires (lib/config/named_values.h).
bool LooksLikeSecretToken(absl::string_view value) {
  const size_t padding = value.find_last_not_of('=');
  if (padding == absl::string_view::npos) return false;
  for (char c : value.substr(0, padding + 1)) {
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '`' ||
        c == ',' || c == '=') {
      return false;
    }
  }
  return true;
}

// What IsSettingName at least requires.
bool LooksLikeSettingName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

void CheckNamedValues(absl::string_view text, ListSeparators separators) {
  const auto entries = ParseNamedValues(text, "FUZZ", separators);
  if (!entries.ok()) {
    FUZZ_CHECK(entries.status().code() == absl::StatusCode::kInvalidArgument,
               entries.status().ToString());
    FUZZ_CHECK(absl::StartsWith(entries.status().message(), "FUZZ: entry "),
               "list error does not name the setting and entry");
    for (const std::string& token : DistinctiveTokens(text, text)) {
      FUZZ_CHECK(!absl::StrContains(entries.status().message(), token),
                 "list error quotes the text");
    }
    return;
  }
  std::string written;
  for (const NamedValue& entry : *entries) {
    FUZZ_CHECK(absl::StartsWith(entry.where, "entry "), entry.where);
    FUZZ_CHECK(absl::StripAsciiWhitespace(entry.name) == entry.name &&
                   absl::StripAsciiWhitespace(entry.value) == entry.value,
               "untrimmed entry");
    FUZZ_CHECK(!absl::StrContains(entry.name, '=') &&
                   !absl::StrContains(entry.name, '\n') &&
                   !absl::StrContains(entry.value, '\n'),
               "separator inside an entry");
    if (separators == ListSeparators::kNewlinesAndCommas) {
      FUZZ_CHECK(!absl::StrContains(entry.name, ',') &&
                     !absl::StrContains(entry.value, ','),
                 "comma inside an entry");
    }
    // The documented rules may tighten; they must never loosen.
    FUZZ_CHECK(!IsSettingName(entry.name) || LooksLikeSettingName(entry.name),
               "IsSettingName");
    FUZZ_CHECK(!IsSecretToken(entry.value) || LooksLikeSecretToken(entry.value),
               "IsSecretToken");
    if (IsSettingName(entry.name)) {
      absl::StrAppend(&written, entry.name, "=", entry.value, "\n");
    }
  }
  // The entries a caller accepts read back the same when written one a line.
  const auto again = ParseNamedValues(written, "FUZZ", separators);
  FUZZ_CHECK(again.ok(), "accepted entries written back do not parse");
  size_t k = 0;
  for (const NamedValue& entry : *entries) {
    if (!IsSettingName(entry.name)) continue;
    FUZZ_CHECK(k < again->size() && (*again)[k].name == entry.name &&
                   (*again)[k].value == entry.value,
               "list not stable when written back");
    ++k;
  }
  FUZZ_CHECK(k == again->size(), "list grew when written back");
}

void CheckBaseUrl(absl::string_view url) {
  const absl::StatusOr<std::string> valid = ValidateDojoBaseUrl(url);
  if (!valid.ok()) {
    FUZZ_CHECK(valid.status().code() == absl::StatusCode::kInvalidArgument,
               valid.status().ToString());
    FUZZ_CHECK(absl::StartsWith(valid.status().message(), "DOJO_BASE_URL"),
               "URL error does not name DOJO_BASE_URL");
    for (const std::string& token : DistinctiveTokens(url, url)) {
      FUZZ_CHECK(!absl::StrContains(valid.status().message(), token),
                 "URL error quotes the URL");
    }
    return;
  }
  absl::string_view rest = *valid;
  const bool https = absl::ConsumePrefix(&rest, "https://");
  FUZZ_CHECK(https || absl::ConsumePrefix(&rest, "http://"), "scheme");
  FUZZ_CHECK(!absl::EndsWith(*valid, "/"), "trailing slash kept");
  for (char c : *valid) {
    FUZZ_CHECK(c > 0x20 && c < 0x7f && c != '\\' && c != '?' && c != '#',
               "blank, control character, backslash, query or fragment");
  }
  const absl::string_view authority = rest.substr(0, rest.find('/'));
  FUZZ_CHECK(!authority.empty() && !absl::StrContains(authority, '@'),
             "empty host or userinfo accepted");
  if (!https) {
    absl::string_view host = authority;
    if (absl::ConsumePrefix(&host, "[")) {
      host = host.substr(0, host.find(']'));
    } else {
      host = host.substr(0, host.find(':'));
    }
    FUZZ_CHECK(IsLoopbackHost(host), "plain http to a host not loopback");
  }
  const absl::StatusOr<std::string> again = ValidateDojoBaseUrl(*valid);
  FUZZ_CHECK(again.ok() && *again == *valid, "URL validation not idempotent");
}

bool IsPositiveFinite(absl::Duration d) {
  return d > absl::ZeroDuration() && d < absl::InfiniteDuration();
}

void CheckConfig(const ServerConfig& config) {
  FUZZ_CHECK(config.dojo_accounts.count(kDefaultAccount) == 1,
             "no default account");
  for (const auto& [name, key] : config.dojo_accounts) {
    FUZZ_CHECK(IsSettingName(name), "bad account name");
    FUZZ_CHECK(IsSecretToken(key), "API key is not a secret token");
  }
  for (size_t i = 0; i < config.webhook_secrets.size(); ++i) {
    const WebhookSecret& secret = config.webhook_secrets[i];
    FUZZ_CHECK(IsSettingName(secret.id), "bad webhook secret id");
    FUZZ_CHECK(IsSecretToken(secret.secret), "webhook secret not a token");
    for (size_t j = 0; j < i; ++j) {
      FUZZ_CHECK(config.webhook_secrets[j].id != secret.id &&
                     config.webhook_secrets[j].secret != secret.secret,
                 "webhook secret ids or secrets repeated");
    }
  }
  for (absl::Duration d :
       {config.default_deadline, config.upstream_timeout,
        config.upstream_connect_timeout, config.retry_initial_backoff,
        config.retry_max_backoff, config.retry_max_retry_after,
        config.idempotency_retention, config.webhook_retention,
        config.settle_period, config.reconcile_clock_skew,
        config.reconcile_interval, config.credentials_reload_interval,
        config.shutdown_grace}) {
    FUZZ_CHECK(IsPositiveFinite(d), absl::FormatDuration(d));
  }
  FUZZ_CHECK(config.idempotency_retention >= kMinIdempotencyRetention,
             "retention below 30 days");
  FUZZ_CHECK(config.drain_delay >= absl::ZeroDuration() &&
                 config.drain_delay <= absl::Minutes(5),
             "drain delay out of range");
  FUZZ_CHECK(config.upstream_max_connections >= 1 &&
                 config.upstream_max_connections <= 100000,
             "connections out of range");
  FUZZ_CHECK(config.retry_max_attempts >= 1 && config.retry_max_attempts <= 10,
             "attempts out of range");
  FUZZ_CHECK(config.store_workers >= 1 && config.store_workers <= 64,
             "workers out of range");
  FUZZ_CHECK(
      config.retry_budget_tokens >= 1 && config.retry_budget_tokens <= 1000,
      "budget tokens out of range");
  FUZZ_CHECK(
      config.retry_budget_ratio >= 0.001 && config.retry_budget_ratio <= 1,
      "budget ratio out of range");
  FUZZ_CHECK(config.access_log_sample_ratio >= 0 &&
                 config.access_log_sample_ratio <= 1,
             "sample ratio out of range");
  FUZZ_CHECK(config.max_webhook_body_bytes >= 1 &&
                 config.max_webhook_body_bytes <= kMaxWebhookBodyLimit,
             "webhook body limit out of range");
  const absl::StatusOr<std::string> url =
      ValidateDojoBaseUrl(config.dojo_base_url);
  FUZZ_CHECK(url.ok() && *url == config.dojo_base_url, "base URL not valid");
  FUZZ_CHECK(config.dojo_api_version.size() == 10, "bad API version");
  if (config.tls != TlsMode::kOff) {
    FUZZ_CHECK(!config.tls_cert_file.empty() && !config.tls_key_file.empty(),
               "TLS without certificate or key");
  }
  if (config.tls == TlsMode::kMutual) {
    FUZZ_CHECK(!config.tls_client_ca_file.empty(), "mTLS without client CA");
  }
}

// The distinctive parts of the values no error may quote: keys, webhook
// secrets, PAYMENTS_STORE, DOJO_BASE_URL and the file (a key or list file).
std::vector<std::string> SecretsOf(
    absl::string_view input, const std::map<std::string, std::string>& env,
    absl::string_view file) {
  std::vector<std::string> secrets = DistinctiveTokens(file, input);
  for (const char* name : {"DOJO_API_KEY", "DOJO_WEBHOOK_SECRETS",
                           "PAYMENTS_STORE", "DOJO_BASE_URL"}) {
    if (auto it = env.find(name); it != env.end()) {
      for (std::string& token : DistinctiveTokens(it->second, input)) {
        secrets.push_back(std::move(token));
      }
    }
  }
  return secrets;
}

void CheckLoad(absl::string_view input) {
  absl::string_view env_text = input;
  absl::string_view file;
  if (absl::StartsWith(input, "--\n")) {
    env_text = "";
    file = input.substr(3);
  } else if (const size_t split = input.find("\n--\n");
             split != absl::string_view::npos) {
    env_text = input.substr(0, split);
    file = input.substr(split + 4);
  }
  std::map<std::string, std::string> env;
  for (absl::string_view line : absl::StrSplit(env_text, '\n')) {
    const size_t equals = line.find('=');
    if (equals == absl::string_view::npos) continue;
    env[std::string(line.substr(0, equals))] =
        std::string(line.substr(equals + 1));
  }
  const std::vector<std::string> secrets = SecretsOf(input, env, file);
  env.emplace("PAYMENTS_TLS", "off");
  env.emplace("DOJO_API_KEY", kCanaryKey);
  for (auto& [name, value] : env) {
    if (value == "@file") value = FilePath();
  }
  std::ofstream(FilePath(), std::ios::binary | std::ios::trunc)
      << std::string(file);

  const SettingLookup lookup =
      [&env](absl::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  const absl::StatusOr<ServerConfig> config = LoadServerConfig(lookup);
  if (config.ok()) {
    CheckConfig(*config);
    const absl::StatusOr<Credentials> credentials = LoadCredentials(lookup);
    FUZZ_CHECK(credentials.ok() &&
                   credentials->dojo_accounts == config->dojo_accounts &&
                   credentials->webhook_secrets == config->webhook_secrets,
               "LoadCredentials disagrees with LoadServerConfig");
    return;
  }
  const absl::Status& status = config.status();
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument,
             status.ToString());
  bool names_setting = false;
  for (const SettingSpec& setting : AllSettings()) {
    names_setting |=
        absl::StartsWith(status.message(), absl::StrCat(setting.env, ": "));
  }
  FUZZ_CHECK(names_setting, "error does not start with a setting's name");
  const std::string text = status.ToString();
  if (!absl::StrContains(input, kCanaryKey)) {
    FUZZ_CHECK(!absl::StrContains(text, kCanaryKey), "error echoes the key");
  }
  for (const std::string& secret : secrets) {
    FUZZ_CHECK(!absl::StrContains(text, secret), "error echoes a secret");
  }
}

}  // namespace
}  // namespace payments::config

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // Longer inputs only repeat what 4 KiB covers.
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  using payments::config::ListSeparators;
  payments::config::CheckNamedValues(input, ListSeparators::kNewlines);
  payments::config::CheckNamedValues(input, ListSeparators::kNewlinesAndCommas);
  payments::config::CheckBaseUrl(input.substr(0, input.find('\n')));
  payments::config::CheckLoad(input);
  return 0;
}
