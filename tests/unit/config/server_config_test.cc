#include "lib/config/server_config.h"

#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace payments::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

constexpr char kKey[] = "sk_sandbox_TOPSECRETKEY_abc123";

class ServerConfigTest : public ::testing::Test {
 protected:
  ServerConfigTest() {
    env_["DOJO_API_KEY"] = kKey;
    env_["PAYMENTS_TLS"] = "off";
  }

  absl::StatusOr<ServerConfig> Load() {
    return LoadServerConfig(
        [this](absl::string_view name) -> std::optional<std::string> {
          auto it = env_.find(std::string(name));
          if (it == env_.end()) return std::nullopt;
          return it->second;
        });
  }

  // Writes `contents` to a fresh file and returns its path.
  std::string File(const std::string& name, const std::string& contents) {
    const std::string path = dir_.File(name);
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  // Expects INVALID_ARGUMENT naming `setting`, and none of `secrets`.
  void ExpectError(absl::string_view setting,
                   const std::vector<std::string>& secrets = {}) {
    absl::StatusOr<ServerConfig> config = Load();
    ASSERT_FALSE(config.ok());
    const absl::Status& status = config.status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()), HasSubstr(std::string(setting)));
    for (const std::string& secret : secrets) {
      EXPECT_THAT(status.ToString(), Not(HasSubstr(secret)))
          << "the error leaks a secret";
    }
    // Never the default key either, whatever the failing setting.
    EXPECT_THAT(status.ToString(), Not(HasSubstr("TOPSECRETKEY")));
  }

  std::map<std::string, std::string> env_;
  payments::testing::TempDir dir_;
};

TEST_F(ServerConfigTest, DefaultsWithOnlyTheApiKey) {
  absl::StatusOr<ServerConfig> config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen_addr, "0.0.0.0:50051");
  EXPECT_EQ(config->metrics_addr, "0.0.0.0:9464");
  EXPECT_EQ(config->store, "sqlite:payments.db");
  EXPECT_EQ(config->dojo_base_url, "https://api.dojo.tech");
  EXPECT_EQ(config->dojo_api_version, "2026-02-27");
  EXPECT_EQ(config->dojo_ca_file, "");
  EXPECT_THAT(config->dojo_accounts, ElementsAre(Pair("default", kKey)));
  EXPECT_TRUE(config->webhook_secrets.empty());
  EXPECT_EQ(config->default_deadline, absl::Seconds(30));
  EXPECT_EQ(config->upstream_timeout, absl::Seconds(20));
  EXPECT_EQ(config->shutdown_grace, absl::Seconds(25));
  EXPECT_EQ(config->max_webhook_body_bytes, 64u * 1024u);
}

TEST_F(ServerConfigTest, EverySettingOverridden) {
  env_["PAYMENTS_LISTEN_ADDR"] = "127.0.0.1:6000";
  env_["PAYMENTS_METRICS_ADDR"] = "[::1]:9000";
  env_["PAYMENTS_STORE"] = "postgresql://payments@db/payments";
  env_["DOJO_BASE_URL"] = "http://localhost:8080";
  env_["DOJO_API_VERSION"] = "2025-09-10";
  env_["DOJO_CA_FILE"] = File("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  env_["DOJO_WEBHOOK_SECRETS"] = "primary=whsec_one";
  env_["PAYMENTS_DEFAULT_DEADLINE"] = "1m30s";
  env_["PAYMENTS_UPSTREAM_TIMEOUT"] = "5s";
  env_["PAYMENTS_SHUTDOWN_GRACE"] = "500ms";
  env_["PAYMENTS_MAX_WEBHOOK_BYTES"] = "1024";
  absl::StatusOr<ServerConfig> config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen_addr, "127.0.0.1:6000");
  EXPECT_EQ(config->metrics_addr, "[::1]:9000");
  EXPECT_EQ(config->store, "postgresql://payments@db/payments");
  EXPECT_EQ(config->dojo_base_url, "http://localhost:8080");
  EXPECT_EQ(config->dojo_api_version, "2025-09-10");
  EXPECT_EQ(config->dojo_ca_file, env_["DOJO_CA_FILE"]);
  ASSERT_EQ(config->webhook_secrets.size(), 1u);
  EXPECT_EQ(config->default_deadline, absl::Seconds(90));
  EXPECT_EQ(config->upstream_timeout, absl::Seconds(5));
  EXPECT_EQ(config->shutdown_grace, absl::Milliseconds(500));
  EXPECT_EQ(config->max_webhook_body_bytes, 1024u);
}

TEST_F(ServerConfigTest, JournalSettings) {
  env_["PAYMENTS_IDEMPOTENCY_RETENTION"] = "2160h";
  env_["PAYMENTS_SETTLE_PERIOD"] = "30m";
  env_["PAYMENTS_RECONCILE_CLOCK_SKEW"] = "1m";
  env_["PAYMENTS_RECONCILE_INTERVAL"] = "500ms";
  absl::StatusOr<ServerConfig> config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->idempotency_retention, absl::Hours(2160));
  EXPECT_EQ(config->settle_period, absl::Minutes(30));
  EXPECT_EQ(config->reconcile_clock_skew, absl::Minutes(1));
  EXPECT_EQ(config->reconcile_interval, absl::Milliseconds(500));
}

TEST_F(ServerConfigTest, RetentionBelowAnIntentsLifeIsRefused) {
  // A record forgotten before its intent expires lets a reused reference
  // create a second intent.
  for (const char* short_retention : {"1s", "24h", "719h59m"}) {
    env_["PAYMENTS_IDEMPOTENCY_RETENTION"] = short_retention;
    ExpectError("PAYMENTS_IDEMPOTENCY_RETENTION");
  }
  env_["PAYMENTS_IDEMPOTENCY_RETENTION"] = "720h";
  EXPECT_TRUE(Load().ok());
}

TEST_F(ServerConfigTest, MissingApiKey) {
  env_.erase("DOJO_API_KEY");
  ExpectError("DOJO_API_KEY");
}

TEST_F(ServerConfigTest, ApiKeyAndFileTogether) {
  env_["DOJO_API_KEY_FILE"] = File("key", "sk_sandbox_FILEKEY_zzz\n");
  ExpectError("DOJO_API_KEY", {"FILEKEY"});
}

TEST_F(ServerConfigTest, ApiKeyFileIsTrimmed) {
  env_.erase("DOJO_API_KEY");
  env_["DOJO_API_KEY_FILE"] = File("key", "sk_sandbox_FILEKEY_zzz\n");
  absl::StatusOr<ServerConfig> config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->dojo_accounts,
              ElementsAre(Pair("default", "sk_sandbox_FILEKEY_zzz")));

  env_["DOJO_API_KEY_FILE"] = File("key2", "  sk_sandbox_FILEKEY_zzz\r\n\n");
  config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->dojo_accounts.at("default"), "sk_sandbox_FILEKEY_zzz");
}

TEST_F(ServerConfigTest, ApiKeyFileUnreadable) {
  env_.erase("DOJO_API_KEY");
  env_["DOJO_API_KEY_FILE"] = dir_.File("does-not-exist");
  ExpectError("DOJO_API_KEY_FILE");
}

TEST_F(ServerConfigTest, ApiKeyMustBeOneToken) {
  for (const char* key :
       {"sk_sandbox_SPLIT KEYPART", "", "   ", "sk_sandbox_NEWLINE\nKEYPART",
        "sk_sandbox_\x7f_DELKEYPART"}) {
    SCOPED_TRACE(key);
    env_["DOJO_API_KEY"] = key;
    ExpectError("DOJO_API_KEY", {"KEYPART"});
  }
}

TEST_F(ServerConfigTest, AccountsFile) {
  env_["DOJO_ACCOUNTS_FILE"] = File("accounts",
                                    "# Dojo location keys\n"
                                    "\n"
                                    "eu-shop=sk_sandbox_eu\n"
                                    "  us_shop = sk_sandbox_us  \r\n"
                                    "   # indented comment\n");
  absl::StatusOr<ServerConfig> config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(
      config->dojo_accounts,
      ElementsAre(Pair("default", kKey), Pair("eu-shop", "sk_sandbox_eu"),
                  Pair("us_shop", "sk_sandbox_us")));
}

TEST_F(ServerConfigTest, AccountsFileErrors) {
  struct Case {
    const char* contents;
    const char* secret;
  };
  for (const Case& c : {
           Case{"eu=sk_sandbox_FIRSTSECRET\neu=sk_sandbox_SECONDSECRET\n",
                "SECRET"},
           Case{"default=sk_sandbox_DUPDEFAULTSECRET\n", "DUPDEFAULTSECRET"},
           Case{"bad name=sk_sandbox_BADNAMESECRET\n", "BADNAMESECRET"},
           Case{"bad.name=sk_sandbox_DOTSECRET\n", "DOTSECRET"},
           Case{"sk_sandbox_BARESECRET\n", "BARESECRET"},
           Case{"=sk_sandbox_NONAMESECRET\n", "NONAMESECRET"},
           Case{"eu=sk sandbox SPACEDSECRET\n", "SPACEDSECRET"},
           Case{"eu=\n", "unused-marker"},
       }) {
    SCOPED_TRACE(c.contents);
    env_["DOJO_ACCOUNTS_FILE"] = File("accounts", c.contents);
    ExpectError("DOJO_ACCOUNTS_FILE", {c.secret});
  }
}

TEST_F(ServerConfigTest, AccountsFileUnreadable) {
  env_["DOJO_ACCOUNTS_FILE"] = dir_.File("missing");
  ExpectError("DOJO_ACCOUNTS_FILE");
}

TEST_F(ServerConfigTest, WebhookSecretsCommaSeparated) {
  env_["DOJO_WEBHOOK_SECRETS"] = "old=whsec_OLD1, new=whsec_NEW2";
  absl::StatusOr<ServerConfig> config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->webhook_secrets.size(), 2u);
  EXPECT_EQ(config->webhook_secrets[0].id, "old");
  EXPECT_EQ(config->webhook_secrets[0].secret, "whsec_OLD1");
  EXPECT_EQ(config->webhook_secrets[1].id, "new");
  EXPECT_EQ(config->webhook_secrets[1].secret, "whsec_NEW2");
}

TEST_F(ServerConfigTest, WebhookSecretsFileNewlineSeparated) {
  env_["DOJO_WEBHOOK_SECRETS_FILE"] = File(
      "secrets", "# rotation\nold=PDYkJQq6sESYHp_zJuTTBQ\n\nnew=whsec_NEW2\n");
  absl::StatusOr<ServerConfig> config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->webhook_secrets.size(), 2u);
  EXPECT_EQ(config->webhook_secrets[0].id, "old");
  EXPECT_EQ(config->webhook_secrets[0].secret, "PDYkJQq6sESYHp_zJuTTBQ");
  EXPECT_EQ(config->webhook_secrets[1].id, "new");
  EXPECT_EQ(config->webhook_secrets[1].secret, "whsec_NEW2");
}

TEST_F(ServerConfigTest, WebhookSecretErrors) {
  for (const char* value : {
           "a=whsec_ZQXONE,a=whsec_ZQXTWO",
           "whsec_ZQXBARE",
           "=whsec_ZQXNOID",
           "bad id=whsec_ZQXBADID",
           "a=whsec_ZQX SPLIT",
           "a=",
       }) {
    SCOPED_TRACE(value);
    env_["DOJO_WEBHOOK_SECRETS"] = value;
    ExpectError("DOJO_WEBHOOK_SECRETS", {"ZQX"});
  }
}

TEST_F(ServerConfigTest, WebhookSecretsInlineAndFileTogether) {
  env_["DOJO_WEBHOOK_SECRETS"] = "a=whsec_INLINESECRET";
  env_["DOJO_WEBHOOK_SECRETS_FILE"] = File("s", "b=whsec_FILESECRET\n");
  ExpectError("DOJO_WEBHOOK_SECRETS", {"INLINESECRET", "FILESECRET"});
}

TEST_F(ServerConfigTest, BadListenAddresses) {
  for (const char* address : {"nohostport", "localhost:", ":50051",
                              "host:99999", "host:-1", "host:http"}) {
    SCOPED_TRACE(address);
    env_["PAYMENTS_LISTEN_ADDR"] = address;
    ExpectError("PAYMENTS_LISTEN_ADDR");
  }
  env_["PAYMENTS_LISTEN_ADDR"] = "0.0.0.0:50051";
  env_["PAYMENTS_METRICS_ADDR"] = "metrics";
  ExpectError("PAYMENTS_METRICS_ADDR");
}

TEST_F(ServerConfigTest, GoodListenAddresses) {
  for (const char* address :
       {"0.0.0.0:0", "localhost:65535", "[::]:50051", "unix-host:1"}) {
    SCOPED_TRACE(address);
    env_["PAYMENTS_LISTEN_ADDR"] = address;
    EXPECT_TRUE(Load().ok());
  }
}

TEST_F(ServerConfigTest, BadApiVersion) {
  for (const char* version :
       {"latest", "20240101", "2024-13-01", "2024-02-30x", "24-02-05", ""}) {
    SCOPED_TRACE(version);
    env_["DOJO_API_VERSION"] = version;
    ExpectError("DOJO_API_VERSION");
  }
}

TEST_F(ServerConfigTest, BadDurations) {
  for (const char* setting :
       {"PAYMENTS_DEFAULT_DEADLINE", "PAYMENTS_UPSTREAM_TIMEOUT",
        "PAYMENTS_SHUTDOWN_GRACE"}) {
    for (const char* value : {"0s", "-1s", "abc", "30", "", "1x"}) {
      SCOPED_TRACE(std::string(setting) + "=" + value);
      env_[setting] = value;
      ExpectError(setting);
    }
    env_.erase(setting);
  }
}

// absl::ParseDuration accepts "inf": an infinite default deadline or
// upstream timeout would let calls hang forever (DESIGN: every outbound call
// has a deadline), and an infinite grace would never finish a shutdown.
TEST_F(ServerConfigTest, InfiniteDurationsAreRejected) {
  for (const char* setting :
       {"PAYMENTS_DEFAULT_DEADLINE", "PAYMENTS_UPSTREAM_TIMEOUT",
        "PAYMENTS_SHUTDOWN_GRACE"}) {
    SCOPED_TRACE(setting);
    env_[setting] = "inf";
    ExpectError(setting);
    env_.erase(setting);
  }
}

TEST_F(ServerConfigTest, BadMaxWebhookBytes) {
  for (const char* value : {"0", "-1", "abc", "16777217", "1k"}) {
    SCOPED_TRACE(value);
    env_["PAYMENTS_MAX_WEBHOOK_BYTES"] = value;
    ExpectError("PAYMENTS_MAX_WEBHOOK_BYTES");
  }
  env_["PAYMENTS_MAX_WEBHOOK_BYTES"] = "16777216";
  ASSERT_TRUE(Load().ok());
  EXPECT_EQ(Load()->max_webhook_body_bytes, 16777216u);
}

TEST_F(ServerConfigTest, RetrySettings) {
  env_["PAYMENTS_RETRY_MAX_ATTEMPTS"] = "5";
  env_["PAYMENTS_RETRY_BUDGET_RATIO"] = "0.5";
  env_["PAYMENTS_RETRY_INITIAL_BACKOFF"] = "250ms";
  absl::StatusOr<ServerConfig> config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->retry_max_attempts, 5);
  EXPECT_DOUBLE_EQ(config->retry_budget_ratio, 0.5);
  EXPECT_EQ(config->retry_initial_backoff, absl::Milliseconds(250));
  for (const char* value : {"0", "11", "x", "-1", "2.5"}) {
    SCOPED_TRACE(value);
    env_["PAYMENTS_RETRY_MAX_ATTEMPTS"] = value;
    ExpectError("PAYMENTS_RETRY_MAX_ATTEMPTS");
  }
  env_.erase("PAYMENTS_RETRY_MAX_ATTEMPTS");
  for (const char* value : {"0", "2", "nan", "x"}) {
    SCOPED_TRACE(value);
    env_["PAYMENTS_RETRY_BUDGET_RATIO"] = value;
    ExpectError("PAYMENTS_RETRY_BUDGET_RATIO");
  }
}

TEST_F(ServerConfigTest, AccessLogSampleRatio) {
  ASSERT_TRUE(Load().ok());
  EXPECT_DOUBLE_EQ(Load()->access_log_sample_ratio, 1.0);  // every call
  for (const char* value : {"0", "0.25", "1"}) {
    SCOPED_TRACE(value);
    env_["PAYMENTS_ACCESS_LOG_SAMPLE_RATIO"] = value;
    absl::StatusOr<ServerConfig> config = Load();
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_DOUBLE_EQ(config->access_log_sample_ratio, std::stod(value));
  }
  for (const char* value : {"-0.1", "1.5", "nan", "x", ""}) {
    SCOPED_TRACE(value);
    env_["PAYMENTS_ACCESS_LOG_SAMPLE_RATIO"] = value;
    ExpectError("PAYMENTS_ACCESS_LOG_SAMPLE_RATIO");
  }
}

TEST_F(ServerConfigTest, BaseUrl) {
  env_["DOJO_BASE_URL"] = "http://localhost:8080/";
  ASSERT_TRUE(Load().ok());
  EXPECT_EQ(Load()->dojo_base_url, "http://localhost:8080");
  env_["DOJO_BASE_URL"] = "https://api.dojo.tech//";
  ASSERT_TRUE(Load().ok());
  EXPECT_EQ(Load()->dojo_base_url, "https://api.dojo.tech");
  for (const char* url :
       {"ftp://api.dojo.tech", "api.dojo.tech", "", "/", "HTTPS//x"}) {
    SCOPED_TRACE(url);
    env_["DOJO_BASE_URL"] = url;
    ExpectError("DOJO_BASE_URL");
  }
}

TEST_F(ServerConfigTest, Store) {
  for (const char* store :
       {"sqlite:/var/lib/payments/payments.db", "sqlite:payments.db",
        "postgresql://payments:pw@db:5432/payments", "postgres://db/p"}) {
    SCOPED_TRACE(store);
    env_["PAYMENTS_STORE"] = store;
    absl::StatusOr<ServerConfig> config = Load();
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->store, store);
  }
  for (const char* store : {"sqlite:", "", "payments.db",
                            "mysql://payments:HUNTER2PASSWORD@db/payments"}) {
    SCOPED_TRACE(store);
    env_["PAYMENTS_STORE"] = store;
    ExpectError("PAYMENTS_STORE", {"HUNTER2PASSWORD"});
  }
}

TEST_F(ServerConfigTest, CaFileMustBeReadable) {
  env_["DOJO_CA_FILE"] = dir_.File("no-such-ca.pem");
  ExpectError("DOJO_CA_FILE");
}

constexpr char kPemCert[] =
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
constexpr char kPemKey[] =
    "-----BEGIN PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END PRIVATE "
    "KEY-----\n";

TEST_F(ServerConfigTest, TlsIsRequired) {
  for (const char* missing : {"unset", ""}) {
    SCOPED_TRACE(missing);
    if (std::string(missing) == "unset") {
      env_.erase("PAYMENTS_TLS");
    } else {
      env_["PAYMENTS_TLS"] = missing;
    }
    absl::StatusOr<ServerConfig> config = Load();
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(config.status().message()),
                HasSubstr("PAYMENTS_TLS: required"));
    EXPECT_THAT(std::string(config.status().message()), HasSubstr("'mtls'"));
  }
}

TEST_F(ServerConfigTest, TlsModeMustBeKnown) {
  for (const char* mode : {"on", "true", "mTLS-please", "1"}) {
    SCOPED_TRACE(mode);
    env_["PAYMENTS_TLS"] = mode;
    absl::StatusOr<ServerConfig> config = Load();
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(config.status().message()),
                HasSubstr("PAYMENTS_TLS"));
    EXPECT_THAT(
        std::string(config.status().message()),
        HasSubstr(absl::StrCat("expected mtls, tls or off, got '", mode, "'")));
  }
}

TEST_F(ServerConfigTest, TlsModes) {
  env_["PAYMENTS_TLS"] = "OFF";  // case-insensitive
  absl::StatusOr<ServerConfig> config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->tls, TlsMode::kOff);

  env_["PAYMENTS_TLS"] = "tls";
  env_["PAYMENTS_TLS_CERT_FILE"] = File("server.pem", kPemCert);
  env_["PAYMENTS_TLS_KEY_FILE"] = File("server.key", kPemKey);
  config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->tls, TlsMode::kTls);
  EXPECT_EQ(config->tls_cert_file, env_["PAYMENTS_TLS_CERT_FILE"]);
  EXPECT_EQ(config->tls_key_file, env_["PAYMENTS_TLS_KEY_FILE"]);
  EXPECT_EQ(config->tls_client_ca_file, "");

  env_["PAYMENTS_TLS"] = "mtls";
  env_["PAYMENTS_TLS_CLIENT_CA_FILE"] = File("client-ca.pem", kPemCert);
  config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->tls, TlsMode::kMutual);
  EXPECT_EQ(config->tls_client_ca_file, env_["PAYMENTS_TLS_CLIENT_CA_FILE"]);
}

TEST_F(ServerConfigTest, TlsFilesRequiredByTheMode) {
  env_["PAYMENTS_TLS"] = "tls";
  ExpectError("PAYMENTS_TLS_CERT_FILE: required with PAYMENTS_TLS=tls");
  env_["PAYMENTS_TLS_CERT_FILE"] = File("server.pem", kPemCert);
  ExpectError("PAYMENTS_TLS_KEY_FILE: required with PAYMENTS_TLS=tls");
  env_["PAYMENTS_TLS_KEY_FILE"] = File("server.key", kPemKey);
  ASSERT_TRUE(Load().ok());

  env_["PAYMENTS_TLS"] = "mtls";
  ExpectError("PAYMENTS_TLS_CLIENT_CA_FILE: required with PAYMENTS_TLS=mtls");
  env_["PAYMENTS_TLS_CLIENT_CA_FILE"] = "";
  ExpectError("PAYMENTS_TLS_CLIENT_CA_FILE: required with PAYMENTS_TLS=mtls");
}

TEST_F(ServerConfigTest, TlsFilesMustBeReadable) {
  env_["PAYMENTS_TLS"] = "mtls";
  env_["PAYMENTS_TLS_CERT_FILE"] = File("server.pem", kPemCert);
  env_["PAYMENTS_TLS_KEY_FILE"] = File("server.key", kPemKey);
  env_["PAYMENTS_TLS_CLIENT_CA_FILE"] = File("client-ca.pem", kPemCert);
  ASSERT_TRUE(Load().ok());
  for (const char* setting : {"PAYMENTS_TLS_CERT_FILE", "PAYMENTS_TLS_KEY_FILE",
                              "PAYMENTS_TLS_CLIENT_CA_FILE"}) {
    SCOPED_TRACE(setting);
    const std::string good = env_[setting];
    const std::string missing = dir_.File("no-such-file.pem");
    env_[setting] = missing;
    ExpectError(absl::StrCat(setting, ": cannot read ", missing));
    env_[setting] = dir_.path();  // a directory is refused too
    ExpectError(setting);
    env_[setting] = good;
  }
}

TEST_F(ServerConfigTest, TlsFilesMustBePem) {
  env_["PAYMENTS_TLS"] = "mtls";
  env_["PAYMENTS_TLS_CERT_FILE"] = File("server.pem", kPemCert);
  env_["PAYMENTS_TLS_KEY_FILE"] = File("server.key", kPemKey);
  env_["PAYMENTS_TLS_CLIENT_CA_FILE"] = File("client-ca.pem", kPemCert);
  for (const char* setting : {"PAYMENTS_TLS_CERT_FILE", "PAYMENTS_TLS_KEY_FILE",
                              "PAYMENTS_TLS_CLIENT_CA_FILE"}) {
    SCOPED_TRACE(setting);
    const std::string good = env_[setting];
    env_[setting] =
        File("der.bin", std::string("\x30\x82\x01\x0aRAWDERKEYBYTES", 18));
    ExpectError(absl::StrCat(setting, ": expected a PEM file"),
                {"RAWDERKEYBYTES"});
    env_[setting] = File("empty.pem", "");
    ExpectError(absl::StrCat(setting, ": expected a PEM file"));
    env_[setting] = good;
  }
  // The key's contents never appear in an error.
  env_["PAYMENTS_TLS_KEY_FILE"] = File("text.key", "HUNTER2NOTAPEMKEY\n");
  ExpectError("PAYMENTS_TLS_KEY_FILE: expected a PEM file",
              {"HUNTER2NOTAPEMKEY"});
}

TEST_F(ServerConfigTest, TlsFilesNamedWithTlsOffAreStillChecked) {
  // With PAYMENTS_TLS=off an empty file setting is fine...
  env_["PAYMENTS_TLS_CLIENT_CA_FILE"] = "";
  ASSERT_TRUE(Load().ok());
  // ...but a named file must still be a readable PEM file.
  env_["PAYMENTS_TLS_CLIENT_CA_FILE"] = dir_.File("missing-ca.pem");
  ExpectError("PAYMENTS_TLS_CLIENT_CA_FILE: cannot read");
}

TEST_F(ServerConfigTest, PolicyFileMustBeReadable) {
  env_["PAYMENTS_POLICY_FILE"] = File("policy.json", "{}");
  absl::StatusOr<ServerConfig> config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->policy_file, env_["PAYMENTS_POLICY_FILE"]);
  env_["PAYMENTS_POLICY_FILE"] = dir_.File("no-such-policy.json");
  ExpectError("PAYMENTS_POLICY_FILE: cannot read");
}

TEST(ParseNamedValues, SeparatorsCommentsAndTrimming) {
  auto entries = ParseNamedValues("a=1, b = 2 \n#c=3\n\n d=x=y ", "TEST", true);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_THAT(*entries,
              ElementsAre(Pair("a", "1"), Pair("b", "2"), Pair("d", "x=y")));
  auto no_commas = ParseNamedValues("a=1,b=2\nc=3", "TEST", false);
  ASSERT_TRUE(no_commas.ok());
  EXPECT_THAT(*no_commas, ElementsAre(Pair("a", "1,b=2"), Pair("c", "3")));
}

TEST(ParseNamedValues, ErrorNamesTheEntryNotItsValue) {
  auto entries = ParseNamedValues("a=1\nsk_prod_BARESECRET\n",
                                  "DOJO_ACCOUNTS_FILE", false);
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(entries.status().message()),
              HasSubstr("DOJO_ACCOUNTS_FILE"));
  EXPECT_THAT(std::string(entries.status().message()), HasSubstr("entry 2"));
  EXPECT_THAT(std::string(entries.status().message()),
              Not(HasSubstr("BARESECRET")));
}

TEST(AllSettings, SecretsAreMarkedAndHaveNoFlag) {
  std::map<std::string, const SettingSpec*> by_env;
  for (const SettingSpec& spec : AllSettings()) {
    by_env[std::string(spec.env)] = &spec;
  }
  for (const char* env :
       {"PAYMENTS_LISTEN_ADDR", "PAYMENTS_METRICS_ADDR", "PAYMENTS_STORE",
        "DOJO_BASE_URL", "DOJO_API_KEY", "DOJO_API_KEY_FILE",
        "DOJO_ACCOUNTS_FILE", "DOJO_API_VERSION", "DOJO_CA_FILE",
        "DOJO_WEBHOOK_SECRETS", "DOJO_WEBHOOK_SECRETS_FILE"}) {
    EXPECT_TRUE(by_env.count(env)) << env;
  }
  EXPECT_TRUE(by_env.at("DOJO_API_KEY")->secret);
  EXPECT_TRUE(by_env.at("DOJO_WEBHOOK_SECRETS")->secret);
  // A secret passed as a flag would show in `ps` and shell history.
  EXPECT_EQ(by_env.at("DOJO_API_KEY")->flag, "");
  EXPECT_EQ(by_env.at("DOJO_WEBHOOK_SECRETS")->flag, "");
  EXPECT_FALSE(by_env.at("DOJO_API_KEY_FILE")->secret);
}

}  // namespace
}  // namespace payments::config
