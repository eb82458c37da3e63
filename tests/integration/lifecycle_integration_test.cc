// Operating the server: SIGTERM with calls in flight, and credentials
// rotated through their mounted files without a restart.

#include <signal.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "lib/webhook/signature_verifier.h"
#include "payments/v1/payments_service.grpc.pb.h"
#include "tests/integration/rpc_test_util.h"
#include "tests/integration/test_stack.h"
#include "tests/support/wait_for.h"

namespace payments::testing {
namespace {

using nlohmann::json;

void WriteFile(const std::string& path, absl::string_view contents) {
  // Like a Kubernetes Secret volume: the new content appears at once.
  const std::string staging = path + ".new";
  std::ofstream(staging, std::ios::trunc) << contents;
  std::rename(staging.c_str(), path.c_str());
}

// GetIntent calls started together and left in flight; each records its
// status and when it finished.
class InFlightReads {
 public:
  struct Call {
    grpc::ClientContext context;
    v1::GetIntentRequest request;
    v1::GetIntentResponse response;
    grpc::Status status;
    absl::Time finished_at;
  };

  InFlightReads(v1::PaymentsService::Stub& stub, const std::string& id,
                int count, absl::Duration deadline) {
    for (int i = 0; i < count; ++i) {
      auto call = std::make_unique<Call>();
      call->context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
      call->request.set_id(id);
      Call* raw = call.get();
      stub.async()->GetIntent(&raw->context, &raw->request, &raw->response,
                              [this, raw](grpc::Status status) {
                                absl::MutexLock lock(&mutex_);
                                raw->status = std::move(status);
                                raw->finished_at = absl::Now();
                                ++finished_;
                              });
      calls_.push_back(std::move(call));
    }
  }

  // Whether every call finished within `timeout`; then calls() is final.
  bool WaitAll(absl::Duration timeout) {
    return WaitFor(
        [&] {
          absl::MutexLock lock(&mutex_);
          return finished_ == static_cast<int>(calls_.size());
        },
        timeout);
  }
  const std::vector<std::unique_ptr<Call>>& calls() const { return calls_; }

 private:
  std::vector<std::unique_ptr<Call>> calls_;
  absl::Mutex mutex_;
  int finished_ ABSL_GUARDED_BY(mutex_) = 0;
};

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto stack = TestStack::Start(
        {.server_env = {{"PAYMENTS_DRAIN_DELAY", "1s"},
                        {"PAYMENTS_SHUTDOWN_GRACE", "10s"},
                        {"PAYMENTS_CREDENTIALS_RELOAD_INTERVAL", "200ms"}}});
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    stub_ = v1::PaymentsService::NewStub(grpc::CreateChannel(
        stack_->grpc_target(), grpc::InsecureChannelCredentials()));
  }

  std::string Health() {
    auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
        stack_->grpc_target(), grpc::InsecureChannelCredentials()));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service("payments.v1.PaymentsService");
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = health->Check(
        ContextWithDeadline(absl::Milliseconds(500)).get(), request, &response);
    if (!status.ok()) return "unreachable";
    return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
        response.status());
  }

  grpc::Status VerifyDocsVector() {
    v1::VerifyWebhookRequest request;
    request.set_body(std::string(kDocsBody));
    request.set_signature(
        webhook::ComputeSignature(kDocsWebhookSecret, request.body()));
    v1::VerifyWebhookResponse response;
    return stub_->VerifyWebhook(ContextWithDeadline().get(), request,
                                &response);
  }

  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::PaymentsService::Stub> stub_;
};

TEST_F(LifecycleTest, SigtermDrainsEveryCallInFlightAndExitsZero) {
  v1::CreateIntentResponse created;
  ASSERT_TRUE(stub_
                  ->CreateIntent(ContextWithDeadline().get(),
                                 MinimalCreate("Order-drain"), &created)
                  .ok());
  // Every read is slow: 100 of them are in flight when SIGTERM arrives.
  ASSERT_TRUE(
      stack_
          ->Control("POST", "/_emulator/faults",
                    json::parse(R"({"method":"GET","path":"/payment-intents/*",
                              "responses":[{"delayMs":2000,"repeat":100}]})"))
          .ok());
  constexpr int kCalls = 100;
  InFlightReads reads(*stub_, created.intent().id(), kCalls, absl::Seconds(15));
  // All of them reach Dojo (which logs each before its delay).
  ASSERT_TRUE(WaitFor(
      [&] {
        int gets = 0;
        for (const auto& entry : stack_->UpstreamRequests()) {
          gets += entry["method"] == "GET";
        }
        return gets == kCalls;
      },
      absl::Milliseconds(1500)));
  ASSERT_EQ(Health(), "SERVING");

  const absl::Time sigterm = absl::Now();
  int exit_code = -1;
  std::thread stopper([&] { exit_code = stack_->StopServer(0, SIGTERM); });
  // Health turns NOT_SERVING first, while calls are still accepted.
  EXPECT_TRUE(WaitFor([&] { return Health() == "NOT_SERVING"; },
                      absl::Milliseconds(800)));
  // After the drain delay new calls (each on a new connection) are refused.
  v1::GetIntentRequest late;
  late.set_id(created.intent().id());
  EXPECT_TRUE(WaitFor(
      [&] {
        v1::GetIntentResponse late_response;
        auto late_stub = v1::PaymentsService::NewStub(grpc::CreateChannel(
            stack_->grpc_target(), grpc::InsecureChannelCredentials()));
        return late_stub
                   ->GetIntent(ContextWithDeadline(absl::Seconds(1)).get(),
                               late, &late_response)
                   .error_code() == grpc::StatusCode::UNAVAILABLE;
      },
      absl::Seconds(5)));

  stopper.join();
  EXPECT_EQ(exit_code, 0);
  EXPECT_LT(absl::Now() - sigterm, absl::Seconds(10)) << "within the grace";
  ASSERT_TRUE(reads.WaitAll(absl::Seconds(5)));
  int ok = 0;
  for (const auto& call : reads.calls()) {
    ok += call->status.ok() &&
          call->response.intent().id() == created.intent().id();
  }
  EXPECT_EQ(ok, kCalls) << "every call in flight completes";
}

// Calls still waiting when the grace period ends, on a slow Dojo or in a
// retry backoff, are answered at once (their exchanges and timers end with
// CANCELLED), and the process then exits 0 through its destructors.
TEST(ShutdownTest, GraceCutsOffUpstreamWaitsAndRetryTimers) {
  auto stack = TestStack::Start(
      {.server_env = {{"PAYMENTS_DRAIN_DELAY", "0s"},
                      {"PAYMENTS_SHUTDOWN_GRACE", "1s"},
                      {"PAYMENTS_UPSTREAM_TIMEOUT", "20s"},
                      {"PAYMENTS_RETRY_INITIAL_BACKOFF", "15s"},
                      {"PAYMENTS_RETRY_MAX_BACKOFF", "15s"}}});
  ASSERT_TRUE(stack.ok()) << stack.status();
  auto stub = v1::PaymentsService::NewStub(grpc::CreateChannel(
      (*stack)->grpc_target(), grpc::InsecureChannelCredentials()));
  v1::CreateIntentResponse created;
  ASSERT_TRUE(stub->CreateIntent(ContextWithDeadline().get(),
                                 MinimalCreate("Order-cut-off"), &created)
                  .ok());
  // One read is answered 503 and waits 15 s to retry; the others wait on a
  // Dojo that answers after 30 s.
  constexpr int kCalls = 10;
  ASSERT_TRUE(
      (*stack)
          ->Control("POST", "/_emulator/faults",
                    json::parse(R"({"method":"GET","path":"/payment-intents/*",
                      "responses":[{"status":503},
                                   {"delayMs":30000,"repeat":20}]})"))
          .ok());
  InFlightReads reads(*stub, created.intent().id(), kCalls, absl::Seconds(40));
  ASSERT_TRUE(
      WaitFor([&] { return (*stack)->UpstreamRequests().size() >= kCalls + 1; },
              absl::Seconds(5)))
      << "every call reached Dojo";

  const absl::Time sigterm = absl::Now();
  EXPECT_EQ((*stack)->StopServer(0, SIGTERM), 0);
  const absl::Duration stopped_after = absl::Now() - sigterm;
  EXPECT_LT(stopped_after, absl::Seconds(5))
      << "not the 15 s backoff nor the 20 s upstream timeout";
  ASSERT_TRUE(reads.WaitAll(absl::Seconds(2)));
  for (const auto& call : reads.calls()) {
    EXPECT_FALSE(call->status.ok());
    EXPECT_LT(call->finished_at - sigterm, absl::Seconds(5));
  }
  auto log = ReadFile((*stack)->server_log_path());
  ASSERT_TRUE(log.ok());
  EXPECT_TRUE(absl::StrContains(*log, R"("event":"grace_expired")")) << *log;
  EXPECT_TRUE(absl::StrContains(*log, R"("event":"stopped")")) << *log;
}

TEST_F(LifecycleTest, RemovedWebhookSecretStopsVerifyingWithoutRestart) {
  ASSERT_TRUE(VerifyDocsVector().ok());
  // Rotation: the docs secret is removed, a new one added.
  WriteFile(
      stack_->File("webhook-secrets"),
      absl::StrCat("current=", kWebhookSecret, "\nnext=whsec_next_0Q9\n"));
  EXPECT_TRUE(WaitFor(
      [&] {
        return VerifyDocsVector().error_code() ==
               grpc::StatusCode::UNAUTHENTICATED;
      },
      absl::Seconds(5)));
  grpc::Status status = VerifyDocsVector();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ReasonOf(status), "SIGNATURE_MISMATCH");

  v1::VerifyWebhookRequest request;
  request.set_body(std::string(kDocsBody));
  request.set_signature(webhook::ComputeSignature("whsec_next_0Q9", kDocsBody));
  v1::VerifyWebhookResponse response;
  ASSERT_TRUE(
      stub_->VerifyWebhook(ContextWithDeadline().get(), request, &response)
          .ok());
  EXPECT_EQ(response.matched_secret_id(), "next");
}

TEST_F(LifecycleTest, RotatedDojoKeyIsUsedWithoutRestart) {
  v1::CreateIntentRequest request = MinimalCreate("Order-rotate-1");
  request.set_account("revoked");
  v1::CreateIntentResponse response;
  EXPECT_EQ(stub_->CreateIntent(ContextWithDeadline().get(), request, &response)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // The operator mounts a valid key for the account.
  WriteFile(
      stack_->File("accounts"),
      absl::StrCat("second=", kSecondKey, "\nrevoked=", kSecondKey, "\n"));
  request.set_reference("Order-rotate-2");
  EXPECT_TRUE(WaitFor(
      [&] {
        request.set_reference(
            absl::StrCat("Order-rotate-", absl::ToUnixMicros(absl::Now())));
        return stub_
            ->CreateIntent(ContextWithDeadline().get(), request, &response)
            .ok();
      },
      absl::Seconds(5)));
  const std::vector<json> upstream = stack_->UpstreamRequests();
  EXPECT_EQ(upstream.back()["account"], "second") << "the new key is sent";
  auto log = ReadFile(stack_->server_log_path());
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("credentials_reloaded"), std::string::npos);
  EXPECT_EQ(log->find(std::string(kSecondKey)), std::string::npos);
}

}  // namespace
}  // namespace payments::testing
