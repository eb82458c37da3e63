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
#include "lib/config/dojo_base_url.h"
#include "lib/config/named_values.h"
#include "lib/config/pem_files.h"
#include "lib/idempotency/store_url.h"

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

// A secret setting's value, given inline (ENV) or as a file (ENV_FILE), and
// the name of the setting it came from, for errors.
struct Secret {
  std::string value;
  absl::string_view setting;
};

absl::StatusOr<std::optional<Secret>> SecretValue(const SettingLookup& lookup,
                                                  absl::string_view env,
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
    return Secret{*std::move(contents), file_env};
  }
  if (inline_value.has_value()) return Secret{*std::move(inline_value), env};
  return std::nullopt;
}

absl::Status LoadAccounts(const SettingLookup& lookup, Credentials& config) {
  absl::StatusOr<std::optional<Secret>> key =
      SecretValue(lookup, "DOJO_API_KEY", "DOJO_API_KEY_FILE");
  if (!key.ok()) return key.status();
  if (!key->has_value()) {
    return Invalid("DOJO_API_KEY",
                   "required (or DOJO_API_KEY_FILE): the default account's "
                   "Dojo secret key");
  }
  const std::string default_key(absl::StripAsciiWhitespace((*key)->value));
  if (!IsSecretToken(default_key)) {
    return Invalid((*key)->setting, absl::StrCat("must be ", kSecretTokenRule));
  }
  config.dojo_accounts.emplace(kDefaultAccount, default_key);

  std::optional<std::string> accounts_file = lookup("DOJO_ACCOUNTS_FILE");
  if (!accounts_file.has_value()) return absl::OkStatus();
  absl::StatusOr<std::string> text =
      ReadWholeFile("DOJO_ACCOUNTS_FILE", *accounts_file);
  if (!text.ok()) return text.status();
  auto entries =
      ParseNamedValues(*text, "DOJO_ACCOUNTS_FILE", ListSeparators::kNewlines);
  if (!entries.ok()) return entries.status();
  std::map<std::string, std::string, std::less<>> where_defined = {
      {std::string(kDefaultAccount), "DOJO_API_KEY"}};
  for (NamedValue& entry : *entries) {
    // Positions only: a malformed line may hold a key where the name
    // should be.
    if (!IsSettingName(entry.name)) {
      return Invalid("DOJO_ACCOUNTS_FILE",
                     absl::StrCat(entry.where, ": the account name must be ",
                                  kSettingNameRule));
    }
    if (!IsSecretToken(entry.value)) {
      return Invalid(
          "DOJO_ACCOUNTS_FILE",
          absl::StrCat(entry.where, ": the key must be ", kSecretTokenRule));
    }
    auto [it, added] = where_defined.emplace(entry.name, entry.where);
    if (!added) {
      return Invalid("DOJO_ACCOUNTS_FILE",
                     absl::StrCat(entry.where, " repeats the account name of ",
                                  it->second));
    }
    config.dojo_accounts.emplace(std::move(entry.name), std::move(entry.value));
  }
  return absl::OkStatus();
}

absl::Status LoadWebhookSecrets(const SettingLookup& lookup,
                                Credentials& config) {
  absl::StatusOr<std::optional<Secret>> text =
      SecretValue(lookup, "DOJO_WEBHOOK_SECRETS", "DOJO_WEBHOOK_SECRETS_FILE");
  if (!text.ok()) return text.status();
  if (!text->has_value()) return absl::OkStatus();
  const absl::string_view setting = (*text)->setting;
  auto entries = ParseNamedValues((*text)->value, setting,
                                  ListSeparators::kNewlinesAndCommas);
  if (!entries.ok()) return entries.status();
  std::vector<std::string> wheres;
  for (NamedValue& entry : *entries) {
    if (!IsSettingName(entry.name)) {
      return Invalid(setting,
                     absl::StrCat(entry.where, ": the secret id must be ",
                                  kSettingNameRule));
    }
    if (!IsSecretToken(entry.value)) {
      return Invalid(setting, absl::StrCat(entry.where, ": the secret must be ",
                                           kSecretTokenRule));
    }
    for (size_t i = 0; i < config.webhook_secrets.size(); ++i) {
      const WebhookSecret& earlier = config.webhook_secrets[i];
      // The same secret twice is a copy-paste slip that hides the secret
      // that was meant (a rotation lists two different secrets).
      if (earlier.id == entry.name || earlier.secret == entry.value) {
        return Invalid(setting,
                       absl::StrCat(entry.where, " repeats the ",
                                    earlier.id == entry.name ? "id" : "secret",
                                    " of ", wheres[i]));
      }
    }
    config.webhook_secrets.push_back(
        {std::move(entry.name), std::move(entry.value)});
    wheres.push_back(std::move(entry.where));
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
  enum class Pem { kCertificates, kPrivateKey };
  struct FileSetting {
    absl::string_view env;
    std::string* field;
    bool required;
    Pem contents;
  };
  std::map<absl::string_view, std::string> pems;
  for (const FileSetting& setting : {
           FileSetting{"PAYMENTS_TLS_CERT_FILE", &config.tls_cert_file,
                       config.tls != TlsMode::kOff, Pem::kCertificates},
           FileSetting{"PAYMENTS_TLS_KEY_FILE", &config.tls_key_file,
                       config.tls != TlsMode::kOff, Pem::kPrivateKey},
           FileSetting{"PAYMENTS_TLS_CLIENT_CA_FILE",
                       &config.tls_client_ca_file,
                       config.tls == TlsMode::kMutual, Pem::kCertificates},
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
    PAYMENTS_RETURN_IF_ERROR(setting.contents == Pem::kCertificates
                                 ? ValidateCertificatesPem(setting.env, *pem)
                                 : ValidatePrivateKeyPem(setting.env, *pem));
    pems[setting.env] = *std::move(pem);
  }
  if (pems.count("PAYMENTS_TLS_CERT_FILE") &&
      pems.count("PAYMENTS_TLS_KEY_FILE")) {
    PAYMENTS_RETURN_IF_ERROR(ValidateKeyMatchesCertificate(
        "PAYMENTS_TLS_KEY_FILE", pems["PAYMENTS_TLS_KEY_FILE"],
        "PAYMENTS_TLS_CERT_FILE", pems["PAYMENTS_TLS_CERT_FILE"]));
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

absl::StatusOr<Credentials> LoadCredentials(const SettingLookup& lookup) {
  Credentials credentials;
  PAYMENTS_RETURN_IF_ERROR(LoadAccounts(lookup, credentials));
  PAYMENTS_RETURN_IF_ERROR(LoadWebhookSecrets(lookup, credentials));
  return credentials;
}

namespace {

// Every duration setting with its bounds: the one place they are decided.
// Below the minimum a setting cannot work (a 1ns deadline fails every call
// before it starts); above the maximum it is surely a typo (an hour-long
// HTTP attempt). `why` is added to the error when the bound has a reason
// the reader needs.
struct DurationSetting {
  absl::string_view env;
  absl::Duration ServerConfig::*field;
  absl::Duration min;
  absl::Duration max;
  absl::string_view why = "";
};

const std::vector<DurationSetting>& DurationSettings() {
  static const auto* const kDurations = new std::vector<DurationSetting>{
      {"PAYMENTS_DEFAULT_DEADLINE", &ServerConfig::default_deadline,
       absl::Milliseconds(10), absl::Hours(1)},
      {"PAYMENTS_UPSTREAM_TIMEOUT", &ServerConfig::upstream_timeout,
       absl::Milliseconds(10), absl::Minutes(10)},
      {"PAYMENTS_UPSTREAM_CONNECT_TIMEOUT",
       &ServerConfig::upstream_connect_timeout, absl::Milliseconds(10),
       absl::Minutes(5)},
      {"PAYMENTS_SHUTDOWN_GRACE", &ServerConfig::shutdown_grace,
       absl::Milliseconds(10), absl::Hours(1)},
      {"PAYMENTS_DRAIN_DELAY", &ServerConfig::drain_delay, absl::ZeroDuration(),
       absl::Minutes(5)},
      {"PAYMENTS_RETRY_INITIAL_BACKOFF", &ServerConfig::retry_initial_backoff,
       absl::Milliseconds(1), absl::Minutes(1)},
      {"PAYMENTS_RETRY_MAX_BACKOFF", &ServerConfig::retry_max_backoff,
       absl::Milliseconds(1), absl::Minutes(10)},
      {"PAYMENTS_RETRY_MAX_RETRY_AFTER", &ServerConfig::retry_max_retry_after,
       absl::Milliseconds(1), absl::Hours(1)},
      {"PAYMENTS_IDEMPOTENCY_RETENTION", &ServerConfig::idempotency_retention,
       kMinIdempotencyRetention, absl::Hours(24 * 3650),
       "a journaled create is kept as long as its intent can be paid"},
      {"PAYMENTS_WEBHOOK_RETENTION", &ServerConfig::webhook_retention,
       absl::Hours(1), absl::Hours(24 * 365),
       "event ids must outlive Dojo's redeliveries"},
      {"PAYMENTS_SETTLE_PERIOD", &ServerConfig::settle_period, absl::Seconds(1),
       absl::Hours(24)},
      {"PAYMENTS_RECONCILE_CLOCK_SKEW", &ServerConfig::reconcile_clock_skew,
       absl::Milliseconds(1), absl::Hours(1)},
      {"PAYMENTS_RECONCILE_INTERVAL", &ServerConfig::reconcile_interval,
       absl::Milliseconds(10), absl::Hours(1)},
      {"PAYMENTS_CREDENTIALS_RELOAD_INTERVAL",
       &ServerConfig::credentials_reload_interval, absl::Milliseconds(100),
       absl::Hours(1)},
  };
  return *kDurations;
}

absl::Status LoadDuration(const DurationSetting& setting,
                          const std::string& text, ServerConfig& config) {
  absl::Duration duration;
  if (!absl::ParseDuration(text, &duration) || duration < setting.min ||
      duration > setting.max) {
    std::string problem = absl::StrCat(
        "expected a duration from ", absl::FormatDuration(setting.min), " to ",
        absl::FormatDuration(setting.max), " such as 30s or 1m30s, got '", text,
        "'");
    if (!setting.why.empty()) absl::StrAppend(&problem, " (", setting.why, ")");
    return Invalid(setting.env, problem);
  }
  config.*setting.field = duration;
  return absl::OkStatus();
}

struct IntSetting {
  absl::string_view env;
  int ServerConfig::*field;
  int min;
  int max;
};

const std::vector<IntSetting>& IntSettings() {
  static const auto* const kInts = new std::vector<IntSetting>{
      {"PAYMENTS_UPSTREAM_MAX_CONNECTIONS",
       &ServerConfig::upstream_max_connections, 1, 100000},
      {"PAYMENTS_RETRY_MAX_ATTEMPTS", &ServerConfig::retry_max_attempts, 1, 10},
      {"PAYMENTS_STORE_WORKERS", &ServerConfig::store_workers, 1, 64},
  };
  return *kInts;
}

struct NumberSetting {
  absl::string_view env;
  double ServerConfig::*field;
  double min;
  double max;
};

const std::vector<NumberSetting>& NumberSettings() {
  static const auto* const kNumbers = new std::vector<NumberSetting>{
      {"PAYMENTS_RETRY_BUDGET_TOKENS", &ServerConfig::retry_budget_tokens, 1,
       1000},
      {"PAYMENTS_RETRY_BUDGET_RATIO", &ServerConfig::retry_budget_ratio, 0.001,
       1},
      {"PAYMENTS_ACCESS_LOG_SAMPLE_RATIO",
       &ServerConfig::access_log_sample_ratio, 0, 1},
  };
  return *kNumbers;
}

absl::Status LoadNumbers(const SettingLookup& lookup, ServerConfig& config) {
  for (const DurationSetting& setting : DurationSettings()) {
    if (std::optional<std::string> text = lookup(setting.env)) {
      PAYMENTS_RETURN_IF_ERROR(LoadDuration(setting, *text, config));
    }
  }
  if (config.retry_max_backoff < config.retry_initial_backoff) {
    return Invalid("PAYMENTS_RETRY_MAX_BACKOFF",
                   "must be at least PAYMENTS_RETRY_INITIAL_BACKOFF");
  }
  for (const IntSetting& setting : IntSettings()) {
    if (std::optional<std::string> text = lookup(setting.env)) {
      int value = 0;
      if (!absl::SimpleAtoi(*text, &value) || value < setting.min ||
          value > setting.max) {
        return Invalid(setting.env,
                       absl::StrCat("expected an integer from ", setting.min,
                                    " to ", setting.max));
      }
      config.*setting.field = value;
    }
  }
  for (const NumberSetting& setting : NumberSettings()) {
    if (std::optional<std::string> text = lookup(setting.env)) {
      double value = 0;
      if (!absl::SimpleAtod(*text, &value) ||
          !(value >= setting.min && value <= setting.max)) {
        return Invalid(setting.env,
                       absl::StrCat("expected a number from ", setting.min,
                                    " to ", setting.max));
      }
      config.*setting.field = value;
    }
  }
  if (std::optional<std::string> text = lookup("PAYMENTS_MAX_WEBHOOK_BYTES")) {
    uint64_t bytes = 0;
    if (!absl::SimpleAtoi(*text, &bytes) || bytes == 0 ||
        bytes > kMaxWebhookBodyLimit) {
      return Invalid(
          "PAYMENTS_MAX_WEBHOOK_BYTES",
          absl::StrCat("expected a byte count from 1 to ", kMaxWebhookBodyLimit,
                       ": a webhook body must fit in a ",
                       "gRPC message (at most ", kMaxReceiveMessageBytes,
                       " bytes) with its headers"));
    }
    config.max_webhook_body_bytes = bytes;
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<DurationBounds> AllDurationBounds() {
  std::vector<DurationBounds> bounds;
  for (const DurationSetting& setting : DurationSettings()) {
    bounds.push_back({setting.env, setting.min, setting.max});
  }
  return bounds;
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
  PAYMENTS_RETURN_IF_ERROR(idempotency::ValidateStoreUrl(config.store));
  absl::StatusOr<std::string> base_url =
      ValidateDojoBaseUrl(config.dojo_base_url);
  if (!base_url.ok()) return base_url.status();
  config.dojo_base_url = *std::move(base_url);
  PAYMENTS_RETURN_IF_ERROR(ValidateApiVersion(config.dojo_api_version));
  if (!config.dojo_ca_file.empty()) {
    absl::StatusOr<std::string> pem =
        ReadWholeFile("DOJO_CA_FILE", config.dojo_ca_file);
    if (!pem.ok()) return pem.status();
    PAYMENTS_RETURN_IF_ERROR(ValidateCertificatesPem("DOJO_CA_FILE", *pem));
  }
  absl::StatusOr<Credentials> credentials = LoadCredentials(lookup);
  if (!credentials.ok()) return credentials.status();
  config.dojo_accounts = std::move(credentials->dojo_accounts);
  config.webhook_secrets = std::move(credentials->webhook_secrets);
  PAYMENTS_RETURN_IF_ERROR(LoadNumbers(lookup, config));
  return config;
}

}  // namespace payments::config
