#include "client/service_config.h"

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace payments::client {
namespace {

using ::testing::UnorderedElementsAre;

std::string ReadSourceFile(const std::string& path) {
  std::ifstream in(std::string(PROJECT_SOURCE_DIR) + "/" + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The library carries proto/service_config.json byte for byte: the file the
// other languages' clients load is the one the C++ channel uses.
TEST(ServiceConfigTest, LibraryUsesTheServiceConfigFile) {
  const std::string file = ReadSourceFile("proto/service_config.json");
  ASSERT_FALSE(file.empty());
  EXPECT_EQ(DefaultServiceConfigJson(), file);
  EXPECT_EQ(ServiceConfigJson({}), file);
}

TEST(ServiceConfigTest, RetriesOnlyReadsWithThrottling) {
  const nlohmann::json config =
      nlohmann::json::parse(DefaultServiceConfigJson());
  EXPECT_THAT(RetriedMethods(),
              UnorderedElementsAre("payments.v1.PaymentsService/GetIntent",
                                   "payments.v1.PaymentsService/GetRefund",
                                   "payments.v1.PaymentsService/ListIntents",
                                   "grpc.health.v1.Health/Check"));
  for (const nlohmann::json& method : config["methodConfig"]) {
    if (!method.contains("retryPolicy")) continue;
    const nlohmann::json& policy = method["retryPolicy"];
    // CANCELLED too: a server that stops cancels the calls no handler has
    // taken yet (gRPC core), which never ran.
    EXPECT_EQ(policy["retryableStatusCodes"],
              nlohmann::json({"UNAVAILABLE", "CANCELLED"}));
    EXPECT_GE(policy["maxAttempts"].get<int>(), 2);
    EXPECT_LE(policy["maxAttempts"].get<int>(), 5);  // gRPC's cap
  }
  EXPECT_EQ(config["retryThrottling"]["maxTokens"], 10);
  EXPECT_EQ(config["retryThrottling"]["tokenRatio"], 0.1);
}

TEST(ServiceConfigTest, NeverRetriesWrites) {
  for (const std::string& method : RetriedMethods()) {
    for (const char* write : {"Create", "Refresh", "Verify", "Cancel",
                              "Capture", "Reverse", "RefundIntent"}) {
      EXPECT_EQ(method.find(write), std::string::npos) << method;
    }
    // A service-wide entry would retry every method, writes included.
    EXPECT_NE(method.back(), '/') << method;
  }
}

// Every PaymentsService call waits for a connection (up to its deadline)
// instead of failing while the server restarts; health checks fail fast.
TEST(ServiceConfigTest, PaymentsServiceWaitsForReady) {
  const nlohmann::json config =
      nlohmann::json::parse(DefaultServiceConfigJson());
  bool service_wide = false;
  for (const nlohmann::json& method : config["methodConfig"]) {
    for (const nlohmann::json& name : method["name"]) {
      const bool ours = name["service"] == "payments.v1.PaymentsService";
      EXPECT_EQ(method.value("waitForReady", false), ours) << name;
      service_wide |= ours && !name.contains("method");
    }
  }
  EXPECT_TRUE(service_wide);
}

TEST(ServiceConfigTest, DisabledRetriesKeepWaitForReady) {
  const nlohmann::json config =
      nlohmann::json::parse(ServiceConfigJson({.enabled = false}));
  EXPECT_FALSE(config.contains("retryThrottling"));
  ASSERT_FALSE(config["methodConfig"].empty());
  for (const nlohmann::json& method : config["methodConfig"]) {
    EXPECT_FALSE(method.contains("retryPolicy"));
  }
  EXPECT_TRUE(config["methodConfig"][0]["waitForReady"]);
}

TEST(ServiceConfigTest, NoWaitForReadyKeepsRetries) {
  const nlohmann::json config =
      nlohmann::json::parse(ServiceConfigJson({}, /*wait_for_ready=*/false));
  EXPECT_TRUE(config.contains("retryThrottling"));
  bool retries = false;
  for (const nlohmann::json& method : config["methodConfig"]) {
    EXPECT_FALSE(method.contains("waitForReady"));
    retries |= method.contains("retryPolicy");
  }
  EXPECT_TRUE(retries);
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
}

}  // namespace
}  // namespace payments::client
