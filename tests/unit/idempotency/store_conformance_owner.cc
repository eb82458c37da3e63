// Conformance: the owner's transitions (MarkSent, Succeed, MarkUnknown,
// Fail), their preconditions and idempotent repeats, and the attempt rows
// they keep.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tests/unit/idempotency/store_conformance.h"
#include "tests/unit/idempotency/store_test_util.h"

namespace payments::idempotency::testing {
namespace {

const absl::Time kSent = kNow + absl::Seconds(1);
const absl::Time kEnded = kNow + absl::Seconds(3);

TEST_P(StoreConformanceTest, MarkSentOpensAnAttempt) {
  const Key key = MakeKey("Order-1");
  MustAcquire(*store_, key, "owner-a");
  ASSERT_OK(store_->MarkSent(key, "owner-a", kSent));
  Record sent = MustFind(*store_, key);
  EXPECT_EQ(sent.state, RecordState::kSent);
  EXPECT_EQ(sent.owner, "owner-a");
  EXPECT_EQ(sent.version, 2);
  EXPECT_EQ(sent.attempts, 1);
  EXPECT_EQ(sent.sent_at, kSent);
  EXPECT_EQ(sent.ended_at, absl::InfinitePast());
  EXPECT_EQ(sent.lease_expires_at, kNow + kLease);  // Not extended.
  EXPECT_EQ(sent.created_at, kNow);
  std::vector<Attempt> attempts = MustListAttempts(*store_, key);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].number, 1);
  EXPECT_EQ(attempts[0].sent_at, kSent);
  EXPECT_EQ(attempts[0].ended_at, absl::InfinitePast());
  EXPECT_EQ(attempts[0].outcome, "");

  // Repeated by its owner (after an UNAVAILABLE that hid it): OK, and no
  // second attempt.
  EXPECT_OK(store_->MarkSent(key, "owner-a", kSent + absl::Seconds(1)));
  Record again = MustFind(*store_, key);
  EXPECT_EQ(again.version, 2);
  EXPECT_EQ(again.attempts, 1);
  EXPECT_EQ(again.sent_at, kSent);
  EXPECT_EQ(MustListAttempts(*store_, key).size(), 1u);
}

TEST_P(StoreConformanceTest, MarkSentNeedsTheOwnersPendingRecord) {
  const Key key = MakeKey("Order-1");
  EXPECT_CONFLICT(store_->MarkSent(key, "owner-a", kNow));  // Absent.
  MustAcquire(*store_, key, "owner-a", kNow, kLease, absl::Hours(1));
  EXPECT_CONFLICT(store_->MarkSent(key, "owner-b", kNow));
  // Its lease may have lapsed, as long as nobody settled it...
  EXPECT_OK(store_->MarkSent(key, "owner-a", kNow + kLease + absl::Seconds(1)));
  // ...but once finished it cannot be sent again.
  ASSERT_OK(store_->Succeed(key, "owner-a", "pi_1", "r", kNow + kLease));
  EXPECT_CONFLICT(store_->MarkSent(key, "owner-a", kNow + kLease));
  // An expired record is not sent: it may be replaced or reaped any time.
  const Key expired = MakeKey("expired");
  MustAcquire(*store_, expired, "owner-a", kNow, kLease, absl::Hours(1));
  EXPECT_CONFLICT(store_->MarkSent(expired, "owner-a", kNow + absl::Hours(1)));
  EXPECT_EQ(MustFind(*store_, expired).state, RecordState::kPending);
  EXPECT_TRUE(MustListAttempts(*store_, expired).empty());
}

TEST_P(StoreConformanceTest, MarkSentLosesToASettlementOfTheAbandonedRecord) {
  const Key key = MakeKey("Order-1");
  Record record = MustAcquire(*store_, key, "owner-a");
  const absl::Time lapsed = kNow + kLease;
  ASSERT_OK(store_->SettleNotCreated(key, record.version, lapsed));
  EXPECT_CONFLICT(store_->MarkSent(key, "owner-a", lapsed));
  EXPECT_EQ(MustFind(*store_, key).state, RecordState::kSettledNotCreated);
  EXPECT_TRUE(MustListAttempts(*store_, key).empty());
}

TEST_P(StoreConformanceTest, SucceedRecordsDojosIdAndTheResult) {
  const std::string result("intent\0bytes\xff\x80 end", 18);
  const Key key = MakeKey("Order-1");
  MustAcquire(*store_, key, "owner-a");
  ASSERT_OK(store_->MarkSent(key, "owner-a", kSent));
  ASSERT_OK(store_->Succeed(key, "owner-a", "pi_123", result, kEnded));
  Record done = MustFind(*store_, key);
  EXPECT_EQ(done.state, RecordState::kSucceeded);
  EXPECT_EQ(done.dojo_id, "pi_123");
  EXPECT_EQ(done.result, result);
  EXPECT_EQ(done.owner, "owner-a");
  EXPECT_EQ(done.version, 3);
  EXPECT_EQ(done.sent_at, kSent);
  EXPECT_EQ(done.ended_at, kEnded);
  std::vector<Attempt> attempts = MustListAttempts(*store_, key);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].ended_at, kEnded);
  EXPECT_EQ(attempts[0].outcome, "succeeded");

  // Repeated by its owner: OK, unchanged.
  EXPECT_OK(store_->Succeed(key, "owner-a", "pi_123", result, kEnded));
  EXPECT_EQ(MustFind(*store_, key).version, 3);
  // A later caller with the same key sees the finished record.
  absl::StatusOr<ReserveResult> replay =
      ReserveAt(*store_, key, "owner-b", kNow + absl::Minutes(5));
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_FALSE(replay->acquired);
  EXPECT_EQ(replay->existing.state, RecordState::kSucceeded);
  EXPECT_EQ(replay->existing.result, result);
  // No other transition of the owner applies any more.
  EXPECT_CONFLICT(store_->MarkUnknown(key, "owner-a", kEnded));
  EXPECT_CONFLICT(store_->Fail(key, "owner-a", kEnded));
}

TEST_P(StoreConformanceTest, SucceedNeedsTheOwnersSentRecord) {
  const Key key = MakeKey("Order-1");
  EXPECT_CONFLICT(store_->Succeed(key, "owner-a", "pi", "r", kNow));  // Absent.
  MustAcquire(*store_, key, "owner-a");
  // Never sent: nothing can have succeeded.
  EXPECT_CONFLICT(store_->Succeed(key, "owner-a", "pi", "r", kNow));
  ASSERT_OK(store_->MarkSent(key, "owner-a", kNow));
  EXPECT_CONFLICT(store_->Succeed(key, "owner-b", "pi", "r", kNow));
  Record sent = MustFind(*store_, key);
  EXPECT_EQ(sent.state, RecordState::kSent);
  EXPECT_EQ(sent.result, "");
  // The owner may finish after its lease lapsed, as long as nobody settled.
  EXPECT_OK(store_->Succeed(key, "owner-a", "pi", "r", kNow + absl::Hours(1)));
}

TEST_P(StoreConformanceTest, MarkUnknownKeepsTheRecordForReconciliation) {
  const Key key = MakeKey("Order-1");
  MustAcquire(*store_, key, "owner-a");
  EXPECT_CONFLICT(store_->MarkUnknown(key, "owner-a", kNow));  // Not sent.
  ASSERT_OK(store_->MarkSent(key, "owner-a", kSent));
  EXPECT_CONFLICT(store_->MarkUnknown(key, "owner-b", kEnded));
  ASSERT_OK(store_->MarkUnknown(key, "owner-a", kEnded));
  Record unknown = MustFind(*store_, key);
  EXPECT_EQ(unknown.state, RecordState::kUnknown);
  EXPECT_EQ(unknown.owner, "owner-a");
  EXPECT_EQ(unknown.version, 3);
  EXPECT_EQ(unknown.sent_at, kSent);
  EXPECT_EQ(unknown.ended_at, kEnded);
  EXPECT_EQ(unknown.next_check_at, kEnded);
  std::vector<Attempt> attempts = MustListAttempts(*store_, key);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].ended_at, kEnded);
  EXPECT_EQ(attempts[0].outcome, "unknown");
  EXPECT_OK(store_->MarkUnknown(key, "owner-a", kEnded));  // Repeat.
  EXPECT_EQ(MustFind(*store_, key).version, 3);
  // The owner cannot decide it any more: the reconciler does.
  EXPECT_CONFLICT(store_->Succeed(key, "owner-a", "pi", "r", kEnded));
  EXPECT_CONFLICT(store_->Fail(key, "owner-a", kEnded));
  EXPECT_CONFLICT(store_->MarkSent(key, "owner-a", kEnded));
}

TEST_P(StoreConformanceTest, FailOfASentRecordFreesTheKey) {
  const Key key = MakeKey("Order-1");
  MustAcquire(*store_, key, "owner-a");
  ASSERT_OK(store_->MarkSent(key, "owner-a", kSent));
  EXPECT_CONFLICT(store_->Fail(key, "owner-b", kEnded));
  ASSERT_OK(store_->Fail(key, "owner-a", kEnded));
  Record failed = MustFind(*store_, key);
  EXPECT_EQ(failed.state, RecordState::kFailed);
  EXPECT_TRUE(IsFree(failed.state));
  EXPECT_EQ(failed.version, 3);
  EXPECT_EQ(failed.sent_at, kSent);
  EXPECT_EQ(failed.ended_at, kEnded);
  std::vector<Attempt> attempts = MustListAttempts(*store_, key);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].ended_at, kEnded);
  EXPECT_EQ(attempts[0].outcome, "failed");
  EXPECT_OK(store_->Fail(key, "owner-a", kEnded));  // Repeat.
  EXPECT_EQ(MustFind(*store_, key).version, 3);

  // Free: the next caller acquires it, continuing version and attempts;
  // the old owner can no longer touch it.
  Record next = MustAcquire(*store_, key, "owner-b", kEnded);
  EXPECT_EQ(next.version, 4);
  EXPECT_EQ(next.attempts, 1);
  EXPECT_EQ(next.state, RecordState::kPending);
  EXPECT_EQ(next.sent_at, absl::InfinitePast());
  EXPECT_EQ(next.ended_at, absl::InfinitePast());
  EXPECT_EQ(next.created_at, kEnded);
  EXPECT_CONFLICT(store_->Fail(key, "owner-a", kEnded));
  EXPECT_CONFLICT(store_->MarkSent(key, "owner-a", kEnded));
  EXPECT_EQ(MustListAttempts(*store_, key).size(), 1u);  // Kept.
}

TEST_P(StoreConformanceTest, FailOfAPendingRecordEndsNoAttempt) {
  const Key key = MakeKey("Order-1");
  MustAcquire(*store_, key, "owner-a");
  ASSERT_OK(store_->Fail(key, "owner-a", kEnded));
  Record failed = MustFind(*store_, key);
  EXPECT_EQ(failed.state, RecordState::kFailed);
  EXPECT_EQ(failed.attempts, 0);
  EXPECT_EQ(failed.sent_at, absl::InfinitePast());
  EXPECT_EQ(failed.ended_at, kEnded);
  EXPECT_TRUE(MustListAttempts(*store_, key).empty());

  // A second record's unsent failure leaves the first attempt as it ended.
  MustAcquire(*store_, key, "owner-b", kEnded);
  ASSERT_OK(store_->MarkSent(key, "owner-b", kEnded));
  ASSERT_OK(store_->MarkUnknown(key, "owner-b", kEnded));
  ASSERT_OK(store_->SettleNotCreated(key, MustFind(*store_, key).version,
                                     kEnded + absl::Hours(1)));
  MustAcquire(*store_, key, "owner-c", kEnded + absl::Hours(1));
  ASSERT_OK(store_->Fail(key, "owner-c", kEnded + absl::Hours(2)));
  std::vector<Attempt> attempts = MustListAttempts(*store_, key);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].outcome, "settled_not_created");
  EXPECT_EQ(attempts[0].ended_at, kEnded);
}

TEST_P(StoreConformanceTest, FailNeedsTheOwnersPendingOrSentRecord) {
  EXPECT_CONFLICT(store_->Fail(MakeKey("absent"), "owner-a", kNow));
  const Key done = MakeKey("done"), unknown = MakeKey("unknown");
  MustSend(*store_, done, "owner-a");
  ASSERT_OK(store_->Succeed(done, "owner-a", "pi", "r", kNow));
  MustMakeUnknown(*store_, unknown, "owner-a", kNow, kNow);
  EXPECT_CONFLICT(store_->Fail(done, "owner-a", kNow));
  EXPECT_CONFLICT(store_->Fail(unknown, "owner-a", kNow));
  EXPECT_EQ(MustFind(*store_, done).state, RecordState::kSucceeded);
  EXPECT_EQ(MustFind(*store_, unknown).state, RecordState::kUnknown);
}

// Attempts are numbered over the record's whole life: through a failure, a
// settlement as not created and new reservations.
TEST_P(StoreConformanceTest, AttemptsAreNumberedOverTheRecordsLife) {
  const Key key = MakeKey("Order-1");
  auto t = [](int seconds) { return kNow + absl::Seconds(seconds); };
  MustAcquire(*store_, key, "owner-a", t(0));
  ASSERT_OK(store_->MarkSent(key, "owner-a", t(1)));
  ASSERT_OK(store_->Fail(key, "owner-a", t(2)));
  MustAcquire(*store_, key, "owner-b", t(3));
  ASSERT_OK(store_->MarkSent(key, "owner-b", t(4)));
  ASSERT_OK(store_->MarkUnknown(key, "owner-b", t(5)));
  ASSERT_OK(
      store_->SettleNotCreated(key, MustFind(*store_, key).version, t(6)));
  MustAcquire(*store_, key, "owner-c", t(7));
  ASSERT_OK(store_->MarkSent(key, "owner-c", t(8)));
  ASSERT_OK(store_->Succeed(key, "owner-c", "pi_3", "r", t(9)));

  Record record = MustFind(*store_, key, t(9));
  EXPECT_EQ(record.attempts, 3);
  EXPECT_EQ(record.version, 10);
  EXPECT_EQ(record.sent_at, t(8));
  EXPECT_EQ(record.ended_at, t(9));
  std::vector<Attempt> attempts = MustListAttempts(*store_, key);
  ASSERT_EQ(attempts.size(), 3u);
  const struct {
    int64_t number;
    absl::Time sent_at, ended_at;
    const char* outcome;
  } kExpected[] = {{1, t(1), t(2), "failed"},
                   {2, t(4), t(5), "settled_not_created"},
                   {3, t(8), t(9), "succeeded"}};
  for (size_t i = 0; i < attempts.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(attempts[i].number, kExpected[i].number);
    EXPECT_EQ(attempts[i].sent_at, kExpected[i].sent_at);
    EXPECT_EQ(attempts[i].ended_at, kExpected[i].ended_at);
    EXPECT_EQ(attempts[i].outcome, kExpected[i].outcome);
  }
}

}  // namespace
}  // namespace payments::idempotency::testing
