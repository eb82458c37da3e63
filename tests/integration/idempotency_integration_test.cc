// One (account, reference), one Dojo intent: replays, mismatches, single
// flight across two servers on PostgreSQL, restarts on SQLite, a server
// killed mid-create, store outages and webhook redeliveries. The emulator's
// log and its intents by reference are the ground truth.

#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "lib/webhook/signature_verifier.h"
#include "payments/v1/payments_service.grpc.pb.h"
#include "tests/integration/postgres_server.h"
#include "tests/integration/rpc_test_util.h"
#include "tests/integration/stack_test.h"
#include "tests/integration/test_stack.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace payments::testing {
namespace {

using nlohmann::json;

class IdempotencyTest : public StackTest {
 protected:
  static void StartStack(StackOptions options) {
    options.server_env.emplace_back("PAYMENTS_UPSTREAM_TIMEOUT", "2s");
    options.server_env.emplace_back("PAYMENTS_RETRY_INITIAL_BACKOFF", "50ms");
    StackTest::StartStack(std::move(options));
  }
  static void SetUpTestSuite() { StartStack({}); }

  static grpc::Status Create(const v1::CreateIntentRequest& request,
                             v1::CreateIntentResponse& response, int server = 0,
                             absl::Duration deadline = absl::Seconds(10)) {
    return Stub(server)->CreateIntent(ContextWithDeadline(deadline).get(),
                                      request, &response);
  }

  static int UpstreamCreates() {
    int creates = 0;
    for (const json& entry : stack_->UpstreamRequests()) {
      creates +=
          entry["method"] == "POST" && entry["path"] == "/payment-intents";
    }
    return creates;
  }

  static std::string Unique(absl::string_view prefix) {
    return absl::StrCat(prefix, "-", absl::ToUnixMicros(absl::Now()));
  }

  // Replay, mismatch and link/intent sharing: the same on every backend.
  void ExpectReplayAndMismatch() {
    const std::string reference = Unique("Order-replay");
    v1::CreateIntentResponse first;
    ASSERT_TRUE(Create(MinimalCreate(reference), first).ok());
    EXPECT_FALSE(first.idempotent_replay());

    v1::CreateIntentResponse again;
    ASSERT_TRUE(Create(MinimalCreate(reference), again).ok());
    EXPECT_TRUE(again.idempotent_replay());
    EXPECT_EQ(again.intent().id(), first.intent().id());
    EXPECT_EQ(again.intent().amount().value(), 1250);

    // The same parameters as a payment link: the same intent.
    v1::CreatePaymentLinkRequest link;
    link.set_reference(reference);
    *link.mutable_amount() = MinimalCreate(reference).amount();
    v1::CreatePaymentLinkResponse link_response;
    ASSERT_TRUE(Stub()
                    ->CreatePaymentLink(ContextWithDeadline().get(), link,
                                        &link_response)
                    .ok());
    EXPECT_TRUE(link_response.idempotent_replay());
    EXPECT_EQ(link_response.intent().id(), first.intent().id());

    v1::CreateIntentResponse other;
    grpc::Status status = Create(MinimalCreate(reference, 999), other);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
    EXPECT_EQ(ReasonOf(status), "REFERENCE_REUSED");

    EXPECT_EQ(UpstreamCreates(), 1) << "replays must not call Dojo";
    EXPECT_EQ(IntentsWithReference(reference), 1u);
  }
};

TEST_F(IdempotencyTest, SqliteReplaysAndRefusesMismatches) {
  ExpectReplayAndMismatch();
}

TEST_F(IdempotencyTest, DefiniteFailureReleasesTheKey) {
  const std::string reference = Unique("Order-rejected");
  Script(
      "POST", "/payment-intents",
      json::parse(
          R"([{"status":400,"body":"{\"title\":\"Bad\",\"status\":400}","contentType":"application/problem+json"}])"));
  v1::CreateIntentResponse response;
  EXPECT_EQ(Create(MinimalCreate(reference), response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Nothing exists at Dojo, so the same reference may be created.
  ASSERT_TRUE(Create(MinimalCreate(reference), response).ok());
  EXPECT_FALSE(response.idempotent_replay());
  EXPECT_EQ(UpstreamCreates(), 2);
  EXPECT_EQ(IntentsWithReference(reference), 1u);
}

TEST_F(IdempotencyTest, UnknownOutcomeIsReconciledByTheNextCall) {
  const std::string reference = Unique("Order-unknown");
  // Dojo creates the intent but the answer is lost, and the search that
  // would find it fails too (every search until the reset, so that a
  // background reconciler round cannot use up the failures and let the
  // call's own search find it): the outcome stays unknown.
  Script("POST", "/payment-intents",
         json::parse(R"([{"processThenDrop":true}])"));
  Script("POST", "/payment-intents/search",
         json::parse(R"([{"status":500,"repeat":50}])"));
  v1::CreateIntentResponse response;
  grpc::Status status = Create(MinimalCreate(reference), response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(status), "OUTCOME_UNKNOWN");

  // The caller retries: the key was kept, so Dojo is searched first.
  stack_->ResetEmulator();
  ASSERT_TRUE(Create(MinimalCreate(reference), response).ok());
  EXPECT_TRUE(response.idempotent_replay());
  EXPECT_EQ(UpstreamCreates(), 0) << "found by search, not created again";
  EXPECT_EQ(IntentsWithReference(reference), 1u);
}

TEST_F(IdempotencyTest, ConcurrentIdenticalCallsCreateOnce) {
  const std::string reference = Unique("Order-burst");
  // A slow Dojo keeps the first call in flight while the others arrive.
  Script("POST", "/payment-intents", json::parse(R"([{"delayMs":500}])"));
  std::vector<std::thread> callers;
  absl::Mutex mutex;
  std::set<std::string> ids;
  int ok = 0;
  for (int i = 0; i < 20; ++i) {
    callers.emplace_back([&] {
      v1::CreateIntentResponse response;
      if (Create(MinimalCreate(reference), response).ok()) {
        absl::MutexLock lock(&mutex);
        ++ok;
        ids.insert(response.intent().id());
      }
    });
  }
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(ok, 20);
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(UpstreamCreates(), 1);
}

TEST_F(IdempotencyTest, RestartOnTheSameSqliteFileStillReplays) {
  const std::string reference = Unique("Order-restart");
  v1::CreateIntentResponse first;
  ASSERT_TRUE(Create(MinimalCreate(reference), first).ok());
  EXPECT_EQ(stack_->StopServer(0, SIGTERM), 0);
  ASSERT_TRUE(stack_->RestartServer(0).ok());
  stack_->ResetEmulator();
  v1::CreateIntentResponse again;
  ASSERT_TRUE(Create(MinimalCreate(reference), again).ok());
  EXPECT_TRUE(again.idempotent_replay());
  EXPECT_EQ(again.intent().id(), first.intent().id());
  EXPECT_EQ(UpstreamCreates(), 0);
}

TEST_F(IdempotencyTest, ServerKilledMidCreateLeavesNoSecondIntent) {
  const std::string reference = Unique("Order-killed");
  // Dojo processes the create at once but answers only after 4 s.
  Script("POST", "/payment-intents", json::parse(R"([{"delayMs":4000}])"));
  std::thread caller([&] {
    v1::CreateIntentResponse response;
    // Fails: the server dies under it.
    (void)Create(MinimalCreate(reference), response, 0, absl::Seconds(3));
  });
  ASSERT_TRUE(WaitFor([&] { return IntentsWithReference(reference) == 1; },
                      absl::Seconds(5)));
  stack_->StopServer(0, SIGKILL);
  caller.join();
  ASSERT_TRUE(stack_->RestartServer(0).ok());

  // The caller retries. The dead call's lease must lapse, then the new
  // owner reconciles with Dojo and finds the intent.
  v1::CreateIntentResponse response;
  grpc::Status status =
      Create(MinimalCreate(reference), response, 0, absl::Seconds(20));
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.idempotent_replay());
  EXPECT_EQ(response.intent().reference(), reference);
  EXPECT_EQ(UpstreamCreates(), 1) << "only the killed server's create";
  EXPECT_EQ(IntentsWithReference(reference), 1u);
}

TEST_F(IdempotencyTest, DuplicateWebhookDeliveriesAreFlagged) {
  v1::VerifyWebhookRequest request;
  request.set_body(absl::StrCat(
      R"({"id":"evt_)", absl::ToUnixMicros(absl::Now()),
      R"(","event":"payment_intent.status_updated","accountId":"acc_1",)",
      R"("createdAt":"2026-11-24T10:00:00Z","data":{"paymentIntentId":"pi_sandbox_x","paymentStatus":"Captured","captureMode":"Auto"}})"));
  request.set_signature(
      webhook::ComputeSignature(kWebhookSecret, request.body()));
  v1::VerifyWebhookResponse first;
  ASSERT_TRUE(
      Stub()->VerifyWebhook(ContextWithDeadline().get(), request, &first).ok());
  EXPECT_FALSE(first.duplicate());
  v1::VerifyWebhookResponse second;
  ASSERT_TRUE(Stub()
                  ->VerifyWebhook(ContextWithDeadline().get(), request, &second)
                  .ok());
  EXPECT_TRUE(second.duplicate());
  EXPECT_GT(second.first_seen_at().seconds(), 0);
  EXPECT_LE(second.first_seen_at().seconds(), absl::ToUnixSeconds(absl::Now()));
}

// Two servers sharing one PostgreSQL.
class PostgresIdempotencyTest : public IdempotencyTest {
 protected:
  static void SetUpTestSuite() {
    postgres_ = Postgres::Start().release();
    if (postgres_ == nullptr) return FailStart("PostgreSQL did not start");
    StartStack({.servers = 2, .store = postgres_->url()});
  }
  static void TearDownTestSuite() {
    IdempotencyTest::TearDownTestSuite();
    delete postgres_;
    postgres_ = nullptr;
  }

  static bool Ready(int server) {
    auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
        stack_->grpc_target(server), grpc::InsecureChannelCredentials()));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service("payments.v1.PaymentsService");
    grpc::health::v1::HealthCheckResponse response;
    return health->Check(ContextWithDeadline().get(), request, &response)
               .ok() &&
           response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  }

  static Postgres* postgres_;
};

Postgres* PostgresIdempotencyTest::postgres_ = nullptr;

TEST_F(PostgresIdempotencyTest, ReplaysAndRefusesMismatches) {
  ExpectReplayAndMismatch();
}

TEST_F(PostgresIdempotencyTest, FiftyConcurrentCallsOverTwoServersCreateOnce) {
  const std::string reference = Unique("Order-fifty");
  Script("POST", "/payment-intents", json::parse(R"([{"delayMs":300}])"));
  std::vector<std::thread> callers;
  absl::Mutex mutex;
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    callers.emplace_back([&, i] {
      v1::CreateIntentResponse response;
      grpc::Status status = Create(MinimalCreate(reference), response, i % 2);
      absl::MutexLock lock(&mutex);
      ids.push_back(status.ok() ? response.intent().id()
                                : "error: " + status.error_message());
    });
  }
  for (std::thread& caller : callers) caller.join();
  ASSERT_EQ(ids.size(), 50u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1u)
      << ids.front();
  EXPECT_TRUE(absl::StartsWith(ids.front(), "pi_sandbox_"));
  EXPECT_EQ(UpstreamCreates(), 1);
  EXPECT_EQ(IntentsWithReference(reference), 1u);
}

TEST_F(PostgresIdempotencyTest, StoreOutageRefusesCreatesAndRecovers) {
  // Readiness follows the store: the two servers migrate the fresh database
  // at once at start-up, and one may retry (its monitor checks every 2 s).
  ASSERT_TRUE(WaitFor([] { return Ready(0); }, absl::Seconds(10)));
  const std::string id = [&] {
    v1::CreateIntentResponse created;
    EXPECT_TRUE(Create(MinimalCreate(Unique("Order-before")), created).ok());
    return created.intent().id();
  }();
  stack_->ResetEmulator();
  ASSERT_TRUE(postgres_->Stop());

  v1::CreateIntentResponse response;
  grpc::Status status = Create(MinimalCreate(Unique("Order-outage")), response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(status), "STORE_UNAVAILABLE");
  EXPECT_EQ(stack_->UpstreamRequests().size(), 0u) << "nothing sent to Dojo";
  EXPECT_TRUE(WaitFor([] { return !Ready(0); }, absl::Seconds(10)))
      << "readiness must report NOT_SERVING";

  // Reads and webhooks do not need the store.
  v1::GetIntentRequest get;
  get.set_id(id);
  v1::GetIntentResponse got;
  EXPECT_TRUE(Stub()->GetIntent(ContextWithDeadline().get(), get, &got).ok());
  v1::VerifyWebhookRequest webhook;
  webhook.set_body(
      R"({"id":"evt_outage","event":"payment_intent.created","accountId":"a","createdAt":"2026-11-24T10:00:00Z","data":{"paymentIntentId":"pi_x","paymentStatus":"Created","captureMode":"Auto"}})");
  webhook.set_signature(
      webhook::ComputeSignature(kWebhookSecret, webhook.body()));
  v1::VerifyWebhookResponse verified;
  EXPECT_TRUE(
      Stub()
          ->VerifyWebhook(ContextWithDeadline().get(), webhook, &verified)
          .ok());

  ASSERT_TRUE(postgres_->Restart());
  EXPECT_TRUE(WaitFor([] { return Ready(0); }, absl::Seconds(15)));
  const std::string reference = Unique("Order-after");
  status = Create(MinimalCreate(reference), response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(IntentsWithReference(reference), 1u);
}

}  // namespace
}  // namespace payments::testing
