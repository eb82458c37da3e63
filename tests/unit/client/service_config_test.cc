#include "client/service_config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace payments::client {
namespace {

using ::testing::UnorderedElementsAre;

TEST(ServiceConfigTest, RetriesOnlyReadsOnUnavailableWithThrottling) {
  RetryOptions retry;
  retry.max_attempts = 3;
  retry.initial_backoff = absl::Milliseconds(250);
  retry.max_backoff = absl::Seconds(2);
  retry.backoff_multiplier = 1.5;
  retry.throttle_max_tokens = 20;
  retry.throttle_token_ratio = 0.25;
  const nlohmann::json config = nlohmann::json::parse(ServiceConfigJson(retry));

  ASSERT_EQ(config["methodConfig"].size(), 1u);
  const nlohmann::json& method = config["methodConfig"][0];
  std::vector<std::string> names;
  for (const auto& name : method["name"]) {
    names.push_back(name["service"].get<std::string>() + "/" +
                    name["method"].get<std::string>());
  }
  EXPECT_THAT(names,
              UnorderedElementsAre("payments.v1.PaymentsService/GetIntent",
                                   "payments.v1.PaymentsService/GetRefund",
                                   "payments.v1.PaymentsService/ListIntents",
                                   "payments.v1.PaymentsService/VerifyWebhook",
                                   "grpc.health.v1.Health/Check"));
  const nlohmann::json& policy = method["retryPolicy"];
  EXPECT_EQ(policy["maxAttempts"], 3);
  EXPECT_EQ(policy["initialBackoff"], "0.250s");
  EXPECT_EQ(policy["maxBackoff"], "2.000s");
  EXPECT_EQ(policy["backoffMultiplier"], 1.5);
  EXPECT_EQ(policy["retryableStatusCodes"], nlohmann::json({"UNAVAILABLE"}));
  EXPECT_EQ(config["retryThrottling"]["maxTokens"], 20);
  EXPECT_EQ(config["retryThrottling"]["tokenRatio"], 0.25);
}

TEST(ServiceConfigTest, NeverRetriesWrites) {
  for (const std::string& method : RetriedMethods()) {
    for (const char* write :
         {"Create", "Refresh", "Cancel", "Capture", "Reverse", "Refund"}) {
      if (method == "payments.v1.PaymentsService/GetRefund") continue;
      EXPECT_EQ(method.find(write), std::string::npos) << method;
    }
  }
}

TEST(ServiceConfigTest, DisabledRetriesGiveAnEmptyConfig) {
  EXPECT_EQ(ServiceConfigJson({.enabled = false}), "{}");
}

TEST(ClientOptionsTest, Validation) {
  EXPECT_TRUE(ValidateClientOptions({}).ok());
  ClientOptions options;
  options.default_deadline = absl::ZeroDuration();
  EXPECT_EQ(ValidateClientOptions(options).code(),
            absl::StatusCode::kInvalidArgument);
  options = {};
  options.tls.cert_file = "c.pem";
  options.tls.enabled = true;
  EXPECT_FALSE(ValidateClientOptions(options).ok());  // key missing
  options.tls.key_file = "k.pem";
  EXPECT_TRUE(ValidateClientOptions(options).ok());
  options.tls.enabled = false;
  EXPECT_FALSE(ValidateClientOptions(options).ok());  // forgot TLS
  options = {};
  options.retry.max_attempts = 6;
  EXPECT_FALSE(ValidateClientOptions(options).ok());
}

}  // namespace
}  // namespace payments::client
