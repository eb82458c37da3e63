#include "lib/payments/payments_service.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/common/reloadable.h"
#include "lib/dojo/dojo_client.h"
#include "lib/idempotency/idempotency_store.h"
#include "lib/idempotency/worker_pool.h"
#include "lib/payments/account_keys.h"
#include "lib/payments/idempotent_creator.h"
#include "lib/payments/intent_operations.h"
#include "lib/payments/reconciler.h"
#include "lib/webhook/signature_verifier.h"
#include "tests/support/answer.h"
#include "tests/support/manual_clock.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/payments/fake_dojo.h"
#include "tests/unit/payments/pool_blocker.h"

namespace payments {
namespace {

using testing::FakeDojo;
using testing::ManualClock;
using testing::TempDir;

constexpr char kKey[] = "sk_sandbox_first_SHOP";
constexpr char kSecret[] = "whsec_service_test";

std::unique_ptr<idempotency::IdempotencyStore> OpenJournal(const TempDir& dir) {
  auto store = idempotency::OpenStore("sqlite:" + dir.File("journal.db"));
  EXPECT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->Migrate().ok());
  return *std::move(store);
}

// The service over the embedded journal, a scripted Dojo and a pool of two
// workers that a test can keep busy.
class PaymentsServiceTest : public ::testing::Test {
 protected:
  PaymentsServiceTest()
      : transport_(clock_),
        dojo_(transport_,
              {.base_url = "http://dojo.test", .api_version = "2026-02-27"},
              nullptr),
        store_(OpenJournal(dir_)),
        pool_(2),
        accounts_(AccountKeys({{"shop", kKey}}, "shop")),
        verifier_(webhook::SignatureVerifier(
            std::vector<webhook::WebhookSecret>{{"primary", kSecret}})),
        reconciler_(*store_, pool_, dojo_, accounts_, clock_, clock_,
                    {.instance_id = "reconciler-a"}, nullptr),
        creator_(*store_, pool_, dojo_, reconciler_, clock_, clock_,
                 {.instance_id = "replica-a"}, nullptr),
        operations_(*store_, pool_, dojo_, reconciler_, clock_, clock_,
                    {.instance_id = "replica-a"}, nullptr),
        service_(dojo_, creator_, operations_, *store_, pool_, accounts_,
                 verifier_, {}, nullptr) {}

  ~PaymentsServiceTest() override { pool_.Stop(); }

  using Verified = testing::Answer<absl::StatusOr<v1::VerifyWebhookResponse>>;
  std::shared_ptr<Verified> Verify(const std::string& event_id) {
    const std::string body = R"({"id":")" + event_id +
                             R"(","event":"payment_intent.created",)"
                             R"("accountId":"acc_test","createdAt":)"
                             R"("2026-11-29T10:00:00Z","data":{}})";
    v1::VerifyWebhookRequest request;
    request.set_body(body);
    request.set_signature(webhook::ComputeSignature(kSecret, body));
    auto verified = std::make_shared<Verified>();
    service_.VerifyWebhook(
        request,
        [verified](absl::StatusOr<v1::VerifyWebhookResponse> response) {
          verified->Set(std::move(response));
        });
    return verified;
  }

  ManualClock clock_;
  FakeDojo transport_;
  dojo::DojoClient dojo_;
  TempDir dir_;
  std::unique_ptr<idempotency::IdempotencyStore> store_;
  idempotency::WorkerPool pool_;
  Reloadable<AccountKeys> accounts_;
  Reloadable<webhook::SignatureVerifier> verifier_;
  Reconciler reconciler_;
  IdempotentCreator creator_;
  IntentOperations operations_;
  PaymentsService service_;
};

// A redelivered event the journal can read at once is flagged on the calling
// thread, even while every worker is busy; a new event is remembered on the
// pool, so it waits for a worker.
TEST_F(PaymentsServiceTest, ARedeliveryIsFlaggedWithoutWaitingForThePool) {
  std::optional<absl::StatusOr<v1::VerifyWebhookResponse>> first =
      Verify("evt_1")->Wait(absl::Seconds(10));
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->ok()) << first->status();
  EXPECT_FALSE((*first)->duplicate());

  testing::PoolBlocker busy(pool_, 2);
  std::shared_ptr<Verified> again = Verify("evt_1");
  EXPECT_TRUE(again->Ready());
  std::shared_ptr<Verified> other = Verify("evt_2");
  EXPECT_FALSE(other->Ready());
  busy.Release();

  std::optional<absl::StatusOr<v1::VerifyWebhookResponse>> flagged =
      again->Wait(absl::Seconds(10));
  ASSERT_TRUE(flagged.has_value());
  ASSERT_TRUE(flagged->ok()) << flagged->status();
  EXPECT_TRUE((*flagged)->duplicate());
  EXPECT_TRUE((*flagged)->has_first_seen_at());
  std::optional<absl::StatusOr<v1::VerifyWebhookResponse>> remembered =
      other->Wait(absl::Seconds(10));
  ASSERT_TRUE(remembered.has_value());
  ASSERT_TRUE(remembered->ok()) << remembered->status();
  EXPECT_FALSE((*remembered)->duplicate());
}

}  // namespace
}  // namespace payments
