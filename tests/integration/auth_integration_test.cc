// Callers proven and limited, against the real server with real
// certificates (scripts/gen-test-certs.sh): mutual TLS on the gRPC listener,
// the caller policy (RPCs x accounts), rate limits, rotations of the policy
// and of the server certificate without a restart, and the plaintext
// health-only listener that kubelet probes use.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/payments_client.h"
#include "client/rpc_error.h"
#include "google/rpc/error_details.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "payments/v1/payments_service.grpc.pb.h"
#include "tests/integration/rpc_test_util.h"
#include "tests/integration/test_stack.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace payments::testing {
namespace {

constexpr char kSpiffePrefix[] = "spiffe://payments.test/ns/test/sa/";

std::string Spiffe(const std::string& name) {
  return absl::StrCat(kSpiffePrefix, name);
}

std::string Slurp(const std::string& path) {
  auto text = ReadFile(path);
  return text.ok() ? *text : "";
}

// Replaces `path` atomically (write aside, rename), as a Secret volume's
// symlink swap does.
void Replace(const std::string& path, const std::string& contents) {
  const std::string aside = path + ".new";
  std::ofstream(aside, std::ios::binary | std::ios::trunc) << contents;
  std::filesystem::rename(aside, path);
}

std::string Policy(const std::string& shop_rpcs) {
  return absl::StrCat(R"({
  "callers": {
    ")",
                      Spiffe("checkout"),
                      R"(": {"rpcs": ["*"], "accounts": ["*"]},
    ")",
                      Spiffe("shop"), R"(": {"rpcs": )", shop_rpcs,
                      R"(, "accounts": ["default"]},
    ")",
                      Spiffe("burst"), R"(": {
      "rpcs": ["GetIntent", "CreateIntent"], "accounts": ["*"],
      "limits": {"calls": {"per_second": 0.2, "burst": 3}}
    }
  },
  "accounts": {"second": {"limits": {"creates": {"per_second": 0.1, "burst": 1}}}}
})");
}

const char kShopRpcs[] = R"(["CreateIntent", "GetIntent"])";

class AuthIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new TempDir();
    const std::string dir = certs_->path();
    ASSERT_EQ(std::system(absl::StrCat(GEN_CERTS_SCRIPT, " ", dir,
                                       " checkout shop burst stranger")
                              .c_str()),
              0);
    // A second, unrelated server CA and certificate to rotate to.
    ASSERT_EQ(
        std::system(absl::StrCat(GEN_CERTS_SCRIPT, " ", dir, "/next").c_str()),
        0);
    // The files the server reads (a Secret volume): copies, so that the
    // rotation can replace them.
    std::filesystem::create_directories(dir + "/live");
    Replace(dir + "/live/tls.crt", Slurp(dir + "/server.pem"));
    Replace(dir + "/live/tls.key", Slurp(dir + "/server.key"));
    Replace(dir + "/live/policy.json", Policy(kShopRpcs));
    auto health_port = PickFreePort();
    ASSERT_TRUE(health_port.ok());
    health_port_ = *health_port;
    auto stack = TestStack::Start(
        {.server_env = {
             {"PAYMENTS_TLS", "mtls"},
             {"PAYMENTS_TLS_CERT_FILE", dir + "/live/tls.crt"},
             {"PAYMENTS_TLS_KEY_FILE", dir + "/live/tls.key"},
             {"PAYMENTS_TLS_CLIENT_CA_FILE", dir + "/client-ca.pem"},
             {"PAYMENTS_POLICY_FILE", dir + "/live/policy.json"},
             {"PAYMENTS_HEALTH_ADDR", absl::StrCat("127.0.0.1:", health_port_)},
             {"PAYMENTS_CREDENTIALS_RELOAD_INTERVAL", "1s"},
         }});
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
  }

  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
    delete certs_;
    certs_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(stack_, nullptr);
    stack_->ResetEmulator();
  }

  static std::string CertFile(const std::string& name) {
    return certs_->File(name);
  }

  // A stub over TLS trusting `ca`, presenting `client`'s certificate (none
  // when empty).
  static std::unique_ptr<v1::PaymentsService::Stub> Stub(
      const std::string& client, const std::string& ca = "ca.pem") {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Slurp(CertFile(ca));
    if (!client.empty()) {
      ssl.pem_cert_chain = Slurp(CertFile(client + ".pem"));
      ssl.pem_private_key = Slurp(CertFile(client + ".key"));
    }
    return v1::PaymentsService::NewStub(
        grpc::CreateChannel(stack_->grpc_target(), grpc::SslCredentials(ssl)));
  }

  // The C++ client library with `client`'s certificate.
  static std::unique_ptr<client::PaymentsClient> Client(
      const std::string& client) {
    client::ClientOptions options;
    options.target = stack_->grpc_target();
    options.tls = {.enabled = true,
                   .ca_file = CertFile("ca.pem"),
                   .cert_file = CertFile(client + ".pem"),
                   .key_file = CertFile(client + ".key")};
    options.wait_for_ready = false;
    options.retry.enabled = false;
    auto made = client::PaymentsClient::Create(options);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? *std::move(made) : nullptr;
  }

  static grpc::Status Get(v1::PaymentsService::Stub& stub,
                          const std::string& id = "pi_sandbox_nope") {
    v1::GetIntentRequest request;
    request.set_id(id);
    v1::GetIntentResponse response;
    return stub.GetIntent(ContextWithDeadline(absl::Seconds(5)).get(), request,
                          &response);
  }

  static std::string Metrics() {
    auto text = stack_->ScrapeMetrics();
    return text.ok() ? *text : "";
  }

  static TempDir* certs_;
  static TestStack* stack_;
  static int health_port_;
};

TempDir* AuthIntegrationTest::certs_ = nullptr;
TestStack* AuthIntegrationTest::stack_ = nullptr;
int AuthIntegrationTest::health_port_ = 0;

TEST_F(AuthIntegrationTest, ClientWithoutCertificateIsRefused) {
  const grpc::Status status = Get(*Stub(""));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_TRUE(stack_->UpstreamRequests().empty());
}

TEST_F(AuthIntegrationTest, CertificateOfAnotherCaIsRefused) {
  // rogue.pem claims checkout's SPIFFE id but another CA signed it.
  const grpc::Status status = Get(*Stub("rogue"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_TRUE(stack_->UpstreamRequests().empty());
}

TEST_F(AuthIntegrationTest, PlaintextIsRefused) {
  auto stub = v1::PaymentsService::NewStub(grpc::CreateChannel(
      stack_->grpc_target(), grpc::InsecureChannelCredentials()));
  EXPECT_EQ(Get(*stub).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(AuthIntegrationTest, AllowedCallerSucceedsThroughTheClientLibrary) {
  auto checkout = Client("checkout");
  ASSERT_NE(checkout, nullptr);
  auto created = checkout->CreateIntent(MinimalCreate("auth-allowed-1"));
  ASSERT_TRUE(created.ok()) << created.status();
  auto got = checkout->GetIntent([&] {
    v1::GetIntentRequest request;
    request.set_id(created->intent().id());
    return request;
  }());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->intent().reference(), "auth-allowed-1");

  // The access log names the caller; the metric labels it.
  EXPECT_TRUE(WaitFor(
      [] {
        return absl::StrContains(
            Slurp(stack_->server_log_path()),
            absl::StrCat(R"("caller":")", Spiffe("checkout"), R"(")"));
      },
      absl::Seconds(5)));
  EXPECT_TRUE(absl::StrContains(
      Metrics(),
      absl::StrCat(R"(payments_caller_calls_total{caller=")",
                   Spiffe("checkout"),
                   R"(",grpc_method="CreateIntent",result="allowed"})")));
}

TEST_F(AuthIntegrationTest, CallerAllowedToCreateButNotRefundIsDenied) {
  auto shop = Stub("shop");
  v1::CreateIntentResponse created;
  ASSERT_TRUE(shop->CreateIntent(ContextWithDeadline().get(),
                                 MinimalCreate("auth-shop-1"), &created)
                  .ok());
  stack_->ResetEmulator();

  v1::RefundIntentRequest refund;
  refund.set_id(created.intent().id());
  refund.set_refund_key("r1");
  refund.mutable_amount()->set_value(100);
  refund.mutable_amount()->set_currency_code("GBP");
  v1::RefundIntentResponse refunded;
  const grpc::Status status =
      shop->RefundIntent(ContextWithDeadline().get(), refund, &refunded);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << status.error_message();
  const client::RpcError error = client::ParseRpcError(status);
  EXPECT_EQ(error.reason, "CALLER_NOT_ALLOWED");
  EXPECT_EQ(error.metadata.at("caller"), Spiffe("shop"));
  EXPECT_EQ(error.metadata.at("rpc"), "RefundIntent");
  EXPECT_EQ(error.metadata.at("account"), "default");

  // An account it may not use, and a caller the policy does not name.
  v1::CreateIntentRequest elsewhere = MinimalCreate("auth-shop-2");
  elsewhere.set_account("second");
  EXPECT_EQ(shop->CreateIntent(ContextWithDeadline().get(), elsewhere, &created)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const grpc::Status stranger = Get(*Stub("stranger"));
  EXPECT_EQ(stranger.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(client::ParseRpcError(stranger).metadata.at("caller"),
            Spiffe("stranger"));

  // Nothing reached Dojo; counted (unnamed callers as "other") and logged.
  EXPECT_TRUE(stack_->UpstreamRequests().empty());
  const std::string metrics = Metrics();
  EXPECT_TRUE(absl::StrContains(
      metrics,
      absl::StrCat(R"(payments_caller_calls_total{caller=")", Spiffe("shop"),
                   R"(",grpc_method="RefundIntent",result="denied"} 1)")))
      << metrics;
  EXPECT_TRUE(absl::StrContains(
      metrics,
      R"(payments_caller_calls_total{caller="other",grpc_method="GetIntent",result="denied"})"));
  EXPECT_FALSE(absl::StrContains(metrics, Spiffe("stranger")));
  EXPECT_TRUE(WaitFor(
      [] {
        const std::string log = Slurp(stack_->server_log_path());
        return absl::StrContains(log, R"("reason":"CALLER_NOT_ALLOWED")") &&
               absl::StrContains(log, R"("method":"RefundIntent")");
      },
      absl::Seconds(5)));
}

TEST_F(AuthIntegrationTest, PolicyChangeTakesEffectWithoutRestart) {
  auto shop = Stub("shop");
  const std::string policy = CertFile("live/policy.json");
  ASSERT_NE(Get(*shop).error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // Take GetIntent away from shop.
  Replace(policy, Policy(R"(["CreateIntent"])"));
  EXPECT_TRUE(WaitFor(
      [&] {
        return Get(*shop).error_code() == grpc::StatusCode::PERMISSION_DENIED;
      },
      absl::Seconds(10)));

  // An invalid policy is logged and the current one kept.
  Replace(policy,
          R"({"callers": {"x": {"rpcs": ["NoSuchRpc"], "accounts": ["*"]}}})");
  EXPECT_TRUE(WaitFor(
      [] {
        return absl::StrContains(Slurp(stack_->server_log_path()),
                                 "policy_reload_failed");
      },
      absl::Seconds(10)));
  EXPECT_EQ(Get(*shop).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(
      Metrics(), R"(payments_policy_reloads_total{result="rejected"} 1)"));

  // Back to the suite's policy.
  Replace(policy, Policy(kShopRpcs));
  EXPECT_TRUE(WaitFor(
      [&] {
        return Get(*shop).error_code() != grpc::StatusCode::PERMISSION_DENIED;
      },
      absl::Seconds(10)));
}

TEST_F(AuthIntegrationTest,
       BurstOverTheLimitGetsResourceExhaustedWithRetryInfo) {
  auto burst = Stub("burst");
  // burst 3, refilled at one per 5 s: the first three pass the limiter
  // (Dojo answers NOT_FOUND), the fourth is refused without reaching Dojo.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Get(*burst).error_code(), grpc::StatusCode::NOT_FOUND) << i;
  }
  const size_t sent = stack_->UpstreamRequests().size();
  const grpc::Status status = Get(*burst);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  const client::RpcError error = client::ParseRpcError(status);
  EXPECT_EQ(error.reason, "CALLER_RATE_LIMITED");
  EXPECT_EQ(error.metadata.at("limit"), "caller.calls");
  ASSERT_TRUE(error.retry_delay.has_value());
  EXPECT_GT(*error.retry_delay, absl::ZeroDuration());
  EXPECT_LE(*error.retry_delay, absl::Seconds(5));
  EXPECT_EQ(stack_->UpstreamRequests().size(), sent);
  EXPECT_TRUE(absl::StrContains(
      Metrics(),
      absl::StrCat(R"(payments_caller_calls_total{caller=")", Spiffe("burst"),
                   R"(",grpc_method="GetIntent",result="rate_limited"} 1)")));
}

TEST_F(AuthIntegrationTest, AccountCreateLimitAppliesAcrossCallers) {
  // Account "second" allows one create per 10 s, whoever calls.
  auto checkout = Stub("checkout");
  v1::CreateIntentRequest first = MinimalCreate("auth-second-1");
  first.set_account("second");
  v1::CreateIntentResponse created;
  ASSERT_TRUE(
      checkout->CreateIntent(ContextWithDeadline().get(), first, &created)
          .ok());
  v1::CreateIntentRequest next = MinimalCreate("auth-second-2");
  next.set_account("second");
  const grpc::Status status =
      checkout->CreateIntent(ContextWithDeadline().get(), next, &created);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(client::ParseRpcError(status).metadata.at("limit"),
            "account.creates");
  // Other accounts and other RPCs on it are not limited by it.
  EXPECT_TRUE(checkout
                  ->CreateIntent(ContextWithDeadline().get(),
                                 MinimalCreate("auth-default-3"), &created)
                  .ok());
}

TEST_F(AuthIntegrationTest, ServerCertificateRotationWithoutRestart) {
  // A client that trusts only the next CA cannot talk to the current
  // certificate...
  auto next_client = [] {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Slurp(CertFile("next/ca.pem"));
    ssl.pem_cert_chain = Slurp(CertFile("checkout.pem"));
    ssl.pem_private_key = Slurp(CertFile("checkout.key"));
    return v1::PaymentsService::NewStub(
        grpc::CreateChannel(stack_->grpc_target(), grpc::SslCredentials(ssl)));
  };
  EXPECT_EQ(Get(*next_client()).error_code(), grpc::StatusCode::UNAVAILABLE);

  // ...until the Secret is rotated: new connections get the new one.
  Replace(CertFile("live/tls.key"), Slurp(CertFile("next/server.key")));
  Replace(CertFile("live/tls.crt"), Slurp(CertFile("next/server.pem")));
  EXPECT_TRUE(WaitFor(
      [&] {
        return Get(*next_client()).error_code() == grpc::StatusCode::NOT_FOUND;
      },
      absl::Seconds(15)));
  EXPECT_EQ(Get(*Stub("checkout")).error_code(), grpc::StatusCode::UNAVAILABLE);

  // Back, for the other tests.
  Replace(CertFile("live/tls.key"), Slurp(CertFile("server.key")));
  Replace(CertFile("live/tls.crt"), Slurp(CertFile("server.pem")));
  EXPECT_TRUE(WaitFor(
      [&] {
        return Get(*Stub("checkout")).error_code() ==
               grpc::StatusCode::NOT_FOUND;
      },
      absl::Seconds(15)));
}

TEST_F(AuthIntegrationTest, KubeletStylePlaintextHealthChecksWork) {
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", health_port_),
                                     grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  for (const char* service : {"", "payments.v1.PaymentsService"}) {
    EXPECT_TRUE(WaitFor(
        [&] {
          grpc::health::v1::HealthCheckRequest request;
          request.set_service(service);
          grpc::health::v1::HealthCheckResponse response;
          return health
                     ->Check(ContextWithDeadline(absl::Seconds(2)).get(),
                             request, &response)
                     .ok() &&
                 response.status() ==
                     grpc::health::v1::HealthCheckResponse::SERVING;
        },
        absl::Seconds(10)))
        << service;
  }
  // The health listener serves nothing else.
  auto payments = v1::PaymentsService::NewStub(channel);
  EXPECT_EQ(Get(*payments).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_TRUE(stack_->UpstreamRequests().empty());
}

TEST(AuthStartupTest, NoTlsSettingRefusesToStart) {
  const std::string command = absl::StrCat(
      "env -u PAYMENTS_TLS DOJO_API_KEY=sk_sandbox_x ", PAYMENTS_SERVER_BIN,
      " --listen_addr=127.0.0.1:0 --metrics_addr=127.0.0.1:0 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_TRUE(absl::StrContains(output, "PAYMENTS_TLS: required")) << output;
}

}  // namespace
}  // namespace payments::testing
