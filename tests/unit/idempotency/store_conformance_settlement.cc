// Conformance: settlement (Resolve, SettleNotCreated, Reschedule), Rebind,
// the reconciler's claims (ClaimDue) and SummarizeUnknown.

#include <algorithm>
#include <latch>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tests/unit/idempotency/store_conformance.h"
#include "tests/unit/idempotency/store_test_util.h"

namespace payments::idempotency::testing {
namespace {

const absl::Time kEnded = kNow + absl::Seconds(3);
const absl::Time kLater = kNow + absl::Minutes(10);

TEST_P(StoreConformanceTest, ResolveSettlesAnUnknownRecordAsSucceeded) {
  const Key key = MakeKey("Order-1");
  const Record unknown = MustMakeUnknown(*store_, key, "owner-a", kNow, kEnded);
  EXPECT_CONFLICT(
      store_->Resolve(key, unknown.version - 1, "pi_1", "intent", kLater));
  EXPECT_CONFLICT(
      store_->Resolve(key, unknown.version + 1, "pi_1", "intent", kLater));
  ASSERT_OK(store_->Resolve(key, unknown.version, "pi_1", "intent", kLater));
  Record resolved = MustFind(*store_, key, kLater);
  EXPECT_EQ(resolved.state, RecordState::kSucceeded);
  EXPECT_EQ(resolved.dojo_id, "pi_1");
  EXPECT_EQ(resolved.result, "intent");
  EXPECT_EQ(resolved.version, unknown.version + 1);
  EXPECT_EQ(resolved.owner, "");  // Settled: nobody's any more.
  EXPECT_EQ(resolved.sent_at, kNow);
  EXPECT_EQ(resolved.ended_at, kEnded);  // It had ended: kept.
  std::vector<Attempt> attempts = MustListAttempts(*store_, key);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].outcome, "succeeded");
  EXPECT_EQ(attempts[0].ended_at, kEnded);

  // A repeat finds the version moved; the old owner's late transitions fail.
  EXPECT_CONFLICT(
      store_->Resolve(key, unknown.version, "pi_1", "intent", kLater));
  EXPECT_CONFLICT(store_->MarkUnknown(key, "owner-a", kLater));
  EXPECT_CONFLICT(store_->Succeed(key, "owner-a", "pi_1", "intent", kLater));
  EXPECT_CONFLICT(store_->Fail(key, "owner-a", kLater));
}

TEST_P(StoreConformanceTest, ResolveOfAnAbandonedSentRecordEndsItsAttempt) {
  const Key key = MakeKey("Order-1");
  const Record sent = MustSend(*store_, key, "owner-a");
  // The lease still runs: the owner may yet finish it.
  EXPECT_CONFLICT(store_->Resolve(key, sent.version, "pi_1", "intent",
                                  kNow + kLease - absl::Microseconds(1)));
  ASSERT_OK(
      store_->Resolve(key, sent.version, "pi_1", "intent", kNow + kLease));
  Record resolved = MustFind(*store_, key, kNow + kLease);
  EXPECT_EQ(resolved.state, RecordState::kSucceeded);
  EXPECT_EQ(resolved.ended_at, kNow + kLease);
  std::vector<Attempt> attempts = MustListAttempts(*store_, key);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].outcome, "succeeded");
  EXPECT_EQ(attempts[0].ended_at, kNow + kLease);
  // The owner, back late, cannot overwrite it.
  EXPECT_CONFLICT(store_->Succeed(key, "owner-a", "pi_2", "other", kLater));
  EXPECT_CONFLICT(store_->MarkUnknown(key, "owner-a", kLater));
  EXPECT_EQ(MustFind(*store_, key, kLater).dojo_id, "pi_1");
}

TEST_P(StoreConformanceTest, SettlementRefusesLiveFinishedGoneOrExpired) {
  const Key pending = MakeKey("pending"), sent = MakeKey("sent"),
            done = MakeKey("done"), failed = MakeKey("failed"),
            absent = MakeKey("absent"), expired = MakeKey("expired");
  const Record p = MustAcquire(*store_, pending, "owner-a");
  const Record s = MustSend(*store_, sent, "owner-a");
  MustSend(*store_, done, "owner-a");
  ASSERT_OK(store_->Succeed(done, "owner-a", "pi", "r", kNow));
  MustSend(*store_, failed, "owner-a");
  ASSERT_OK(store_->Fail(failed, "owner-a", kNow));
  MustAcquire(*store_, expired, "owner-a", kNow, kLease, absl::Hours(1));
  ASSERT_OK(store_->MarkSent(expired, "owner-a", kNow));
  ASSERT_OK(store_->MarkUnknown(expired, "owner-a", kNow));
  const absl::Time live = kNow + absl::Seconds(1);
  const std::vector<std::pair<Key, absl::Time>> cases = {
      {pending, live},  {sent, live},     {done, kLater},
      {failed, kLater}, {absent, kLater}, {expired, kNow + absl::Hours(1)}};
  for (const auto& [key, now] : cases) {
    SCOPED_TRACE(key.reference);
    std::optional<Record> record = MustGet(*store_, key, kNow);
    const int64_t version = record.has_value() ? record->version : 1;
    EXPECT_CONFLICT(store_->Resolve(key, version, "pi", "r", now));
    EXPECT_CONFLICT(store_->SettleNotCreated(key, version, now));
  }
  EXPECT_EQ(MustFind(*store_, pending).version, p.version);
  EXPECT_EQ(MustFind(*store_, sent).version, s.version);
  EXPECT_EQ(MustFind(*store_, expired).state, RecordState::kUnknown);
}

TEST_P(StoreConformanceTest, SettleNotCreatedFreesAnUnknownRecord) {
  const Key key = MakeKey("Order-1");
  const Record unknown = MustMakeUnknown(*store_, key, "owner-a", kNow, kEnded);
  EXPECT_CONFLICT(store_->SettleNotCreated(key, unknown.version - 1, kLater));
  ASSERT_OK(store_->SettleNotCreated(key, unknown.version, kLater));
  Record settled = MustFind(*store_, key, kLater);
  EXPECT_EQ(settled.state, RecordState::kSettledNotCreated);
  EXPECT_TRUE(IsFree(settled.state));
  EXPECT_EQ(settled.owner, "");
  EXPECT_EQ(settled.version, unknown.version + 1);
  EXPECT_EQ(settled.ended_at, kEnded);
  std::vector<Attempt> attempts = MustListAttempts(*store_, key);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].outcome, "settled_not_created");
  EXPECT_EQ(attempts[0].ended_at, kEnded);
  EXPECT_CONFLICT(store_->SettleNotCreated(key, unknown.version, kLater));
  EXPECT_CONFLICT(store_->MarkUnknown(key, "owner-a", kLater));

  // Free for a new attempt, which continues the numbering.
  Record next = MustAcquire(*store_, key, "owner-b", kLater);
  EXPECT_EQ(next.version, unknown.version + 2);
  EXPECT_EQ(next.attempts, 1);
  ASSERT_OK(store_->MarkSent(key, "owner-b", kLater));
  attempts = MustListAttempts(*store_, key);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[1].number, 2);
  EXPECT_EQ(attempts[1].sent_at, kLater);
}

TEST_P(StoreConformanceTest, SettleNotCreatedOfAnAbandonedPendingRecord) {
  const Key key = MakeKey("Order-1");
  const Record pending = MustAcquire(*store_, key, "owner-a");
  EXPECT_CONFLICT(store_->SettleNotCreated(
      key, pending.version, kNow + kLease - absl::Microseconds(1)));
  ASSERT_OK(store_->SettleNotCreated(key, pending.version, kNow + kLease));
  Record settled = MustFind(*store_, key, kNow + kLease);
  EXPECT_EQ(settled.state, RecordState::kSettledNotCreated);
  EXPECT_EQ(settled.ended_at, kNow + kLease);
  EXPECT_EQ(settled.attempts, 0);
  EXPECT_TRUE(MustListAttempts(*store_, key).empty());
  // Its owner, back late, can no longer send it.
  EXPECT_CONFLICT(store_->MarkSent(key, "owner-a", kLater));
  EXPECT_CONFLICT(store_->Fail(key, "owner-a", kLater));
}

TEST_P(StoreConformanceTest, RescheduleMovesTheNextCheckAndDropsTheClaim) {
  const Key key = MakeKey("Order-1");
  MustMakeUnknown(*store_, key, "owner-a", kNow, kEnded);
  ASSERT_EQ(MustClaim(*store_, kEnded, "reconciler-1").size(), 1u);
  const Record claimed = MustFind(*store_, key, kEnded);
  EXPECT_EQ(claimed.claimed_by, "reconciler-1");
  EXPECT_CONFLICT(store_->Reschedule(key, claimed.version - 1, kLater));
  ASSERT_OK(store_->Reschedule(key, claimed.version, kLater));
  Record rescheduled = MustFind(*store_, key, kEnded);
  EXPECT_EQ(rescheduled.state, RecordState::kUnknown);
  EXPECT_EQ(rescheduled.next_check_at, kLater);
  EXPECT_EQ(rescheduled.version, claimed.version + 1);
  EXPECT_EQ(rescheduled.claimed_by, "");
  EXPECT_EQ(rescheduled.claim_expires_at, absl::InfinitePast());
  EXPECT_EQ(rescheduled.ended_at, kEnded);
  EXPECT_EQ(MustListAttempts(*store_, key)[0].outcome, "unknown");
  // Not due before its next check, whoever asks; due from then on.
  EXPECT_TRUE(MustClaim(*store_, kLater - absl::Microseconds(1), "reconciler-2")
                  .empty());
  EXPECT_EQ(References(MustClaim(*store_, kLater, "reconciler-2")),
            std::vector<std::string>{"Order-1"});
  // A finished record is not rescheduled.
  const Key done = MakeKey("done");
  MustSend(*store_, done, "owner-a");
  ASSERT_OK(store_->Succeed(done, "owner-a", "pi", "r", kNow));
  EXPECT_CONFLICT(
      store_->Reschedule(done, MustFind(*store_, done).version, kLater));
  EXPECT_CONFLICT(store_->Reschedule(MakeKey("absent"), 1, kLater));
}

TEST_P(StoreConformanceTest, RescheduledAbandonedRecordWaitsForItsNextCheck) {
  const Key key = MakeKey("Order-1");
  MustSend(*store_, key, "owner-a");
  const absl::Time lapsed = kNow + kLease;
  ASSERT_EQ(MustClaim(*store_, lapsed, "reconciler-1").size(), 1u);
  const Record claimed = MustFind(*store_, key, lapsed);
  ASSERT_OK(store_->Reschedule(key, claimed.version, kLater));
  Record rescheduled = MustFind(*store_, key, lapsed);
  EXPECT_EQ(rescheduled.state, RecordState::kSent);
  EXPECT_EQ(rescheduled.owner, "owner-a");  // Still its owner's to finish.
  EXPECT_TRUE(MustClaim(*store_, lapsed, "reconciler-2").empty());
  EXPECT_EQ(MustClaim(*store_, kLater, "reconciler-2").size(), 1u);
  EXPECT_OK(store_->Succeed(key, "owner-a", "pi", "r", kLater));
}

TEST_P(StoreConformanceTest, RebindChangesTheKeyIdInAnyState) {
  const Key key = MakeKey("Order-1");
  MustSend(*store_, key, "owner-a");
  ASSERT_OK(store_->Succeed(key, "owner-a", "pi", "r", kNow));
  const Record done = MustFind(*store_, key);
  EXPECT_CONFLICT(store_->Rebind(key, done.version - 1, "sandbox:key-2"));
  ASSERT_OK(store_->Rebind(key, done.version, "sandbox:key-2"));
  Record rebound = MustFind(*store_, key);
  EXPECT_EQ(rebound.key_id, "sandbox:key-2");
  EXPECT_EQ(rebound.version, done.version + 1);
  EXPECT_EQ(rebound.state, RecordState::kSucceeded);
  EXPECT_EQ(rebound.result, "r");
  EXPECT_CONFLICT(store_->Rebind(key, done.version, "sandbox:key-3"));
  EXPECT_CONFLICT(store_->Rebind(MakeKey("absent"), 1, "sandbox:key-3"));

  // A claimed unknown record keeps its claim: the claimer goes on with the
  // new version.
  const Key unknown = MakeKey("Order-2");
  MustMakeUnknown(*store_, unknown, "owner-a", kNow, kEnded);
  ASSERT_EQ(MustClaim(*store_, kEnded, "reconciler-1").size(), 1u);
  const Record claimed = MustFind(*store_, unknown, kEnded);
  ASSERT_OK(store_->Rebind(unknown, claimed.version, "sandbox:key-2"));
  Record after = MustFind(*store_, unknown, kEnded);
  EXPECT_EQ(after.claimed_by, "reconciler-1");
  EXPECT_EQ(after.claim_expires_at, kEnded + kClaimLease);
  EXPECT_EQ(after.state, RecordState::kUnknown);
  EXPECT_OK(store_->Resolve(unknown, after.version, "pi_2", "r2", kEnded));
}

TEST_P(StoreConformanceTest, ClaimDueTakesUnknownRecordsAtTheirNextCheck) {
  const Key key = MakeKey("Order-1");
  const Record unknown = MustMakeUnknown(*store_, key, "owner-a", kNow, kEnded);
  EXPECT_TRUE(MustClaim(*store_, kEnded - absl::Microseconds(1), "reconciler-1")
                  .empty());
  std::vector<Record> claimed = MustClaim(*store_, kEnded, "reconciler-1");
  ASSERT_EQ(claimed.size(), 1u);
  for (const Record& r : {claimed[0], MustFind(*store_, key, kEnded)}) {
    EXPECT_EQ(r.key.reference, "Order-1");
    EXPECT_EQ(r.state, RecordState::kUnknown);
    EXPECT_EQ(r.claimed_by, "reconciler-1");
    EXPECT_EQ(r.claim_expires_at, kEnded + kClaimLease);
    EXPECT_EQ(r.version, unknown.version);  // A claim is not a change.
    EXPECT_EQ(r.owner, "owner-a");
    EXPECT_EQ(r.params, kParams);
    EXPECT_EQ(r.sent_at, kNow);
    EXPECT_EQ(r.ended_at, kEnded);
  }
  // The claim does not stand in the way of settling at that version.
  EXPECT_OK(store_->Resolve(key, unknown.version, "pi", "r", kEnded));
  Record resolved = MustFind(*store_, key, kEnded);
  EXPECT_EQ(resolved.claimed_by, "");
  EXPECT_EQ(resolved.claim_expires_at, absl::InfinitePast());
}

TEST_P(StoreConformanceTest, ClaimDueTakesAbandonedRecordsWhenTheLeaseLapses) {
  const Key pending = MakeKey("pending"), sent = MakeKey("sent");
  MustAcquire(*store_, pending, "owner-a");
  MustSend(*store_, sent, "owner-a", kNow + absl::Seconds(1));
  EXPECT_TRUE(
      MustClaim(*store_, kNow + kLease - absl::Microseconds(1), "reconciler-1")
          .empty());
  EXPECT_EQ(References(MustClaim(*store_, kNow + kLease, "reconciler-1")),
            std::vector<std::string>{"pending"});
  std::vector<Record> claimed =
      MustClaim(*store_, kNow + absl::Seconds(1) + kLease, "reconciler-1");
  ASSERT_EQ(References(claimed), std::vector<std::string>{"sent"});
  EXPECT_EQ(claimed[0].state, RecordState::kSent);
  EXPECT_EQ(claimed[0].ended_at, absl::InfinitePast());
  // The owner, back, may still finish it; the claimer's settlement then
  // finds the version moved.
  EXPECT_OK(store_->Succeed(sent, "owner-a", "pi", "r", kLater));
  EXPECT_CONFLICT(store_->Resolve(sent, claimed[0].version, "pi", "r", kLater));
}

TEST_P(StoreConformanceTest, ClaimDueSkipsFinishedFreeAndExpiredRecords) {
  const Key done = MakeKey("done"), failed = MakeKey("failed"),
            settled = MakeKey("settled"), expired = MakeKey("expired");
  MustSend(*store_, done, "owner-a");
  ASSERT_OK(store_->Succeed(done, "owner-a", "pi", "r", kNow));
  MustSend(*store_, failed, "owner-a");
  ASSERT_OK(store_->Fail(failed, "owner-a", kNow));
  const Record unknown =
      MustMakeUnknown(*store_, settled, "owner-a", kNow, kNow);
  ASSERT_OK(store_->SettleNotCreated(settled, unknown.version, kNow));
  MustAcquire(*store_, expired, "owner-a", kNow, kLease, absl::Hours(1));
  ASSERT_OK(store_->MarkSent(expired, "owner-a", kNow));
  ASSERT_OK(store_->MarkUnknown(expired, "owner-a", kNow));
  EXPECT_EQ(References(MustClaim(*store_, kNow + absl::Minutes(59), "r-1")),
            std::vector<std::string>{"expired"});
  // Claims lapse; by then the record expired.
  EXPECT_TRUE(MustClaim(*store_, kNow + absl::Hours(1), "r-2").empty());
  EXPECT_TRUE(MustClaim(*store_, kNow + absl::Hours(24 * 365), "r-2").empty());
}

TEST_P(StoreConformanceTest, LiveClaimExcludesOthersALapsedOneDoesNot) {
  const Key key = MakeKey("Order-1");
  MustMakeUnknown(*store_, key, "owner-a", kNow, kEnded);
  std::unique_ptr<IdempotencyStore> replica = OpenAnother();
  ASSERT_NE(replica, nullptr);
  ASSERT_EQ(MustClaim(*store_, kEnded, "reconciler-1").size(), 1u);
  const absl::Time lapses = kEnded + kClaimLease;
  EXPECT_TRUE(
      MustClaim(*replica, lapses - absl::Microseconds(1), "reconciler-2")
          .empty());
  // Not even the same claimer takes it twice while its claim is live.
  EXPECT_TRUE(MustClaim(*store_, kEnded, "reconciler-1").empty());
  std::vector<Record> reclaimed = MustClaim(*replica, lapses, "reconciler-2");
  ASSERT_EQ(reclaimed.size(), 1u);
  EXPECT_EQ(reclaimed[0].claimed_by, "reconciler-2");
  EXPECT_EQ(reclaimed[0].claim_expires_at, lapses + kClaimLease);
  EXPECT_EQ(MustFind(*store_, key, lapses).claimed_by, "reconciler-2");
}

TEST_P(StoreConformanceTest, ClaimDueHonoursTheLimitOldestNextCheckFirst) {
  // Unknown records due at kNow + 5s, 1s, 4s, 2s (made in that order), an
  // abandoned pending and sent record (next check never set: first), and a
  // record not due yet.
  const int kOffsets[] = {5, 1, 4, 2};
  for (int offset : kOffsets) {
    MustMakeUnknown(*store_, MakeKey(absl::StrCat("unknown-", offset)),
                    "owner-a", kNow, kNow + absl::Seconds(offset));
  }
  MustSend(*store_, MakeKey("abandoned-sent"), "owner-a",
           kNow - absl::Seconds(1));
  MustAcquire(*store_, MakeKey("abandoned-pending"), "owner-a");
  MustMakeUnknown(*store_, MakeKey("later"), "owner-a", kNow, kLater);
  const absl::Time now = kNow + kLease;

  std::vector<Record> first = MustClaim(*store_, now, "reconciler-1", 3);
  EXPECT_EQ(References(first),
            (std::vector<std::string>{"abandoned-sent", "abandoned-pending",
                                      "unknown-1"}));
  std::vector<Record> second = MustClaim(*store_, now, "reconciler-1", 3);
  EXPECT_EQ(References(second),
            (std::vector<std::string>{"unknown-2", "unknown-4", "unknown-5"}));
  EXPECT_TRUE(MustClaim(*store_, now, "reconciler-1", 3).empty());
  // Once the claims lapsed (and `later` is due), all of them, in order.
  EXPECT_EQ(References(MustClaim(*store_, kLater, "reconciler-2")),
            (std::vector<std::string>{"abandoned-sent", "abandoned-pending",
                                      "unknown-1", "unknown-2", "unknown-4",
                                      "unknown-5", "later"}));
}

// Two stores (replicas) claim concurrently from 50 due records, with two
// threads each: no record is claimed twice, every one is claimed once.
TEST_P(StoreConformanceTest, ConcurrentClaimDueNeverSharesARecord) {
  constexpr int kRecords = 50;
  for (int i = 0; i < kRecords; ++i) {
    MustMakeUnknown(*store_, MakeKey(absl::StrCat("Order-", i)), "owner-a",
                    kNow, kNow + absl::Microseconds(i % 7));
  }
  std::unique_ptr<IdempotencyStore> replica = OpenAnother();
  ASSERT_NE(replica, nullptr);
  const absl::Time now = kNow + absl::Seconds(1);
  for (int round = 0; round < 3; ++round) {
    const absl::Time at = now + round * (kClaimLease + absl::Seconds(1));
    constexpr int kThreads = 4;
    std::latch start(kThreads);
    std::vector<std::vector<Record>> claims(kThreads);
    std::vector<absl::Status> errors(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        IdempotencyStore& store = t % 2 == 0 ? *store_ : *replica;
        const std::string claimer = absl::StrCat("reconciler-", t);
        start.arrive_and_wait();
        for (;;) {
          absl::StatusOr<std::vector<Record>> claimed =
              store.ClaimDue(at, claimer, kClaimLease, 4);
          if (!claimed.ok()) {
            errors[t] = claimed.status();
            return;
          }
          if (claimed->empty()) return;
          for (Record& record : *claimed) {
            EXPECT_EQ(record.claimed_by, claimer);
            claims[t].push_back(std::move(record));
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    std::multiset<std::string> seen;
    for (int t = 0; t < kThreads; ++t) {
      EXPECT_TRUE(errors[t].ok()) << errors[t];
      for (const Record& record : claims[t]) {
        seen.insert(record.key.reference);
      }
    }
    EXPECT_EQ(seen.size(), static_cast<size_t>(kRecords)) << "round " << round;
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(),
              static_cast<size_t>(kRecords))
        << "round " << round << ": a record was claimed twice";
    // The journal agrees with what each claimer was told.
    for (int t = 0; t < kThreads; ++t) {
      for (const Record& record : claims[t]) {
        EXPECT_EQ(MustFind(*store_, record.key, at).claimed_by,
                  record.claimed_by);
      }
    }
  }
}

TEST_P(StoreConformanceTest, SummarizeUnknownCountsUnknownAndAbandonedSent) {
  absl::StatusOr<std::vector<UnknownSummary>> empty =
      store_->SummarizeUnknown(kNow);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());

  const absl::Time t1 = kNow + absl::Seconds(1), t2 = kNow + absl::Seconds(2);
  MustMakeUnknown(*store_, MakeKey("u-2"), "owner-a", kNow, t2);
  MustMakeUnknown(*store_, MakeKey("u-1"), "owner-a", kNow, t1);
  // An abandoned refund, counted from its lease; a live one is not counted.
  MustSend(*store_, MakeKey("r-1", "acct", OperationKind::kRefund), "owner-a",
           kNow - absl::Minutes(1));
  MustSend(*store_, MakeKey("r-2", "acct", OperationKind::kRefund), "owner-a",
           kNow + absl::Minutes(5));
  // Not counted: an abandoned pending one (never sent), finished ones, an
  // expired unknown one.
  MustAcquire(*store_, MakeKey("p-1", "acct", OperationKind::kCapture),
              "owner-a", kNow - absl::Hours(1));
  MustSend(*store_, MakeKey("done"), "owner-a");
  ASSERT_OK(store_->Succeed(MakeKey("done"), "owner-a", "pi", "r", kNow));
  MustAcquire(*store_, MakeKey("old", "acct", OperationKind::kCancel),
              "owner-a", kNow - absl::Hours(2), kLease, absl::Hours(1));
  ASSERT_OK(store_->MarkSent(MakeKey("old", "acct", OperationKind::kCancel),
                             "owner-a", kNow - absl::Hours(2)));
  ASSERT_OK(store_->MarkUnknown(MakeKey("old", "acct", OperationKind::kCancel),
                                "owner-a", kNow - absl::Hours(2)));

  const absl::Time now = kNow + absl::Minutes(1);
  absl::StatusOr<std::vector<UnknownSummary>> summary =
      store_->SummarizeUnknown(now);
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_EQ(summary->size(), 2u);
  EXPECT_EQ((*summary)[0].kind, OperationKind::kCreate);
  EXPECT_EQ((*summary)[0].count, 2);
  EXPECT_EQ((*summary)[0].oldest, t1);
  EXPECT_EQ((*summary)[1].kind, OperationKind::kRefund);
  EXPECT_EQ((*summary)[1].count, 1);
  EXPECT_EQ((*summary)[1].oldest, kNow - absl::Minutes(1) + kLease);
}

}  // namespace
}  // namespace payments::idempotency::testing
