// The exactly-once core (IdempotentCreator + Reconciler + the operation
// journal) driven by a scripted Dojo and a manual clock: no child
// processes, no sleeping.

#include "lib/payments/idempotent_creator.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/common/reloadable.h"
#include "lib/common/status_details.h"
#include "lib/dojo/dojo_client.h"
#include "lib/idempotency/idempotency_store.h"
#include "lib/idempotency/worker_pool.h"
#include "lib/payments/account_keys.h"
#include "lib/payments/fingerprint.h"
#include "lib/payments/operation_params.h"
#include "lib/payments/reconciler.h"
#include "tests/support/answer.h"
#include "tests/support/manual_clock.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/payments/fake_dojo.h"
#include "tests/unit/payments/pool_blocker.h"

namespace payments {
namespace {

using idempotency::Key;
using idempotency::OperationKind;
using idempotency::Record;
using idempotency::RecordState;
using testing::CreateFault;
using testing::FakeDojo;
using testing::ManualClock;
using testing::TempDir;

// The fake names an account by its key's last 4 characters.
constexpr char kKey[] = "sk_sandbox_first_SHOP";
constexpr char kRotatedKey[] = "sk_sandbox_second_SHOP";
constexpr char kOtherAccountKey[] = "sk_sandbox_first_ELSE";
constexpr char kPostCreate[] = "POST /payment-intents";
constexpr absl::Duration kSettle = absl::Minutes(1);

AccountKeys Keys(const std::string& key) {
  return AccountKeys({{"shop", key}}, "shop");
}

v1::CreateIntentRequest Request(const std::string& reference,
                                int64_t amount = 1000) {
  v1::CreateIntentRequest request;
  request.set_account("shop");
  request.set_reference(reference);
  request.mutable_amount()->set_value(amount);
  request.mutable_amount()->set_currency_code("GBP");
  return request;
}

class CreatorTest : public ::testing::Test {
 protected:
  CreatorTest()
      : transport_(clock_),
        dojo_(transport_,
              {.base_url = "http://dojo.test",
               .api_version = "2026-02-27",
               .retry = {.max_attempts = 3,
                         .initial_backoff = absl::Milliseconds(10),
                         .max_backoff = absl::Milliseconds(10)}},
              nullptr),
        store_(Open(dir_)),
        pool_(2),
        accounts_(Keys(kKey)),
        reconciler_(*store_, pool_, dojo_, accounts_, clock_, clock_,
                    {.settle_period = kSettle,
                     .clock_skew = absl::Minutes(2),
                     .poll_interval = absl::Seconds(1),
                     .recheck_initial = absl::Seconds(5),
                     .recheck_max = absl::Seconds(20),
                     .instance_id = "reconciler-a"},
                    nullptr),
        creator_(*store_, pool_, dojo_, reconciler_, clock_, clock_,
                 {.instance_id = "replica-a"}, nullptr) {}

  static std::unique_ptr<idempotency::IdempotencyStore> Open(
      const TempDir& dir) {
    auto store = idempotency::OpenStore("sqlite:" + dir.File("journal.db"));
    EXPECT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE((*store)->Migrate().ok());
    return *std::move(store);
  }

  struct Answered {
    absl::StatusOr<CreateOutcome> outcome;
    absl::Time at;
  };
  struct Pending {
    testing::Answer<Answered> answer;

    absl::StatusOr<CreateOutcome> Wait() {
      std::optional<Answered> answered = answer.Wait(absl::Seconds(10));
      EXPECT_TRUE(answered.has_value());
      if (!answered.has_value()) return absl::UnknownError("not answered");
      return answered->outcome;
    }
  };
  // Starts a create with `timeout` of (manual) time and returns a handle
  // whose Wait() gives the outcome.
  std::shared_ptr<Pending> Start(const v1::CreateIntentRequest& request,
                                 absl::Duration timeout = absl::Seconds(30)) {
    auto pending = std::make_shared<Pending>();
    const std::string key =
        std::string(*accounts_.Get()->KeyFor(request.account()));
    CallContext context;
    context.deadline = clock_.Now() + timeout;
    creator_.Create(request, key, context,
                    [this, pending](absl::StatusOr<CreateOutcome> outcome) {
                      pending->answer.Set({std::move(outcome), clock_.Now()});
                    });
    return pending;
  }
  absl::StatusOr<CreateOutcome> Create(
      const v1::CreateIntentRequest& request,
      absl::Duration timeout = absl::Seconds(30)) {
    return Start(request, timeout)->Wait();
  }

  std::optional<Record> Journal(const std::string& reference) {
    auto record =
        store_->Get({OperationKind::kCreate, "shop", reference}, clock_.Now());
    EXPECT_TRUE(record.ok()) << record.status();
    return record.ok() ? *record : std::nullopt;
  }

  // Runs one background reconciler round at the current time and waits for
  // it to end.
  void ReconcileNow() {
    auto claimed = std::make_shared<testing::Answer<int>>();
    reconciler_.RunRound([claimed](int count) { claimed->Set(count); });
    ASSERT_TRUE(claimed->Wait(absl::Seconds(10)).has_value());
  }

  static std::string ReasonOf(const absl::Status& status) {
    std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(status);
    return info.has_value() ? info->reason() : "";
  }

  ManualClock clock_;
  FakeDojo transport_;
  dojo::DojoClient dojo_;
  TempDir dir_;
  std::unique_ptr<idempotency::IdempotencyStore> store_;
  idempotency::WorkerPool pool_;
  Reloadable<AccountKeys> accounts_;
  Reconciler reconciler_;
  IdempotentCreator creator_;
};

TEST_F(CreatorTest, CreatesOnceThenReplaysTheJournaledIntent) {
  absl::StatusOr<CreateOutcome> first = Create(Request("order-1"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->replay);
  absl::StatusOr<CreateOutcome> second = Create(Request("order-1"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->replay);
  EXPECT_EQ(second->intent.id(), first->intent.id());
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 1);
  std::optional<Record> record = Journal("order-1");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->state, RecordState::kSucceeded);
  EXPECT_EQ(record->dojo_id, first->intent.id());
  EXPECT_EQ(record->attempts, 1);
  EXPECT_EQ(record->key_id, AccountKeys::KeyId(kKey));
}

// A replay the journal can read at once is answered on the calling thread,
// even while every worker of the pool is busy; anything else (here other
// parameters for the reference) still waits for the pool.
TEST_F(CreatorTest, AReplayIsAnsweredWithoutWaitingForThePool) {
  absl::StatusOr<CreateOutcome> first = Create(Request("order-1"));
  ASSERT_TRUE(first.ok()) << first.status();

  testing::PoolBlocker busy(pool_, 2);
  std::shared_ptr<Pending> replay = Start(Request("order-1"));
  EXPECT_TRUE(replay->answer.Ready());
  std::shared_ptr<Pending> mismatch = Start(Request("order-1", 2000));
  EXPECT_FALSE(mismatch->answer.Ready());
  busy.Release();

  absl::StatusOr<CreateOutcome> replayed = replay->Wait();
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_TRUE(replayed->replay);
  EXPECT_EQ(replayed->intent.id(), first->intent.id());
  EXPECT_EQ(mismatch->Wait().status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 1);
}

TEST_F(CreatorTest, OtherParametersForAReferenceAreRefused) {
  ASSERT_TRUE(Create(Request("order-1", 1000)).ok());
  absl::StatusOr<CreateOutcome> other = Create(Request("order-1", 2000));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReasonOf(other.status()), "REFERENCE_REUSED");
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 1);
}

// Dojo commits the create after the attempt gave up: the search that follows
// cannot see it. Nothing may be sent again until the reconciler has settled
// the operation; then the intent is what every later call gets.
TEST_F(CreatorTest, SlowCommitIsNeverSentTwice) {
  transport_.set_slow_commit(absl::Seconds(8));
  transport_.FailNextCreate(CreateFault::kSlowCommit);
  absl::StatusOr<CreateOutcome> first = Create(Request("order-1"));
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(first.status()), "OUTCOME_UNKNOWN");
  EXPECT_TRUE(GetRetryInfo(first.status()).has_value());
  EXPECT_EQ(Journal("order-1")->state, RecordState::kUnknown);

  clock_.Advance(absl::Seconds(3));
  absl::StatusOr<CreateOutcome> again = Create(Request("order-1"));
  EXPECT_EQ(ReasonOf(again.status()), "OUTCOME_UNKNOWN");
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 1);

  clock_.Advance(absl::Seconds(10));  // Committed now.
  ReconcileNow();
  EXPECT_EQ(Journal("order-1")->state, RecordState::kSucceeded);
  absl::StatusOr<CreateOutcome> later = Create(Request("order-1"));
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_TRUE(later->replay);
  ASSERT_EQ(transport_.IntentsWithReference("order-1").size(), 1u);
  EXPECT_EQ(later->intent.id(),
            transport_.IntentsWithReference("order-1")[0].id);
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 1);
}

TEST_F(CreatorTest, SearchLagAfterALostAnswerIsWaitedOut) {
  transport_.set_search_lag(absl::Seconds(20));
  transport_.FailNextCreate(CreateFault::kProcessThenDrop);
  EXPECT_EQ(ReasonOf(Create(Request("order-1")).status()), "OUTCOME_UNKNOWN");
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(ReasonOf(Create(Request("order-1")).status()), "OUTCOME_UNKNOWN");
  clock_.Advance(absl::Seconds(15));
  absl::StatusOr<CreateOutcome> found = Create(Request("order-1"));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(transport_.IntentsWithReference("order-1").size(), 1u);
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 1);
}

// "Not found" becomes "not created" only after the settle period, and only
// then may the reference create anew.
TEST_F(CreatorTest, NotFoundIsSettledOnlyAfterTheSettlePeriod) {
  transport_.FailNextCreate(CreateFault::kTimeoutUnprocessed);
  EXPECT_EQ(ReasonOf(Create(Request("order-1")).status()), "OUTCOME_UNKNOWN");
  clock_.Advance(kSettle - absl::Seconds(5));
  ReconcileNow();
  EXPECT_EQ(Journal("order-1")->state, RecordState::kUnknown);
  EXPECT_EQ(ReasonOf(Create(Request("order-1")).status()), "OUTCOME_UNKNOWN");
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 1);

  clock_.Advance(absl::Seconds(10));
  ReconcileNow();
  EXPECT_EQ(Journal("order-1")->state, RecordState::kSettledNotCreated);
  absl::StatusOr<CreateOutcome> fresh = Create(Request("order-1"));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_FALSE(fresh->replay);
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 2);
  EXPECT_EQ(transport_.IntentsWithReference("order-1").size(), 1u);
  EXPECT_EQ(Journal("order-1")->attempts, 2);
}

// Every recheck searches the same window: it does not grow with retries.
TEST_F(CreatorTest, TheSearchWindowNeverGrows) {
  transport_.FailNextCreate(CreateFault::kTimeoutUnprocessed);
  EXPECT_EQ(ReasonOf(Create(Request("order-1")).status()), "OUTCOME_UNKNOWN");
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(absl::Seconds(12));
    ReconcileNow();
  }
  const auto windows = transport_.search_windows();
  ASSERT_GE(windows.size(), 4u);
  for (const auto& window : windows) EXPECT_EQ(window, windows.front());
}

// A busy account: by the time the lost create shows up in search, 2,500
// later intents bury it on page 26. Every page is read.
TEST_F(CreatorTest, EveryPageOfABusyWindowIsRead) {
  transport_.set_search_lag(absl::Seconds(20));
  transport_.FailNextCreate(CreateFault::kProcessThenDrop);
  EXPECT_EQ(ReasonOf(Create(Request("order-1")).status()), "OUTCOME_UNKNOWN");
  transport_.AddIntents("SHOP", 2500);
  clock_.Advance(absl::Seconds(25));
  ReconcileNow();
  EXPECT_EQ(Journal("order-1")->state, RecordState::kSucceeded);
  EXPECT_GE(transport_.CountRequests("POST /payment-intents/search"), 1 + 26);
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 1);
}

// A 200 that is not this create's intent is an unknown outcome, settled from
// Dojo's state; it is never journaled as the result.
TEST_F(CreatorTest, AnAnswerThatIsNotOurIntentIsNeverRecorded) {
  transport_.FailNextCreate(CreateFault::kWrongAnswer);
  absl::StatusOr<CreateOutcome> created = Create(Request("order-1"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->intent.reference(), "order-1");
  ASSERT_EQ(transport_.IntentsWithReference("order-1").size(), 1u);
  EXPECT_EQ(created->intent.id(),
            transport_.IntentsWithReference("order-1")[0].id);
  EXPECT_EQ(Journal("order-1")->dojo_id, created->intent.id());
}

TEST_F(CreatorTest, ServerErrorAfterProcessingIsFoundNotResent) {
  transport_.FailNextCreate(CreateFault::kServerErrorAfterProcessing);
  absl::StatusOr<CreateOutcome> created = Create(Request("order-1"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(created->replay);
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 1);
}

TEST_F(CreatorTest, ARequestThatNeverLeftIsSentAgainAtOnce) {
  transport_.FailNextCreate(CreateFault::kNeverSent);
  const auto pending = Start(Request("order-1"));
  // The retry waits out its backoff on the manual clock.
  while (!pending->answer.Ready()) {
    if (clock_.pending() > 0) clock_.Advance(absl::Milliseconds(10));
    absl::SleepFor(absl::Milliseconds(1));
  }
  absl::StatusOr<CreateOutcome> created = pending->Wait();
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 2);
  EXPECT_EQ(transport_.IntentsWithReference("order-1").size(), 1u);
}

TEST_F(CreatorTest, ADefiniteRefusalFreesTheReference) {
  transport_.FailNextCreate(CreateFault::kRejected);
  EXPECT_EQ(Create(Request("order-1")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Journal("order-1")->state, RecordState::kFailed);
  ASSERT_TRUE(Create(Request("order-1")).ok());
  EXPECT_EQ(transport_.IntentsWithReference("order-1").size(), 1u);
  EXPECT_EQ(Journal("order-1")->attempts, 2);
}

// The duplicate sweeper keeps one intent, cancels the others that are still
// Created and leaves alone any that has moved on.
TEST_F(CreatorTest, DuplicatesAreCanceledWhileCreatedAndReportedOtherwise) {
  transport_.set_search_lag(absl::Seconds(10));
  transport_.FailNextCreate(CreateFault::kProcessThenDrop);
  EXPECT_EQ(ReasonOf(Create(Request("order-1")).status()), "OUTCOME_UNKNOWN");
  // Not possible through this service; here as if another path made them.
  const std::string created =
      transport_.AddIntent("SHOP", "order-1", 1000, clock_.Now());
  const std::string paid =
      transport_.AddIntent("SHOP", "order-1", 1000, clock_.Now());
  transport_.SetStatus(paid, "Authorized");
  clock_.Advance(absl::Seconds(15));
  ReconcileNow();
  const std::vector<FakeDojo::Intent> intents =
      transport_.IntentsWithReference("order-1");
  ASSERT_EQ(intents.size(), 3u);
  EXPECT_EQ(intents[0].status, "Created");  // The oldest: kept.
  EXPECT_EQ(Journal("order-1")->dojo_id, intents[0].id);
  EXPECT_EQ(intents[1].id, created);
  EXPECT_EQ(intents[1].status, "Canceled");
  EXPECT_EQ(intents[2].status, "Authorized");
}

TEST_F(CreatorTest, AWaiterGivesUpWithRetryInfoBeforeItsDeadline) {
  transport_.FailNextCreate(CreateFault::kHold);
  const auto owner = Start(Request("order-1"), absl::Seconds(30));
  while (transport_.held() == 0) absl::SleepFor(absl::Milliseconds(1));
  const absl::Time deadline = clock_.Now() + absl::Seconds(2);
  const auto waiter = Start(Request("order-1"), absl::Seconds(2));
  while (!waiter->answer.Ready()) {
    if (clock_.pending() > 0) clock_.Advance(absl::Milliseconds(50));
    absl::SleepFor(absl::Milliseconds(1));
  }
  absl::StatusOr<CreateOutcome> gave_up = waiter->Wait();
  EXPECT_EQ(gave_up.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(ReasonOf(gave_up.status()), "OPERATION_IN_PROGRESS");
  EXPECT_TRUE(GetRetryInfo(gave_up.status()).has_value());
  EXPECT_LT(waiter->answer.Wait(absl::ZeroDuration())->at, deadline);

  transport_.ReleaseHeld(CreateFault::kHold);
  ASSERT_TRUE(owner->Wait().ok());
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 1);
}

// An owner that died after journaling "sent" leaves a record whose lease
// lapses: the next caller settles it instead of waiting out its deadline.
TEST_F(CreatorTest, ARecordWhoseOwnerDiedIsSettledNotWaitedFor) {
  const Key key{OperationKind::kCreate, "shop", "order-1"};
  v1::CreateIntentRequest request = Request("order-1");
  ASSERT_TRUE(store_
                  ->Reserve(key, CreateFingerprint(request),
                            CreateParams(request), AccountKeys::KeyId(kKey),
                            "dead-replica/1", clock_.Now(), absl::Seconds(10),
                            absl::Hours(24 * 30))
                  .ok());
  ASSERT_TRUE(store_->MarkSent(key, "dead-replica/1", clock_.Now()).ok());
  clock_.Advance(absl::Seconds(11));
  absl::StatusOr<CreateOutcome> outcome = Create(Request("order-1"));
  EXPECT_EQ(ReasonOf(outcome.status()), "OUTCOME_UNKNOWN");
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 0);
}

// An owner that died before sending: nothing reached Dojo, so the next
// caller settles the record at once and creates.
TEST_F(CreatorTest, AnAbandonedUnsentRecordIsSettledAndCreated) {
  const Key key{OperationKind::kCreate, "shop", "order-1"};
  v1::CreateIntentRequest request = Request("order-1");
  ASSERT_TRUE(store_
                  ->Reserve(key, CreateFingerprint(request),
                            CreateParams(request), AccountKeys::KeyId(kKey),
                            "dead-replica/1", clock_.Now(), absl::Seconds(10),
                            absl::Hours(24 * 30))
                  .ok());
  clock_.Advance(absl::Seconds(11));
  absl::StatusOr<CreateOutcome> outcome = Create(Request("order-1"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 1);
}

TEST_F(CreatorTest, ARotatedKeyOfTheSameAccountStillReplays) {
  absl::StatusOr<CreateOutcome> first = Create(Request("order-1"));
  ASSERT_TRUE(first.ok());
  accounts_.Replace(Keys(kRotatedKey));
  absl::StatusOr<CreateOutcome> replay = Create(Request("order-1"));
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->replay);
  EXPECT_EQ(replay->intent.id(), first->intent.id());
  EXPECT_EQ(Journal("order-1")->key_id, AccountKeys::KeyId(kRotatedKey));
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 1);
}

TEST_F(CreatorTest, AnotherAccountsKeyNeverGetsTheRecordReplayed) {
  ASSERT_TRUE(Create(Request("order-1")).ok());
  accounts_.Replace(Keys(kOtherAccountKey));
  absl::StatusOr<CreateOutcome> other = Create(Request("order-1"));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(other.status()), "ACCOUNT_MISMATCH");
  EXPECT_EQ(transport_.CountRequests(kPostCreate), 1);
}

TEST_F(CreatorTest, AProductionKeyNeverReplaysASandboxRecord) {
  ASSERT_TRUE(Create(Request("order-1")).ok());
  accounts_.Replace(Keys("sk_prod_live_SHOP"));
  absl::StatusOr<CreateOutcome> other = Create(Request("order-1"));
  EXPECT_EQ(ReasonOf(other.status()), "ACCOUNT_MISMATCH");
  // Decided from the key ids alone: no create, no lookup.
  EXPECT_EQ(transport_.requests().size(), 1u);
}

// An intent lock and the cancel it guards, both left unknown by the
// cancel's call. While the reconciler settles the lock (by settling the
// cancel first), the cancel's own call finds the cancel before it: the
// lock is still released at once, not left unknown until its next check.
TEST_F(CreatorTest, ALockIsReleasedWhenAnotherSettlerFindsItsOperationFirst) {
  const std::string intent_id =
      transport_.AddIntent("SHOP", "order-1", 1000, clock_.Now());
  transport_.SetStatus(intent_id, "Canceled");
  const Key cancel{OperationKind::kCancel, "shop", intent_id};
  const Key lock{OperationKind::kIntentLock, "shop", intent_id};
  OperationParams cancel_params;
  cancel_params.intent_id = intent_id;
  OperationParams lock_params = cancel_params;
  lock_params.guarded = cancel;
  for (const auto& [key, params] :
       {std::pair(lock, lock_params), std::pair(cancel, cancel_params)}) {
    auto reserved = store_->Reserve(
        key, "fingerprint", params.ToJson(), AccountKeys::KeyId(kKey), "op-1",
        clock_.Now(), absl::Seconds(30), absl::Hours(1));
    ASSERT_TRUE(reserved.ok() && reserved->acquired);
    ASSERT_TRUE(store_->MarkSent(key, "op-1", clock_.Now()).ok());
    ASSERT_TRUE(store_->MarkUnknown(key, "op-1", clock_.Now()).ok());
  }
  transport_.BeforeNextGet([&] {
    auto record = store_->Get(cancel, clock_.Now());
    ASSERT_TRUE(record.ok() && record->has_value());
    EXPECT_TRUE(
        store_->Resolve(cancel, (*record)->version, intent_id, "", clock_.Now())
            .ok());
  });

  auto answer = std::make_shared<testing::Answer<SettleResult>>();
  CallContext context;
  context.deadline = clock_.Now() + absl::Seconds(30);
  reconciler_.Settle(
      **store_->Get(lock, clock_.Now()), context,
      [answer](SettleResult settled) { answer->Set(std::move(settled)); });
  std::optional<SettleResult> result = answer->Wait(absl::Seconds(10));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->settlement, Settlement::kNotCreated) << result->error;
  EXPECT_EQ((*store_->Get(lock, clock_.Now()))->state,
            RecordState::kSettledNotCreated);
  EXPECT_EQ((*store_->Get(cancel, clock_.Now()))->state,
            RecordState::kSucceeded);
}

}  // namespace
}  // namespace payments
