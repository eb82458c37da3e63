#include "lib/payments/payments_service.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
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
#include "tests/support/manual_clock.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/payments/fake_dojo.h"

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

  struct Verified {
    absl::Notification done;
    absl::StatusOr<v1::VerifyWebhookResponse> response =
        absl::UnknownError("not answered");
  };
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
          verified->response = std::move(response);
          verified->done.Notify();
        });
    return verified;
  }

  // Occupies every worker of the pool until the returned notification.
  std::unique_ptr<absl::Notification> BusyPool() {
    auto release = std::make_unique<absl::Notification>();
    absl::BlockingCounter busy(2);
    for (int i = 0; i < 2; ++i) {
      pool_.Post([&busy, release = release.get()] {
        busy.DecrementCount();
        release->WaitForNotification();
      });
    }
    busy.Wait();
    return release;
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
  std::shared_ptr<Verified> first = Verify("evt_1");
  ASSERT_TRUE(first->done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(first->response.ok()) << first->response.status();
  EXPECT_FALSE(first->response->duplicate());

  std::unique_ptr<absl::Notification> release = BusyPool();
  std::shared_ptr<Verified> again = Verify("evt_1");
  EXPECT_TRUE(again->done.HasBeenNotified());
  std::shared_ptr<Verified> other = Verify("evt_2");
  EXPECT_FALSE(other->done.HasBeenNotified());
  release->Notify();

  ASSERT_TRUE(again->done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(again->response.ok()) << again->response.status();
  EXPECT_TRUE(again->response->duplicate());
  EXPECT_TRUE(again->response->has_first_seen_at());
  ASSERT_TRUE(other->done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(other->response.ok()) << other->response.status();
  EXPECT_FALSE(other->response->duplicate());
}

}  // namespace
}  // namespace payments
