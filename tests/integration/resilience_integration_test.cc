// Faults scripted at the emulator, one per test: the exact gRPC code and
// details, and the exact sequence of requests Dojo received. No fault may
// leave two intents for one reference.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "payments/v1/payments_service.grpc.pb.h"
#include "tests/integration/rpc_test_util.h"
#include "tests/integration/stack_test.h"
#include "tests/integration/test_stack.h"
#include "tests/support/wait_for.h"

namespace payments::testing {
namespace {

using nlohmann::json;

// Short timers so that every scripted fault plays out in about a second.
// The background reconciler stays out of the way (its first round runs at
// start-up, the next an hour later), so that each test sees exactly the
// requests its call made.
StackOptions FastRetries() {
  return {.server_env = {{"PAYMENTS_UPSTREAM_TIMEOUT", "1s"},
                         {"PAYMENTS_RETRY_INITIAL_BACKOFF", "50ms"},
                         {"PAYMENTS_RETRY_MAX_BACKOFF", "200ms"},
                         {"PAYMENTS_RECONCILE_INTERVAL", "1h"}}};
}

StackOptions FastRetriesWith(std::string name, std::string value) {
  StackOptions options = FastRetries();
  options.server_env.emplace_back(std::move(name), std::move(value));
  return options;
}

class ResilienceTest : public StackTest {
 protected:
  static void SetUpTestSuite() { StartStack(FastRetries()); }

  void SetUp() override {
    StackTest::SetUp();
    stub_ = Stub();
  }

  // An intent to read, created before faults are scripted.
  std::string ExistingIntentId() {
    v1::CreateIntentResponse response;
    EXPECT_TRUE(stub_
                    ->CreateIntent(ContextWithDeadline().get(),
                                   MinimalCreate("Existing-" + NextSuffix()),
                                   &response)
                    .ok());
    stack_->ResetEmulator();
    return response.intent().id();
  }

  grpc::Status Get(const std::string& id, v1::GetIntentResponse& response,
                   absl::Duration deadline = absl::Seconds(10)) {
    v1::GetIntentRequest request;
    request.set_id(id);
    return stub_->GetIntent(ContextWithDeadline(deadline).get(), request,
                            &response);
  }

  static std::string NextSuffix() { return absl::StrCat(++counter_); }

  inline static int counter_ = 0;
  std::unique_ptr<v1::PaymentsService::Stub> stub_;
};

TEST_F(ResilienceTest, GetIsRetriedThrough503s) {
  const std::string id = ExistingIntentId();
  Script("GET", "/payment-intents/*",
         json::parse(R"([{"status":503},{"status":503}])"));
  v1::GetIntentResponse response;
  grpc::Status status = Get(id, response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.intent().id(), id);
  const std::string path = "GET /payment-intents/" + id;
  EXPECT_EQ(
      UpstreamSequence(),
      (std::vector<std::string>{path + " 503", path + " 503", path + " 200"}));
}

TEST_F(ResilienceTest, RateLimitIsWaitedOutPerRetryAfter) {
  const std::string id = ExistingIntentId();
  Script("GET", "/payment-intents/*",
         json::parse(R"([{"status":429,"retryAfter":"1"}])"));
  v1::GetIntentResponse response;
  const absl::Time start = absl::Now();
  grpc::Status status = Get(id, response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GE(absl::Now() - start, absl::Seconds(1));
  const std::string path = "GET /payment-intents/" + id;
  EXPECT_EQ(UpstreamSequence(),
            (std::vector<std::string>{path + " 429", path + " 200"}));
}

TEST_F(ResilienceTest, RetriesStopAtTheDeadline) {
  const std::string id = ExistingIntentId();
  // The next try would start after the caller's deadline: answer now.
  Script("GET", "/payment-intents/*",
         json::parse(R"([{"status":503,"retryAfter":"5"},{"status":503}])"));
  v1::GetIntentResponse response;
  const absl::Time start = absl::Now();
  grpc::Status status = Get(id, response, absl::Seconds(4));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(status), "DOJO_UNAVAILABLE");
  auto retry = FindDetail<google::rpc::RetryInfo>(status);
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->retry_delay().seconds(), 5);
  EXPECT_EQ(UpstreamSequence(),
            std::vector<std::string>{"GET /payment-intents/" + id + " 503"});
}

TEST_F(ResilienceTest, CancelledCallStopsPendingRetries) {
  const std::string id = ExistingIntentId();
  Script("GET", "/payment-intents/*",
         json::parse(R"([{"status":503,"retryAfter":"1"},{"status":503}])"));
  v1::GetIntentRequest request;
  request.set_id(id);
  v1::GetIntentResponse response;
  auto context = ContextWithDeadline();
  // Cancelled once the first try has reached Dojo.
  std::thread canceller([&context] {
    WaitFor([] { return UpstreamSequence().size() == 1; }, absl::Seconds(5));
    context->TryCancel();
  });
  grpc::Status status = stub_->GetIntent(context.get(), request, &response);
  canceller.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  absl::SleepFor(absl::Milliseconds(1500));  // Past the retry's time.
  EXPECT_EQ(UpstreamSequence(),
            std::vector<std::string>{"GET /payment-intents/" + id + " 503"});
}

// A 5xx may come after Dojo processed the create: the call searches, and
// "not found" is not "not created" (Dojo may still be committing it), so
// nothing is sent again; the reconciler settles it later.
TEST_F(ResilienceTest, CreateAnswered500IsSearchedNeverResent) {
  const std::string reference = "Order-500-" + NextSuffix();
  Script("POST", "/payment-intents", json::parse(R"([{"status":500}])"));
  v1::CreateIntentResponse response;
  grpc::Status status = stub_->CreateIntent(
      ContextWithDeadline().get(), MinimalCreate(reference), &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(status), "OUTCOME_UNKNOWN");
  EXPECT_TRUE(FindDetail<google::rpc::RetryInfo>(status).has_value());
  EXPECT_EQ(UpstreamSequence(),
            (std::vector<std::string>{"POST /payment-intents 500",
                                      "POST /payment-intents/search 200"}));
  EXPECT_EQ(IntentsWithReference(reference), 0u);
}

TEST_F(ResilienceTest, CreateProcessedThenDroppedIsFoundNotRecreated) {
  const std::string reference = "Order-drop-" + NextSuffix();
  Script("POST", "/payment-intents",
         json::parse(R"([{"processThenDrop":true}])"));
  v1::CreateIntentResponse response;
  grpc::Status status = stub_->CreateIntent(
      ContextWithDeadline().get(), MinimalCreate(reference), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::vector<json> upstream = stack_->UpstreamRequests();
  ASSERT_EQ(UpstreamSequence(),
            (std::vector<std::string>{"POST /payment-intents 0",
                                      "POST /payment-intents/search 200"}));
  EXPECT_EQ(response.intent().id(), upstream[0]["intentId"]);
  EXPECT_EQ(IntentsWithReference(reference), 1u);
}

TEST_F(ResilienceTest, CreateDroppedOnAReusedConnectionIsNotResent) {
  // A read first, so a keep-alive connection to Dojo is open. HTTP clients
  // silently re-send a request whose reused connection dies unanswered:
  // for a create that would be a second intent.
  const std::string id = ExistingIntentId();
  v1::GetIntentResponse read;
  ASSERT_TRUE(Get(id, read).ok());
  const std::string reference = "Order-reused-" + NextSuffix();
  Script("POST", "/payment-intents",
         json::parse(R"([{"processThenDrop":true}])"));
  v1::CreateIntentResponse response;
  grpc::Status status = stub_->CreateIntent(
      ContextWithDeadline().get(), MinimalCreate(reference), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(UpstreamSequence(),
            (std::vector<std::string>{"GET /payment-intents/" + id + " 200",
                                      "POST /payment-intents 0",
                                      "POST /payment-intents/search 200"}));
  EXPECT_EQ(IntentsWithReference(reference), 1u);
}

TEST_F(ResilienceTest, CreateTimingOutAfterProcessingIsFoundNotRecreated) {
  const std::string reference = "Order-slow-" + NextSuffix();
  // Processed at once, answered after the 1 s attempt timeout.
  Script("POST", "/payment-intents", json::parse(R"([{"delayMs":2500}])"));
  v1::CreateIntentResponse response;
  grpc::Status status = stub_->CreateIntent(
      ContextWithDeadline().get(), MinimalCreate(reference), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.intent().reference(), reference);
  const std::vector<std::string> sequence = UpstreamSequence();
  ASSERT_GE(sequence.size(), 1u);
  EXPECT_EQ(sequence.back(), "POST /payment-intents/search 200");
  EXPECT_EQ(IntentsWithReference(reference), 1u);
}

TEST_F(ResilienceTest, UnresolvableOutcomeIsUnavailableOutcomeUnknown) {
  const std::string reference = "Order-unknown-" + NextSuffix();
  Script("POST", "/payment-intents", json::parse(R"([{"drop":true}])"));
  Script("POST", "/payment-intents/search",
         json::parse(R"([{"status":500},{"status":500},{"status":500}])"));
  v1::CreateIntentResponse response;
  grpc::Status status = stub_->CreateIntent(
      ContextWithDeadline().get(), MinimalCreate(reference), &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  auto info = FindDetail<google::rpc::ErrorInfo>(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "OUTCOME_UNKNOWN");
  EXPECT_EQ(info->metadata().at("reference"), reference);
  EXPECT_EQ(UpstreamSequence(),
            (std::vector<std::string>{"POST /payment-intents 0",
                                      "POST /payment-intents/search 500",
                                      "POST /payment-intents/search 500",
                                      "POST /payment-intents/search 500"}));
  EXPECT_EQ(IntentsWithReference(reference), 0u);
}

TEST_F(ResilienceTest, Html502AndEmpty401MapCleanly) {
  const std::string id = ExistingIntentId();
  Script(
      "GET", "/payment-intents/*",
      json::parse(R"([{"status":502,"kind":"html"},{"status":502,"kind":"html"},
                         {"status":502,"kind":"html"},{"status":401,"kind":"empty"}])"));
  v1::GetIntentResponse response;
  grpc::Status status = Get(id, response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(status), "DOJO_UNAVAILABLE");
  EXPECT_TRUE(FindDetail<google::rpc::RetryInfo>(status).has_value());
  EXPECT_FALSE(absl::StrContains(status.error_message(), "<"));
  EXPECT_EQ(UpstreamSequence().size(), 3u) << "max_attempts counts the first";

  status = Get(id, response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(status), "DOJO_UNAUTHORIZED");
  EXPECT_EQ(UpstreamSequence().size(), 4u) << "a 401 is not retried";
}

// A 200 whose JSON is cut short: the intent may exist, so it is searched
// for, never created again in the call.
TEST_F(ResilienceTest, MalformedCreateAnswerIsSearchedNeverResent) {
  const std::string reference = "Order-malformed-" + NextSuffix();
  Script("POST", "/payment-intents", json::parse(R"([{"kind":"malformed"}])"));
  v1::CreateIntentResponse response;
  grpc::Status status = stub_->CreateIntent(
      ContextWithDeadline().get(), MinimalCreate(reference), &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(status), "OUTCOME_UNKNOWN");
  EXPECT_EQ(UpstreamSequence(),
            (std::vector<std::string>{"POST /payment-intents 200",
                                      "POST /payment-intents/search 200"}));
  EXPECT_EQ(IntentsWithReference(reference), 0u);
}

// A server whose Dojo is unreachable: connect failures provably sent
// nothing, so even a create is retried.
class UnreachableDojoTest : public ResilienceTest {
 protected:
  static void SetUpTestSuite() {
    // Port 1 on loopback: nothing listens, connect is refused at once.
    StartStack(FastRetriesWith("DOJO_BASE_URL", "https://127.0.0.1:1"));
  }
};

TEST_F(UnreachableDojoTest, CreateWhoseConnectFailsIsRetried) {
  v1::CreateIntentResponse response;
  grpc::Status status = stub_->CreateIntent(
      ContextWithDeadline().get(), MinimalCreate("Order-connect"), &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(status), "DOJO_UNAVAILABLE") << "not OUTCOME_UNKNOWN";
  auto metrics = stack_->ScrapeMetrics();
  ASSERT_TRUE(metrics.ok());
  EXPECT_TRUE(absl::StrContains(
      *metrics,
      R"(payments_upstream_retries_total{operation="create_payment_intent",reason="connect"} 2)"));
}

// A small retry budget: a burst of failures turns retries off.
class RetryBudgetTest : public ResilienceTest {
 protected:
  static void SetUpTestSuite() {
    StartStack(FastRetriesWith("PAYMENTS_RETRY_BUDGET_TOKENS", "4"));
  }
};

TEST_F(RetryBudgetTest, BudgetStopsARetryStorm) {
  json failures = json::array();
  for (int i = 0; i < 30; ++i) failures.push_back({{"status", 503}});
  Script("GET", "/payment-intents/*", failures);
  v1::GetIntentResponse response;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Get("pi_sandbox_AAAAAAAAAAAAAAAAAAAAAA", response).error_code(),
              grpc::StatusCode::UNAVAILABLE);
  }
  // 4 tokens: the first call fails twice (4 -> 3 -> 2, and retries stop at
  // half), every later call once. Without the budget: 30 requests.
  EXPECT_EQ(UpstreamSequence().size(), 11u);
  auto metrics = stack_->ScrapeMetrics();
  ASSERT_TRUE(metrics.ok());
  // Every call's refused retry is counted.
  EXPECT_TRUE(absl::StrContains(
      *metrics,
      R"(payments_retry_budget_exhausted_total{operation="get_payment_intent"} 10)"));
}

}  // namespace
}  // namespace payments::testing
