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
#include "lib/config/dojo_base_url.h"
#include "lib/config/named_values.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/config/test_pems.h"

namespace payments::config {
namespace {

using ::payments::config::testing::kCertA;
using ::payments::config::testing::kCertB;
using ::payments::config::testing::kEncryptedKeyA;
using ::payments::config::testing::kKeyA;
using ::payments::config::testing::kKeyB;
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
  env_["DOJO_CA_FILE"] = File("ca.pem", kCertA);
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

// An error about a secret list names the setting and the entry's position,
// never any part of it: a malformed entry may be a bare secret, or a
// secret written where the id belongs.
TEST_F(ServerConfigTest, WebhookSecretErrorsGiveThePositionOnly) {
  struct Case {
    const char* value;
    const char* message;
  };
  for (const Case& c : {
           Case{"ok=whsec_fine,prim+ary_ZQXSECRET=whsec_x",
                "DOJO_WEBHOOK_SECRETS: entry 2: the secret id must be 1-64 of "
                "[A-Za-z0-9_-], not starting with sk_"},
           Case{"ZQXBARESECRET",
                "DOJO_WEBHOOK_SECRETS: entry 1 is not of the form name=value"},
           Case{"a=whsec_ZQX SPLIT",
                "DOJO_WEBHOOK_SECRETS: entry 1: the secret must be one token "
                "of printable ASCII without blanks, quotes or commas, with "
                "'=' only as trailing padding"},
       }) {
    SCOPED_TRACE(c.value);
    env_["DOJO_WEBHOOK_SECRETS"] = c.value;
    absl::StatusOr<ServerConfig> config = Load();
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(config.status().message(), c.message);
  }
}

// Lists that could be read more than one way are refused, so the server
// never starts with secrets other than those meant.
TEST_F(ServerConfigTest, AmbiguousWebhookSecretListsAreRefused) {
  struct Case {
    const char* value;
    const char* problem;
  };
  for (const Case& c : {
           // A bare base64 secret splits at its padding into a valid id
           // and the secret "=".
           Case{"c2VjcmV0ZQXc2VjcmV0==", "entry 1: the secret must be"},
           Case{"a=whsec_ZQXONE,#b=whsec_ZQXTWO",
                "entry 2: the secret id must be"},
           Case{"a=whsec_ZQXONE,,b=whsec_ZQXTWO",
                "entry 2 is empty (a stray comma)"},
           Case{"a=whsec_ZQXONE,", "entry 2 is empty (a stray comma)"},
           Case{",a=whsec_ZQXONE", "entry 1 is empty (a stray comma)"},
           Case{"a=\"whsec_ZQXQUOTED\"", "entry 1: the secret must be"},
           Case{"a='whsec_ZQXQUOTED'", "entry 1: the secret must be"},
           Case{"a=whsec_ZQXONE;b=whsec_ZQXTWO", "entry 1: the secret must be"},
           Case{"a==whsec_ZQXONE", "entry 1: the secret must be"},
           Case{"a=whsec_ZQXSAME,b=whsec_ZQXSAME",
                "entry 2 repeats the secret of entry 1"},
           Case{"a=whsec_ZQXONE,a=whsec_ZQXTWO",
                "entry 2 repeats the id of entry 1"},
       }) {
    SCOPED_TRACE(c.value);
    env_["DOJO_WEBHOOK_SECRETS"] = c.value;
    ExpectError(absl::StrCat("DOJO_WEBHOOK_SECRETS: ", c.problem), {"ZQX"});
  }
}

TEST_F(ServerConfigTest, WebhookSecretsFileErrorsNameTheFileSettingAndLine) {
  env_["DOJO_WEBHOOK_SECRETS_FILE"] =
      File("secrets", "# rotation\nold=whsec_ZQXSAME\n\nnew=whsec_ZQXSAME\n");
  ExpectError(
      "DOJO_WEBHOOK_SECRETS_FILE: entry 2 (line 4) repeats the secret of "
      "entry 1 (line 2)",
      {"ZQX"});
}

TEST_F(ServerConfigTest, WebhookSecretsMayEndInBase64Padding) {
  env_["DOJO_WEBHOOK_SECRETS"] = "a=c2VjcmV0MQ==, b=c2VjcmV0Mg=";
  absl::StatusOr<ServerConfig> config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->webhook_secrets,
              ElementsAre(WebhookSecret{"a", "c2VjcmV0MQ=="},
                          WebhookSecret{"b", "c2VjcmV0Mg="}));
}

TEST_F(ServerConfigTest, AccountsFileErrorsGiveThePositionOnly) {
  env_["DOJO_ACCOUNTS_FILE"] =
      File("accounts", "eu=sk_sandbox_eu\nsk_prod_ZQX+KEY=part\n");
  absl::StatusOr<ServerConfig> config = Load();
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "DOJO_ACCOUNTS_FILE: entry 2 (line 2): the account name must be "
            "1-64 of [A-Za-z0-9_-], not starting with sk_");
  // A Dojo key where the name belongs would be logged as an account name.
  env_["DOJO_ACCOUNTS_FILE"] =
      File("accounts", "sk_prod_ZQXKEYASNAME=sk_prod_other\n");
  ExpectError("DOJO_ACCOUNTS_FILE: entry 1: the account name must be", {"ZQX"});
  env_["DOJO_ACCOUNTS_FILE"] = File("accounts", "SK_x=sk_prod_ZQX\n");
  ExpectError("DOJO_ACCOUNTS_FILE: entry 1: the account name must be", {"ZQX"});
  env_["DOJO_ACCOUNTS_FILE"] =
      File("accounts", "eu=sk_sandbox_ZQXA\neu=sk_sandbox_ZQXB\n");
  ExpectError(
      "DOJO_ACCOUNTS_FILE: entry 2 (line 2) repeats the account name of "
      "entry 1 (line 1)",
      {"ZQX"});
  env_["DOJO_ACCOUNTS_FILE"] = File("accounts", "default=sk_sandbox_ZQXA\n");
  ExpectError(
      "DOJO_ACCOUNTS_FILE: entry 1 repeats the account name of DOJO_API_KEY",
      {"ZQX"});
}

TEST_F(ServerConfigTest, QuotedApiKeyIsRefusedNamingItsSource) {
  env_["DOJO_API_KEY"] = "\"sk_sandbox_ZQXQUOTED\"";
  ExpectError("DOJO_API_KEY: must be one token", {"ZQX"});
  env_.erase("DOJO_API_KEY");
  env_["DOJO_API_KEY_FILE"] = File("key", "'sk_sandbox_ZQXQUOTED'\n");
  ExpectError("DOJO_API_KEY_FILE: must be one token", {"ZQX"});
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

// Every duration setting has bounds; below them it cannot work (a 1ns
// default deadline fails every call before it starts).
TEST_F(ServerConfigTest, DurationsBelowTheirMinimumAreRefused) {
  struct Case {
    const char* setting;
    const char* too_small;
    const char* smallest;
    const char* too_large;
  };
  for (const Case& c : {
           Case{"PAYMENTS_DEFAULT_DEADLINE", "9ms", "10ms", "1h1s"},
           Case{"PAYMENTS_UPSTREAM_TIMEOUT", "9ms", "10ms", "11m"},
           Case{"PAYMENTS_UPSTREAM_CONNECT_TIMEOUT", "9ms", "10ms", "6m"},
           Case{"PAYMENTS_SHUTDOWN_GRACE", "9ms", "10ms", "2h"},
           Case{"PAYMENTS_DRAIN_DELAY", "-1ns", "0s", "5m1s"},
           Case{"PAYMENTS_RETRY_INITIAL_BACKOFF", "999us", "1ms", "2m"},
           Case{"PAYMENTS_RETRY_MAX_BACKOFF", "999us", "100ms", "11m"},
           Case{"PAYMENTS_RETRY_MAX_RETRY_AFTER", "999us", "1ms", "2h"},
           Case{"PAYMENTS_IDEMPOTENCY_RETENTION", "719h", "720h", "87601h"},
           Case{"PAYMENTS_WEBHOOK_RETENTION", "59m", "1h", "8761h"},
           Case{"PAYMENTS_SETTLE_PERIOD", "999ms", "1s", "25h"},
           Case{"PAYMENTS_RECONCILE_CLOCK_SKEW", "999us", "1ms", "2h"},
           Case{"PAYMENTS_RECONCILE_INTERVAL", "9ms", "10ms", "2h"},
           Case{"PAYMENTS_CREDENTIALS_RELOAD_INTERVAL", "99ms", "100ms", "2h"},
       }) {
    SCOPED_TRACE(c.setting);
    for (const char* bad : {"1ns", c.too_small, c.too_large, "inf", "-inf"}) {
      if (std::string(c.setting) == "PAYMENTS_DRAIN_DELAY" &&
          std::string(bad) == "1ns") {
        continue;  // no drain delay at all is allowed
      }
      SCOPED_TRACE(bad);
      env_[c.setting] = bad;
      ExpectError(absl::StrCat(c.setting, ": expected a duration from "));
    }
    env_[c.setting] = c.smallest;
    absl::StatusOr<ServerConfig> config = Load();
    EXPECT_TRUE(config.ok()) << config.status();
    env_.erase(c.setting);
  }
}

TEST_F(ServerConfigTest, DurationErrorGivesTheBounds) {
  env_["PAYMENTS_DEFAULT_DEADLINE"] = "1ns";
  absl::StatusOr<ServerConfig> config = Load();
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "PAYMENTS_DEFAULT_DEADLINE: expected a duration from 10ms to 1h "
            "such as 30s or 1m30s, got '1ns'");
}

TEST_F(ServerConfigTest, MaxBackoffBelowInitialBackoffIsRefused) {
  env_["PAYMENTS_RETRY_INITIAL_BACKOFF"] = "500ms";
  env_["PAYMENTS_RETRY_MAX_BACKOFF"] = "200ms";
  ExpectError(
      "PAYMENTS_RETRY_MAX_BACKOFF: must be at least "
      "PAYMENTS_RETRY_INITIAL_BACKOFF");
  env_["PAYMENTS_RETRY_MAX_BACKOFF"] = "500ms";
  EXPECT_TRUE(Load().ok());
}

TEST_F(ServerConfigTest, BadMaxWebhookBytes) {
  for (const char* value : {"0", "-1", "abc", "16777217", "1k"}) {
    SCOPED_TRACE(value);
    env_["PAYMENTS_MAX_WEBHOOK_BYTES"] = value;
    ExpectError("PAYMENTS_MAX_WEBHOOK_BYTES");
  }
  env_["PAYMENTS_MAX_WEBHOOK_BYTES"] = "1048576";
  ASSERT_TRUE(Load().ok());
  EXPECT_EQ(Load()->max_webhook_body_bytes, 1048576u);
}

// gRPC refuses a message over its receive limit with RESOURCE_EXHAUSTED
// before VerifyWebhook sees it: a webhook limit above it cannot work.
TEST_F(ServerConfigTest, WebhookLimitMustFitInAGrpcMessage) {
  for (size_t bytes : {kMaxReceiveMessageBytes, kMaxWebhookBodyLimit + 1,
                       size_t{16 * 1024 * 1024}}) {
    SCOPED_TRACE(bytes);
    env_["PAYMENTS_MAX_WEBHOOK_BYTES"] = absl::StrCat(bytes);
    ExpectError(
        absl::StrCat("PAYMENTS_MAX_WEBHOOK_BYTES: expected a byte "
                     "count from 1 to ",
                     kMaxWebhookBodyLimit));
  }
  env_["PAYMENTS_MAX_WEBHOOK_BYTES"] = absl::StrCat(kMaxWebhookBodyLimit);
  absl::StatusOr<ServerConfig> config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->max_webhook_body_bytes, kMaxWebhookBodyLimit);
  EXPECT_LT(kMaxWebhookBodyLimit, kMaxReceiveMessageBytes);
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
  struct Case {
    const char* url;
    const char* normalized;
  };
  for (const Case& c : {
           Case{"http://localhost:8080/", "http://localhost:8080"},
           Case{"https://api.dojo.tech//", "https://api.dojo.tech"},
           Case{"https://proxy.internal:8443/dojo/",
                "https://proxy.internal:8443/dojo"},
           Case{"HTTP://LOCALHOST:1", "http://LOCALHOST:1"},
           Case{"htTps://api.dojo.tech", "https://api.dojo.tech"},
           Case{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
           Case{"http://127.255.0.9", "http://127.255.0.9"},
           Case{"http://[::1]:8080/", "http://[::1]:8080"},
           Case{"https://[2001:db8::1]:443", "https://[2001:db8::1]:443"},
       }) {
    SCOPED_TRACE(c.url);
    env_["DOJO_BASE_URL"] = c.url;
    absl::StatusOr<ServerConfig> config = Load();
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->dojo_base_url, c.normalized);
  }
  for (const char* url :
       {"ftp://api.dojo.tech", "api.dojo.tech", "", "/", "HTTPS//x", "https://",
        "https:///x", "https://:443", "https://api.dojo.tech:0",
        "https://api.dojo.tech:65536", "https://api.dojo.tech:x",
        "https://api.dojo.tech:", "https://[::1", "https://[nothex]:1",
        "https://api dojo.tech", "https://api.dojo.tech/a b",
        "https://api.dojo.tech\\@evil", "https://ap\xc3\xad.dojo.tech"}) {
    SCOPED_TRACE(url);
    env_["DOJO_BASE_URL"] = url;
    ExpectError("DOJO_BASE_URL");
  }
}

// Credentials in the URL would be logged (the "started" line) and sent to
// Dojo: refused, without quoting any of the URL.
TEST_F(ServerConfigTest, BaseUrlWithUserinfoIsRefusedWithoutEchoingIt) {
  for (const char* url :
       {"https://ZQXUSER:ZQXPASS@api.dojo.tech/",
        "https://ZQXTOKEN@api.dojo.tech",
        "http://ZQXUSER:ZQXPASS@localhost:8080", "https://:ZQXPASS@[::1]:1",
        "ftp://ZQXUSER:ZQXPASS@api.dojo.tech",
        "https://ZQXUSER:ZQXPASS@api.dojo.tech/?q=1"}) {
    SCOPED_TRACE(url);
    env_["DOJO_BASE_URL"] = url;
    ExpectError("DOJO_BASE_URL: must not contain credentials (user:password@)",
                {"ZQX"});
  }
}

TEST_F(ServerConfigTest, PlainHttpOnlyToLoopback) {
  for (const char* url :
       {"http://api.dojo.tech", "http://dojo-emulator:8080",
        "http://10.0.0.1:8080", "http://128.0.0.1", "http://[::2]:80",
        "http://[::ffff:10.0.0.1]", "http://localhost.evil.example",
        "http://127.0.0.1.evil.example", "http://127.1", "http://0.0.0.0",
        "HTTP://api.dojo.tech", "hTtP://api.dojo.tech"}) {
    SCOPED_TRACE(url);
    env_["DOJO_BASE_URL"] = url;
    ExpectError("DOJO_BASE_URL: http:// is allowed only for a loopback host");
  }
}

TEST_F(ServerConfigTest, BaseUrlWithQueryOrFragmentIsRefused) {
  for (const char* url :
       {"https://api.dojo.tech/?x=1", "https://api.dojo.tech#f",
        "https://api.dojo.tech/v1?", "http://localhost:8080/#"}) {
    SCOPED_TRACE(url);
    env_["DOJO_BASE_URL"] = url;
    ExpectError("DOJO_BASE_URL: must not have a query (?) or fragment (#)");
  }
}

TEST(IsLoopbackHost, Hosts) {
  for (const char* host : {"localhost", "LocalHost", "127.0.0.1",
                           "127.10.20.30", "127.255.255.255", "::1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host :
       {"", "localhost.", "localhost.example", "126.0.0.1", "128.0.0.1",
        "127.1", "::", "::2", "0:0:0:0:0:0:0:2", "[::1]", "api.dojo.tech"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST_F(ServerConfigTest, Store) {
  for (const char* store :
       {"sqlite:/var/lib/payments/payments.db", "sqlite:payments.db",
        "postgresql://payments:pw@db:5432/payments", "postgres://db/p",
        "postgresql://u:pw@db/p?sslmode=verify-full&target_session_attrs="
        "read-write",
        "postgresql://u@h1:5432,h2:5433/p?sslmode=require",
        "postgresql://u@h1,h2/p?port=5432",
        "postgresql://u@/p?host=/var/run/postgresql"}) {
    SCOPED_TRACE(store);
    env_["PAYMENTS_STORE"] = store;
    absl::StatusOr<ServerConfig> config = Load();
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->store, store);
  }
  for (const char* store : {"sqlite:", "", "payments.db",
                            "mysql://payments:HUNTER2PASSWORD@db/payments",
                            "host=db password=HUNTER2PASSWORD"}) {
    SCOPED_TRACE(store);
    env_["PAYMENTS_STORE"] = store;
    ExpectError("PAYMENTS_STORE", {"HUNTER2PASSWORD"});
  }
}

// libpq checks these values only when it connects: the server used to
// start and stay NOT_SERVING forever. Now start-up fails, naming the option
// and never the password (in the userinfo or as a query parameter).
TEST_F(ServerConfigTest, PostgresOptionsThatCannotConnectAreRefused) {
  struct Case {
    const char* store;
    const char* message;
  };
  for (const Case& c : {
           Case{"postgresql://u:HUNTER2PW@db/p?sslmode=bogus",
                "PAYMENTS_STORE: sslmode must be one of disable, allow, "
                "prefer, require, verify-ca, verify-full"},
           Case{"postgresql://u@db/p?password=HUNTER2PW&sslmode=Require",
                "PAYMENTS_STORE: sslmode must be one of"},
           Case{"postgres://u:HUNTER2PW@db/p?gssencmode=always",
                "PAYMENTS_STORE: gssencmode must be one of"},
           Case{"postgresql://u:HUNTER2PW@db/p?channel_binding=yes",
                "PAYMENTS_STORE: channel_binding must be one of"},
           Case{"postgresql://u:HUNTER2PW@db/p?target_session_attrs=master",
                "PAYMENTS_STORE: target_session_attrs must be one of"},
           Case{"postgresql://u:HUNTER2PW@db:99999/p",
                "PAYMENTS_STORE: each port must be a number from 1 to 65535"},
           Case{"postgresql://u:HUNTER2PW@db/p?port=x5432",
                "PAYMENTS_STORE: each port must be a number"},
           Case{"postgresql://u:HUNTER2PW@h1:1,h2:2,h3:3/p?host=a,b",
                "PAYMENTS_STORE: give one port, or one port per host"},
           Case{"postgresql://u:HUNTER2PW@db/p?sslmod=require",
                "PAYMENTS_STORE: libpq cannot parse"},
           Case{"postgresql://u:HUNTER2PW%zz@db/p",
                "PAYMENTS_STORE: libpq cannot parse"},
       }) {
    SCOPED_TRACE(c.store);
    env_["PAYMENTS_STORE"] = c.store;
    ExpectError(c.message, {"HUNTER2PW", "bogus", "always", "master"});
  }
}

TEST_F(ServerConfigTest, CaFileMustBeReadable) {
  env_["DOJO_CA_FILE"] = dir_.File("no-such-ca.pem");
  ExpectError("DOJO_CA_FILE");
}

// A CA file is parsed with OpenSSL at start-up: one that holds no
// certificate, or one that does not parse, would fail every TLS handshake
// with Dojo (or every caller's) later.
TEST_F(ServerConfigTest, CaFilesMustHoldCertificates) {
  const std::string truncated =
      std::string(kCertA).substr(0, std::string(kCertA).size() / 2);
  std::string corrupted = kCertA;
  corrupted.replace(corrupted.find("MIIB"), 8, "AAAAAAAA");
  struct Case {
    std::string contents;
    const char* problem;
  };
  for (const Case& c : {
           Case{"garbage\n", "at least one certificate; none found"},
           Case{"", "at least one certificate; none found"},
           Case{kKeyA, "at least one certificate; none found"},
           Case{
               "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
               "certificates; certificate 1 does not parse"},
           Case{truncated, "certificates; certificate 1 does not parse"},
           Case{std::string(kCertA) + corrupted,
                "certificates; certificate 2 does not parse"},
       }) {
    SCOPED_TRACE(c.contents);
    for (const char* setting : {"DOJO_CA_FILE", "PAYMENTS_TLS_CLIENT_CA_FILE",
                                "PAYMENTS_TLS_CERT_FILE"}) {
      SCOPED_TRACE(setting);
      env_[setting] = File("ca.pem", c.contents);
      ExpectError(
          absl::StrCat(setting, ": expected a PEM file with ", c.problem));
      env_.erase(setting);
    }
  }
  // A bundle of several certificates (and other PEM blocks) is fine.
  env_["DOJO_CA_FILE"] =
      File("bundle.pem", std::string(kCertA) + kKeyB + kCertB);
  absl::StatusOr<ServerConfig> config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
}

TEST_F(ServerConfigTest, TlsKeyMustBeUnencryptedAndMatchTheCertificate) {
  env_["PAYMENTS_TLS"] = "tls";
  env_["PAYMENTS_TLS_CERT_FILE"] = File("server.pem", kCertA);
  env_["PAYMENTS_TLS_KEY_FILE"] = File("server.key", kKeyA);
  ASSERT_TRUE(Load().ok());
  env_["PAYMENTS_TLS_KEY_FILE"] = File("enc.key", kEncryptedKeyA);
  ExpectError(
      "PAYMENTS_TLS_KEY_FILE: expected a PEM file with an unencrypted "
      "private key");
  env_["PAYMENTS_TLS_KEY_FILE"] = File("cert-as-key.pem", kCertA);
  ExpectError("PAYMENTS_TLS_KEY_FILE: expected a PEM file");
  env_["PAYMENTS_TLS_KEY_FILE"] = File("other.key", kKeyB);
  ExpectError(
      "PAYMENTS_TLS_KEY_FILE: the private key does not belong to the first "
      "certificate of PAYMENTS_TLS_CERT_FILE",
      {"PRIVATE KEY"});
}

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
  env_["PAYMENTS_TLS_CERT_FILE"] = File("server.pem", kCertA);
  env_["PAYMENTS_TLS_KEY_FILE"] = File("server.key", kKeyA);
  config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->tls, TlsMode::kTls);
  EXPECT_EQ(config->tls_cert_file, env_["PAYMENTS_TLS_CERT_FILE"]);
  EXPECT_EQ(config->tls_key_file, env_["PAYMENTS_TLS_KEY_FILE"]);
  EXPECT_EQ(config->tls_client_ca_file, "");

  env_["PAYMENTS_TLS"] = "mtls";
  env_["PAYMENTS_TLS_CLIENT_CA_FILE"] = File("client-ca.pem", kCertA);
  config = Load();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->tls, TlsMode::kMutual);
  EXPECT_EQ(config->tls_client_ca_file, env_["PAYMENTS_TLS_CLIENT_CA_FILE"]);
}

TEST_F(ServerConfigTest, TlsFilesRequiredByTheMode) {
  env_["PAYMENTS_TLS"] = "tls";
  ExpectError("PAYMENTS_TLS_CERT_FILE: required with PAYMENTS_TLS=tls");
  env_["PAYMENTS_TLS_CERT_FILE"] = File("server.pem", kCertA);
  ExpectError("PAYMENTS_TLS_KEY_FILE: required with PAYMENTS_TLS=tls");
  env_["PAYMENTS_TLS_KEY_FILE"] = File("server.key", kKeyA);
  ASSERT_TRUE(Load().ok());

  env_["PAYMENTS_TLS"] = "mtls";
  ExpectError("PAYMENTS_TLS_CLIENT_CA_FILE: required with PAYMENTS_TLS=mtls");
  env_["PAYMENTS_TLS_CLIENT_CA_FILE"] = "";
  ExpectError("PAYMENTS_TLS_CLIENT_CA_FILE: required with PAYMENTS_TLS=mtls");
}

TEST_F(ServerConfigTest, TlsFilesMustBeReadable) {
  env_["PAYMENTS_TLS"] = "mtls";
  env_["PAYMENTS_TLS_CERT_FILE"] = File("server.pem", kCertA);
  env_["PAYMENTS_TLS_KEY_FILE"] = File("server.key", kKeyA);
  env_["PAYMENTS_TLS_CLIENT_CA_FILE"] = File("client-ca.pem", kCertA);
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
  env_["PAYMENTS_TLS_CERT_FILE"] = File("server.pem", kCertA);
  env_["PAYMENTS_TLS_KEY_FILE"] = File("server.key", kKeyA);
  env_["PAYMENTS_TLS_CLIENT_CA_FILE"] = File("client-ca.pem", kCertA);
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

MATCHER_P3(Entry, name, value, where, "") {
  return arg.name == name && arg.value == value && arg.where == where;
}

TEST(ParseNamedValues, SeparatorsCommentsAndTrimming) {
  auto entries = ParseNamedValues("a=1, b = 2 \n#c=3\n\n d=x=y ", "TEST",
                                  ListSeparators::kNewlinesAndCommas);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_THAT(*entries, ElementsAre(Entry("a", "1", "entry 1 (line 1)"),
                                    Entry("b", "2", "entry 2 (line 1)"),
                                    Entry("d", "x=y", "entry 3 (line 4)")));
  auto no_commas =
      ParseNamedValues("a=1,b=2\nc=3", "TEST", ListSeparators::kNewlines);
  ASSERT_TRUE(no_commas.ok());
  EXPECT_THAT(*no_commas, ElementsAre(Entry("a", "1,b=2", "entry 1 (line 1)"),
                                      Entry("c", "3", "entry 2 (line 2)")));
  // One line (an inline value, or a file with a final newline): no line.
  auto one_line = ParseNamedValues("a=1,b=2\r\n", "TEST",
                                   ListSeparators::kNewlinesAndCommas);
  ASSERT_TRUE(one_line.ok());
  EXPECT_THAT(*one_line, ElementsAre(Entry("a", "1", "entry 1"),
                                     Entry("b", "2", "entry 2")));
}

TEST(ParseNamedValues, ErrorNamesTheEntryNotItsValue) {
  auto entries =
      ParseNamedValues("a=1\nsk_prod_BARESECRET\n", "DOJO_ACCOUNTS_FILE",
                       ListSeparators::kNewlines);
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(entries.status().message(),
            "DOJO_ACCOUNTS_FILE: entry 2 (line 2) is not of the form "
            "name=value");
}

// Empty entries next to a comma and '#' after a comma are errors: in
// "a=x,,b=y" or "a=x,#b=y" a secret was cut or silently commented out.
TEST(ParseNamedValues, StrayCommasAreErrors) {
  for (const char* text : {"a=x,,b=y", ",a=x", "a=x,", "a=x, ,b=y"}) {
    SCOPED_TRACE(text);
    auto entries =
        ParseNamedValues(text, "S", ListSeparators::kNewlinesAndCommas);
    ASSERT_FALSE(entries.ok());
    EXPECT_EQ(entries.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(entries.status().message()),
                HasSubstr("is empty (a stray comma)"));
  }
}

TEST(IsSecretToken, AcceptsBase64AndKeys) {
  for (const char* value :
       {"PDYkJQq6sESYHp_zJuTTBQ", "sk_sandbox_c8oLGaI__msxsX",
        "c2VjcmV0==", "YWJj+/x=", "whsec_local#1"}) {
    EXPECT_TRUE(IsSecretToken(value)) << value;
  }
}

TEST(IsSecretToken, RefusesAmbiguousValues) {
  for (const char* value :
       {"", "=", "==", "=abc", "x=b=y", "x;b=y", "\"quoted\"", "'quoted'",
        "a,b", "a b", "a\tb", "caf\xc3\xa9", "`x`"}) {
    EXPECT_FALSE(IsSecretToken(value)) << value;
  }
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
