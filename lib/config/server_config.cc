#include "lib/config/server_config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lib/common/status_macros.h"

namespace payments::config {
namespace {

absl::Status Invalid(absl::string_view setting, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(setting, ": ", problem));
}

absl::StatusOr<std::string> ReadWholeFile(absl::string_view setting,
                                          const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Invalid(setting, absl::StrCat("cannot read ", path));
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// host:port with a port in 0..65535; host may be a bracketed IPv6 address.
absl::Status ValidateAddress(absl::string_view setting,
                             const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return Invalid(setting,
                   absl::StrCat("expected host:port, got '", address, "'"));
  }
  return absl::OkStatus();
}

// API keys and secrets travel in HTTP headers or HMAC keys: printable ASCII
// without spaces, so a stray newline from a file cannot split a header.
bool IsTokenSafe(absl::string_view value) {
  if (value.empty()) return false;
  for (char c : value) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

bool IsAccountName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

absl::Status ValidateApiVersion(const std::string& version) {
  // yyyy-mm-dd
  absl::Time parsed;
  std::string error;
  if (version.size() != 10 ||
      !absl::ParseTime("%Y-%m-%d", version, &parsed, &error)) {
    return Invalid("DOJO_API_VERSION",
                   absl::StrCat("expected yyyy-mm-dd, got '", version, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Duration> ParsePositiveDuration(absl::string_view setting,
                                                     const std::string& text) {
  absl::Duration duration;
  if (!absl::ParseDuration(text, &duration) ||
      duration <= absl::ZeroDuration() ||
      duration == absl::InfiniteDuration()) {
    return Invalid(setting, absl::StrCat("expected a positive duration such "
                                         "as 30s or 1m30s, got '",
                                         text, "'"));
  }
  return duration;
}

// The value of a secret setting given inline (ENV) or as a file (ENV_FILE).
absl::StatusOr<std::optional<std::string>> SecretValue(
    const SettingLookup& lookup, absl::string_view env,
    absl::string_view file_env) {
  std::optional<std::string> inline_value = lookup(env);
  std::optional<std::string> file = lookup(file_env);
  if (inline_value.has_value() && file.has_value()) {
    return Invalid(
        env, absl::StrCat("set either ", env, " or ", file_env, ", not both"));
  }
  if (file.has_value()) {
    absl::StatusOr<std::string> contents = ReadWholeFile(file_env, *file);
    if (!contents.ok()) return contents.status();
    return std::optional<std::string>(*std::move(contents));
  }
  return inline_value;
}

absl::Status LoadAccounts(const SettingLookup& lookup, Credentials& config) {
  absl::StatusOr<std::optional<std::string>> key =
      SecretValue(lookup, "DOJO_API_KEY", "DOJO_API_KEY_FILE");
  if (!key.ok()) return key.status();
  if (!key->has_value()) {
    return Invalid("DOJO_API_KEY",
                   "required (or DOJO_API_KEY_FILE): the default account's "
                   "Dojo secret key");
  }
  const std::string default_key(absl::StripAsciiWhitespace(**key));
  if (!IsTokenSafe(default_key)) {
    return Invalid("DOJO_API_KEY", "must be one printable token");
  }
  config.dojo_accounts.emplace(kDefaultAccount, default_key);

  std::optional<std::string> accounts_file = lookup("DOJO_ACCOUNTS_FILE");
  if (!accounts_file.has_value()) return absl::OkStatus();
  absl::StatusOr<std::string> text =
      ReadWholeFile("DOJO_ACCOUNTS_FILE", *accounts_file);
  if (!text.ok()) return text.status();
  auto entries = ParseNamedValues(*text, "DOJO_ACCOUNTS_FILE",
                                  /*allow_commas=*/false);
  if (!entries.ok()) return entries.status();
  for (auto& [name, api_key] : *entries) {
    if (!IsAccountName(name)) {
      return Invalid("DOJO_ACCOUNTS_FILE",
                     absl::StrCat("account name '", name,
                                  "' must be 1-64 of [A-Za-z0-9_-]"));
    }
    if (!IsTokenSafe(api_key)) {
      return Invalid("DOJO_ACCOUNTS_FILE",
                     absl::StrCat("key of account '", name,
                                  "' must be one printable token"));
    }
    if (!config.dojo_accounts.emplace(name, api_key).second) {
      return Invalid("DOJO_ACCOUNTS_FILE",
                     absl::StrCat("account '", name, "' is defined twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status LoadWebhookSecrets(const SettingLookup& lookup,
                                Credentials& config) {
  absl::StatusOr<std::optional<std::string>> text =
      SecretValue(lookup, "DOJO_WEBHOOK_SECRETS", "DOJO_WEBHOOK_SECRETS_FILE");
  if (!text.ok()) return text.status();
  if (!text->has_value()) return absl::OkStatus();
  auto entries = ParseNamedValues(**text, "DOJO_WEBHOOK_SECRETS",
                                  /*allow_commas=*/true);
  if (!entries.ok()) return entries.status();
  for (auto& [id, secret] : *entries) {
    if (!IsAccountName(id)) {
      return Invalid(
          "DOJO_WEBHOOK_SECRETS",
          absl::StrCat("secret id '", id, "' must be 1-64 of [A-Za-z0-9_-]"));
    }
    if (!IsTokenSafe(secret)) {
      return Invalid(
          "DOJO_WEBHOOK_SECRETS",
          absl::StrCat("secret '", id, "' must be one printable token"));
    }
    for (const WebhookSecret& existing : config.webhook_secrets) {
      if (existing.id == id) {
        return Invalid("DOJO_WEBHOOK_SECRETS",
                       absl::StrCat("secret id '", id, "' is defined twice"));
      }
    }
    config.webhook_secrets.push_back({id, secret});
  }
  return absl::OkStatus();
}

absl::Status LoadTls(const SettingLookup& lookup, ServerConfig& config) {
  const std::optional<std::string> mode = lookup("PAYMENTS_TLS");
  if (!mode.has_value() || mode->empty()) {
    return Invalid("PAYMENTS_TLS",
                   "required: 'mtls' (client certificates required), 'tls', "
                   "or 'off' for plaintext (local runs and tests only)");
  }
  const std::string value = absl::AsciiStrToLower(*mode);
  if (value == "off") {
    config.tls = TlsMode::kOff;
  } else if (value == "tls") {
    config.tls = TlsMode::kTls;
  } else if (value == "mtls") {
    config.tls = TlsMode::kMutual;
  } else {
    return Invalid("PAYMENTS_TLS", absl::StrCat("expected mtls, tls or off, "
                                                "got '",
                                                *mode, "'"));
  }
  struct FileSetting {
    absl::string_view env;
    std::string* field;
    bool required;
  };
  for (const FileSetting& setting : {
           FileSetting{"PAYMENTS_TLS_CERT_FILE", &config.tls_cert_file,
                       config.tls != TlsMode::kOff},
           FileSetting{"PAYMENTS_TLS_KEY_FILE", &config.tls_key_file,
                       config.tls != TlsMode::kOff},
           FileSetting{"PAYMENTS_TLS_CLIENT_CA_FILE",
                       &config.tls_client_ca_file,
                       config.tls == TlsMode::kMutual},
       }) {
    if (std::optional<std::string> path = lookup(setting.env)) {
      *setting.field = *path;
    }
    if (setting.field->empty()) {
      if (setting.required) {
        return Invalid(setting.env,
                       absl::StrCat("required with PAYMENTS_TLS=", value));
      }
      continue;
    }
    // Never echo the contents: the key file is a secret.
    absl::StatusOr<std::string> pem =
        ReadWholeFile(setting.env, *setting.field);
    if (!pem.ok()) return pem.status();
    if (!absl::StrContains(*pem, "-----BEGIN ")) {
      return Invalid(setting.env, "expected a PEM file");
    }
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<SettingSpec>& AllSettings() {
  static const auto* const kSettings = new std::vector<SettingSpec>{
      {"PAYMENTS_LISTEN_ADDR", "listen_addr"},
      {"PAYMENTS_HEALTH_ADDR", "health_addr"},
      {"PAYMENTS_TLS", "tls"},
      {"PAYMENTS_TLS_CERT_FILE", "tls_cert_file"},
      {"PAYMENTS_TLS_KEY_FILE", "tls_key_file"},
      {"PAYMENTS_TLS_CLIENT_CA_FILE", "tls_client_ca_file"},
      {"PAYMENTS_POLICY_FILE", "policy_file"},
      {"PAYMENTS_METRICS_ADDR", "metrics_addr"},
      {"PAYMENTS_STORE", "store"},
      {"DOJO_BASE_URL", "dojo_base_url"},
      {"DOJO_API_KEY", "", /*secret=*/true},
      {"DOJO_API_KEY_FILE", "dojo_api_key_file"},
      {"DOJO_ACCOUNTS_FILE", "dojo_accounts_file"},
      {"DOJO_API_VERSION", "dojo_api_version"},
      {"DOJO_CA_FILE", "dojo_ca_file"},
      {"DOJO_WEBHOOK_SECRETS", "", /*secret=*/true},
      {"DOJO_WEBHOOK_SECRETS_FILE", "dojo_webhook_secrets_file"},
      {"PAYMENTS_DEFAULT_DEADLINE", "default_deadline"},
      {"PAYMENTS_UPSTREAM_TIMEOUT", "upstream_timeout"},
      {"PAYMENTS_SHUTDOWN_GRACE", "shutdown_grace"},
      {"PAYMENTS_UPSTREAM_MAX_CONNECTIONS", "upstream_max_connections"},
      {"PAYMENTS_UPSTREAM_CONNECT_TIMEOUT", "upstream_connect_timeout"},
      {"PAYMENTS_RETRY_MAX_ATTEMPTS", "retry_max_attempts"},
      {"PAYMENTS_RETRY_INITIAL_BACKOFF", "retry_initial_backoff"},
      {"PAYMENTS_RETRY_MAX_BACKOFF", "retry_max_backoff"},
      {"PAYMENTS_RETRY_MAX_RETRY_AFTER", "retry_max_retry_after"},
      {"PAYMENTS_RETRY_BUDGET_TOKENS", "retry_budget_tokens"},
      {"PAYMENTS_RETRY_BUDGET_RATIO", "retry_budget_ratio"},
      {"PAYMENTS_IDEMPOTENCY_RETENTION", "idempotency_retention"},
      {"PAYMENTS_WEBHOOK_RETENTION", "webhook_retention"},
      {"PAYMENTS_STORE_WORKERS", "store_workers"},
      {"PAYMENTS_SETTLE_PERIOD", "settle_period"},
      {"PAYMENTS_RECONCILE_CLOCK_SKEW", "reconcile_clock_skew"},
      {"PAYMENTS_RECONCILE_INTERVAL", "reconcile_interval"},
      {"PAYMENTS_CREDENTIALS_RELOAD_INTERVAL", "credentials_reload_interval"},
      {"PAYMENTS_DRAIN_DELAY", "drain_delay"},
      {"PAYMENTS_MAX_WEBHOOK_BYTES", "max_webhook_bytes"},
      {"PAYMENTS_ACCESS_LOG_SAMPLE_RATIO", "access_log_sample_ratio"},
  };
  return *kSettings;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
ParseNamedValues(absl::string_view text, absl::string_view what,
                 bool allow_commas) {
  std::vector<std::pair<std::string, std::string>> entries;
  const absl::string_view separators = allow_commas ? "\n," : "\n";
  int number = 0;
  for (absl::string_view entry :
       absl::StrSplit(text, absl::ByAnyChar(separators))) {
    ++number;
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty() || absl::StartsWith(entry, "#")) continue;
    const size_t equals = entry.find('=');
    if (equals == absl::string_view::npos || equals == 0) {
      // Never echo the entry: it may be a bare secret.
      return Invalid(what, absl::StrCat("entry ", number,
                                        " is not of the form name=value"));
    }
    entries.emplace_back(
        std::string(absl::StripAsciiWhitespace(entry.substr(0, equals))),
        std::string(absl::StripAsciiWhitespace(entry.substr(equals + 1))));
  }
  return entries;
}

absl::StatusOr<Credentials> LoadCredentials(const SettingLookup& lookup) {
  Credentials credentials;
  PAYMENTS_RETURN_IF_ERROR(LoadAccounts(lookup, credentials));
  PAYMENTS_RETURN_IF_ERROR(LoadWebhookSecrets(lookup, credentials));
  return credentials;
}

absl::StatusOr<ServerConfig> LoadServerConfig(const SettingLookup& lookup) {
  ServerConfig config;
  auto take = [&](absl::string_view env, std::string& field) {
    if (std::optional<std::string> value = lookup(env)) field = *value;
  };
  take("PAYMENTS_LISTEN_ADDR", config.listen_addr);
  take("PAYMENTS_METRICS_ADDR", config.metrics_addr);
  take("PAYMENTS_STORE", config.store);
  take("DOJO_BASE_URL", config.dojo_base_url);
  take("DOJO_API_VERSION", config.dojo_api_version);
  take("DOJO_CA_FILE", config.dojo_ca_file);

  PAYMENTS_RETURN_IF_ERROR(
      ValidateAddress("PAYMENTS_LISTEN_ADDR", config.listen_addr));
  take("PAYMENTS_HEALTH_ADDR", config.health_addr);
  if (!config.health_addr.empty()) {
    PAYMENTS_RETURN_IF_ERROR(
        ValidateAddress("PAYMENTS_HEALTH_ADDR", config.health_addr));
  }
  PAYMENTS_RETURN_IF_ERROR(LoadTls(lookup, config));
  take("PAYMENTS_POLICY_FILE", config.policy_file);
  if (!config.policy_file.empty()) {
    // Only readability here; the policy's own validation is
    // lib/auth/caller_policy.h, at start and on every reload.
    PAYMENTS_RETURN_IF_ERROR(
        ReadWholeFile("PAYMENTS_POLICY_FILE", config.policy_file).status());
  }
  PAYMENTS_RETURN_IF_ERROR(
      ValidateAddress("PAYMENTS_METRICS_ADDR", config.metrics_addr));
  if (!(absl::StartsWith(config.store, "sqlite:") && config.store.size() > 7) &&
      !absl::StartsWith(config.store, "postgresql://") &&
      !absl::StartsWith(config.store, "postgres://")) {
    // Only the scheme is named: a PostgreSQL URL may carry a password.
    return Invalid("PAYMENTS_STORE",
                   "expected sqlite:<path> or postgresql://...");
  }
  while (absl::EndsWith(config.dojo_base_url, "/")) {
    config.dojo_base_url.pop_back();
  }
  if (!absl::StartsWith(config.dojo_base_url, "https://") &&
      !absl::StartsWith(config.dojo_base_url, "http://")) {
    return Invalid("DOJO_BASE_URL", "expected an http:// or https:// URL");
  }
  PAYMENTS_RETURN_IF_ERROR(ValidateApiVersion(config.dojo_api_version));
  if (!config.dojo_ca_file.empty()) {
    PAYMENTS_RETURN_IF_ERROR(
        ReadWholeFile("DOJO_CA_FILE", config.dojo_ca_file).status());
  }
  absl::StatusOr<Credentials> credentials = LoadCredentials(lookup);
  if (!credentials.ok()) return credentials.status();
  config.dojo_accounts = std::move(credentials->dojo_accounts);
  config.webhook_secrets = std::move(credentials->webhook_secrets);

  struct DurationSetting {
    absl::string_view env;
    absl::Duration* field;
  };
  for (const DurationSetting& setting : {
           DurationSetting{"PAYMENTS_DEFAULT_DEADLINE",
                           &config.default_deadline},
           DurationSetting{"PAYMENTS_UPSTREAM_TIMEOUT",
                           &config.upstream_timeout},
           DurationSetting{"PAYMENTS_SHUTDOWN_GRACE", &config.shutdown_grace},
           DurationSetting{"PAYMENTS_UPSTREAM_CONNECT_TIMEOUT",
                           &config.upstream_connect_timeout},
           DurationSetting{"PAYMENTS_RETRY_INITIAL_BACKOFF",
                           &config.retry_initial_backoff},
           DurationSetting{"PAYMENTS_RETRY_MAX_BACKOFF",
                           &config.retry_max_backoff},
           DurationSetting{"PAYMENTS_RETRY_MAX_RETRY_AFTER",
                           &config.retry_max_retry_after},
           DurationSetting{"PAYMENTS_IDEMPOTENCY_RETENTION",
                           &config.idempotency_retention},
           DurationSetting{"PAYMENTS_WEBHOOK_RETENTION",
                           &config.webhook_retention},
           DurationSetting{"PAYMENTS_CREDENTIALS_RELOAD_INTERVAL",
                           &config.credentials_reload_interval},
           DurationSetting{"PAYMENTS_SETTLE_PERIOD", &config.settle_period},
           DurationSetting{"PAYMENTS_RECONCILE_CLOCK_SKEW",
                           &config.reconcile_clock_skew},
           DurationSetting{"PAYMENTS_RECONCILE_INTERVAL",
                           &config.reconcile_interval},
       }) {
    if (std::optional<std::string> text = lookup(setting.env)) {
      absl::StatusOr<absl::Duration> parsed =
          ParsePositiveDuration(setting.env, *text);
      if (!parsed.ok()) return parsed.status();
      *setting.field = *parsed;
    }
  }
  if (config.idempotency_retention < kMinIdempotencyRetention) {
    return Invalid("PAYMENTS_IDEMPOTENCY_RETENTION",
                   "must be at least 720h: a journaled create is kept as long "
                   "as its intent can be paid");
  }
  struct IntSetting {
    absl::string_view env;
    int* field;
    int min;
    int max;
  };
  for (const IntSetting& setting : {
           IntSetting{"PAYMENTS_UPSTREAM_MAX_CONNECTIONS",
                      &config.upstream_max_connections, 1, 100000},
           IntSetting{"PAYMENTS_RETRY_MAX_ATTEMPTS", &config.retry_max_attempts,
                      1, 10},
           IntSetting{"PAYMENTS_STORE_WORKERS", &config.store_workers, 1, 64},
       }) {
    if (std::optional<std::string> text = lookup(setting.env)) {
      if (!absl::SimpleAtoi(*text, setting.field) ||
          *setting.field < setting.min || *setting.field > setting.max) {
        return Invalid(setting.env,
                       absl::StrCat("expected an integer from ", setting.min,
                                    " to ", setting.max));
      }
    }
  }
  struct RatioSetting {
    absl::string_view env;
    double* field;
    double min;
    double max;
  };
  for (const RatioSetting& setting : {
           RatioSetting{"PAYMENTS_RETRY_BUDGET_TOKENS",
                        &config.retry_budget_tokens, 1, 1000},
           RatioSetting{"PAYMENTS_RETRY_BUDGET_RATIO",
                        &config.retry_budget_ratio, 0.001, 1},
           RatioSetting{"PAYMENTS_ACCESS_LOG_SAMPLE_RATIO",
                        &config.access_log_sample_ratio, 0, 1},
       }) {
    if (std::optional<std::string> text = lookup(setting.env)) {
      if (!absl::SimpleAtod(*text, setting.field) ||
          !(*setting.field >= setting.min && *setting.field <= setting.max)) {
        return Invalid(setting.env,
                       absl::StrCat("expected a number from ", setting.min,
                                    " to ", setting.max));
      }
    }
  }
  if (std::optional<std::string> text = lookup("PAYMENTS_DRAIN_DELAY")) {
    if (!absl::ParseDuration(*text, &config.drain_delay) ||
        config.drain_delay < absl::ZeroDuration() ||
        config.drain_delay > absl::Minutes(5)) {
      return Invalid("PAYMENTS_DRAIN_DELAY",
                     "expected a duration from 0s to 5m, e.g. 5s");
    }
  }
  if (std::optional<std::string> text = lookup("PAYMENTS_MAX_WEBHOOK_BYTES")) {
    uint64_t bytes = 0;
    if (!absl::SimpleAtoi(*text, &bytes) || bytes == 0 ||
        bytes > 16 * 1024 * 1024) {
      return Invalid("PAYMENTS_MAX_WEBHOOK_BYTES",
                     "expected a byte count between 1 and 16777216");
    }
    config.max_webhook_body_bytes = bytes;
  }
  return config;
}

}  // namespace payments::config
