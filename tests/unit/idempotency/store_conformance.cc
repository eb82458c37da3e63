#include "tests/unit/idempotency/store_conformance.h"

#include <atomic>
#include <latch>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace payments::idempotency::testing {
namespace {

#define EXPECT_OK(expr)                   \
  do {                                    \
    const absl::Status status_ = (expr);  \
    EXPECT_TRUE(status_.ok()) << status_; \
  } while (false)
#define ASSERT_OK(expr)                   \
  do {                                    \
    const absl::Status status_ = (expr);  \
    ASSERT_TRUE(status_.ok()) << status_; \
  } while (false)

// Microsecond precision on purpose: both backends keep microseconds.
const absl::Time kNow = absl::FromUnixMicros(1'700'000'000'123'456);
constexpr absl::Duration kLease = absl::Seconds(30);
constexpr absl::Duration kRetention = absl::Hours(24 * 30);

Key MakeKey(const std::string& reference, const std::string& account = "acct") {
  return Key{.account = account, .reference = reference};
}

// Reserves `key` for `owner` at kNow and asserts it was acquired.
Record MustAcquire(IdempotencyStore& store, const Key& key,
                   const std::string& owner, const std::string& fp = "fp-1",
                   absl::Time now = kNow, absl::Duration lease = kLease,
                   absl::Duration retention = kRetention) {
  absl::StatusOr<ReserveResult> reserved =
      store.Reserve(key, fp, owner, now, lease, retention);
  EXPECT_TRUE(reserved.ok()) << reserved.status();
  if (!reserved.ok()) return Record{};
  EXPECT_TRUE(reserved->acquired);
  return reserved->existing;
}

std::optional<Record> MustGet(IdempotencyStore& store, const Key& key,
                              absl::Time now = kNow) {
  absl::StatusOr<std::optional<Record>> got = store.Get(key, now);
  EXPECT_TRUE(got.ok()) << got.status();
  if (!got.ok()) return std::nullopt;
  return *got;
}

}  // namespace

void StoreConformanceTest::SetUp() {
  absl::StatusOr<std::unique_ptr<StoreDatabase>> database = GetParam().create();
  if (!database.ok()) GTEST_SKIP() << database.status();
  database_ = *std::move(database);
  store_ = OpenAnother();
}

std::unique_ptr<IdempotencyStore> StoreConformanceTest::OpenAnother() {
  absl::StatusOr<std::unique_ptr<IdempotencyStore>> store = database_->Open();
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return nullptr;
  absl::Status migrated = (*store)->Migrate();
  EXPECT_TRUE(migrated.ok()) << migrated;
  return *std::move(store);
}

TEST_P(StoreConformanceTest, MigrateTwiceIsFineAndPingAnswers) {
  EXPECT_OK(store_->Migrate());
  EXPECT_OK(store_->Migrate());
  EXPECT_OK(store_->Ping());
}

TEST_P(StoreConformanceTest, FirstReserveAcquiresAFreshRecord) {
  Record record = MustAcquire(*store_, MakeKey("Order-1"), "owner-a", "fp-1");
  EXPECT_EQ(record.key.account, "acct");
  EXPECT_EQ(record.key.reference, "Order-1");
  EXPECT_EQ(record.fingerprint, "fp-1");
  EXPECT_EQ(record.state, RecordState::kInFlight);
  EXPECT_EQ(record.owner, "owner-a");
  EXPECT_EQ(record.version, 1);
  EXPECT_EQ(record.lease_expires_at, kNow + kLease);
  EXPECT_EQ(record.attempt_started_at, kNow);
  EXPECT_EQ(record.created_at, kNow);
  EXPECT_EQ(record.expires_at, kNow + kRetention);
  EXPECT_EQ(record.result, "");

  std::optional<Record> got = MustGet(*store_, MakeKey("Order-1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->fingerprint, "fp-1");
  EXPECT_EQ(got->state, RecordState::kInFlight);
  EXPECT_EQ(got->owner, "owner-a");
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(got->lease_expires_at, kNow + kLease);
  EXPECT_EQ(got->attempt_started_at, kNow);
  EXPECT_EQ(got->created_at, kNow);
  EXPECT_EQ(got->expires_at, kNow + kRetention);
}

TEST_P(StoreConformanceTest, GetOfAnAbsentKeyIsEmpty) {
  EXPECT_FALSE(MustGet(*store_, MakeKey("nope")).has_value());
}

TEST_P(StoreConformanceTest, ReserveOfALiveKeyReturnsTheRecordAsItStands) {
  MustAcquire(*store_, MakeKey("Order-1"), "owner-a", "fp-1");
  absl::StatusOr<ReserveResult> second =
      store_->Reserve(MakeKey("Order-1"), "fp-2", "owner-b",
                      kNow + absl::Seconds(1), kLease, kRetention);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->acquired);
  EXPECT_EQ(second->existing.fingerprint, "fp-1");
  EXPECT_EQ(second->existing.owner, "owner-a");
  EXPECT_EQ(second->existing.state, RecordState::kInFlight);
  EXPECT_EQ(second->existing.version, 1);
}

TEST_P(StoreConformanceTest, ReserveOfAnExpiredLeaseIsNotATakeOver) {
  MustAcquire(*store_, MakeKey("Order-1"), "owner-a");
  absl::StatusOr<ReserveResult> second =
      store_->Reserve(MakeKey("Order-1"), "fp-1", "owner-b",
                      kNow + kLease + absl::Seconds(1), kLease, kRetention);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->acquired);
  EXPECT_EQ(second->existing.owner, "owner-a");
}

TEST_P(StoreConformanceTest, CompleteStoresTheResultForReplay) {
  const std::string result("intent\0bytes\xff\x80 end", 18);
  Record record = MustAcquire(*store_, MakeKey("Order-1"), "owner-a", "fp-1");
  EXPECT_OK(store_->Complete(MakeKey("Order-1"), "owner-a", result,
                             kNow + absl::Seconds(2)));

  std::optional<Record> got = MustGet(*store_, MakeKey("Order-1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->state, RecordState::kCompleted);
  EXPECT_EQ(got->result, result);
  EXPECT_EQ(got->fingerprint, "fp-1");
  EXPECT_GT(got->version, record.version);
  EXPECT_EQ(got->attempt_started_at, kNow);

  // A later caller with the same key sees the finished record.
  absl::StatusOr<ReserveResult> replay =
      store_->Reserve(MakeKey("Order-1"), "fp-1", "owner-b",
                      kNow + absl::Minutes(5), kLease, kRetention);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_FALSE(replay->acquired);
  EXPECT_EQ(replay->existing.state, RecordState::kCompleted);
  EXPECT_EQ(replay->existing.result, result);
  EXPECT_EQ(replay->existing.fingerprint, "fp-1");
}

TEST_P(StoreConformanceTest, CompleteByANonOwnerFails) {
  MustAcquire(*store_, MakeKey("Order-1"), "owner-a");
  absl::Status status =
      store_->Complete(MakeKey("Order-1"), "owner-b", "result", kNow);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  std::optional<Record> got = MustGet(*store_, MakeKey("Order-1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->state, RecordState::kInFlight);
  EXPECT_EQ(got->owner, "owner-a");
  EXPECT_EQ(got->result, "");
}

TEST_P(StoreConformanceTest, CompleteOfAnAbsentRecordFails) {
  absl::Status status =
      store_->Complete(MakeKey("Order-1"), "owner-a", "result", kNow);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
}

TEST_P(StoreConformanceTest, OwnerMayCompleteAfterItsLeaseLapsed) {
  MustAcquire(*store_, MakeKey("Order-1"), "owner-a");
  EXPECT_OK(store_->Complete(MakeKey("Order-1"), "owner-a", "late",
                             kNow + kLease + absl::Minutes(1)));
  std::optional<Record> got = MustGet(*store_, MakeKey("Order-1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->state, RecordState::kCompleted);
}

TEST_P(StoreConformanceTest, RepeatsBySameOwnerAreIdempotent) {
  const Key key = MakeKey("Order-1");
  MustAcquire(*store_, key, "owner-a", "fp-1");
  // A Reserve repeated after an UNAVAILABLE whose change did happen.
  Record again = MustAcquire(*store_, key, "owner-a", "fp-1");
  EXPECT_EQ(again.version, 1);
  // Same owner, other fingerprint: not the same call.
  absl::StatusOr<ReserveResult> other =
      store_->Reserve(key, "fp-2", "owner-a", kNow, kLease, kRetention);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->acquired);

  EXPECT_OK(store_->Complete(key, "owner-a", "r1", kNow));
  EXPECT_OK(store_->Complete(key, "owner-a", "r1", kNow));
  EXPECT_EQ(store_->MarkUnknown(key, "owner-a", kNow).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->Release(key, "owner-a").code(),
            absl::StatusCode::kFailedPrecondition);

  const Key key2 = MakeKey("Order-2");
  MustAcquire(*store_, key2, "owner-a");
  EXPECT_OK(store_->MarkUnknown(key2, "owner-a", kNow));
  EXPECT_OK(store_->MarkUnknown(key2, "owner-a", kNow));
}

TEST_P(StoreConformanceTest, ReleaseDeletesTheRecord) {
  const Key key = MakeKey("Order-1");
  MustAcquire(*store_, key, "owner-a");
  EXPECT_EQ(store_->Release(key, "owner-b").code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(MustGet(*store_, key).has_value());
  EXPECT_OK(store_->Release(key, "owner-a"));
  EXPECT_FALSE(MustGet(*store_, key).has_value());
  EXPECT_OK(store_->Release(key, "owner-a"));  // Already gone: fine.
  Record next = MustAcquire(*store_, key, "owner-b", "fp-2");
  EXPECT_EQ(next.owner, "owner-b");
  EXPECT_EQ(next.fingerprint, "fp-2");
}

TEST_P(StoreConformanceTest, CompletedAndUnknownRecordsCannotBeReleased) {
  MustAcquire(*store_, MakeKey("done"), "owner-a");
  EXPECT_OK(store_->Complete(MakeKey("done"), "owner-a", "r", kNow));
  EXPECT_EQ(store_->Release(MakeKey("done"), "owner-a").code(),
            absl::StatusCode::kFailedPrecondition);
  MustAcquire(*store_, MakeKey("unknown"), "owner-a");
  EXPECT_OK(store_->MarkUnknown(MakeKey("unknown"), "owner-a", kNow));
  EXPECT_EQ(store_->Release(MakeKey("unknown"), "owner-a").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(MustGet(*store_, MakeKey("done")).has_value());
  EXPECT_TRUE(MustGet(*store_, MakeKey("unknown")).has_value());
}

TEST_P(StoreConformanceTest, MarkUnknownThenTakeOverWithTheRightVersion) {
  const Key key = MakeKey("Order-1");
  MustAcquire(*store_, key, "owner-a");
  EXPECT_EQ(store_->MarkUnknown(key, "owner-b", kNow).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_OK(store_->MarkUnknown(key, "owner-a", kNow + absl::Seconds(1)));
  std::optional<Record> unknown = MustGet(*store_, key);
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->state, RecordState::kUnknown);
  const int64_t version = unknown->version;
  EXPECT_EQ(version, 2);

  const absl::Time later = kNow + absl::Seconds(10);
  EXPECT_EQ(store_->TakeOver(key, version - 1, "owner-b", later, kLease).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_OK(store_->TakeOver(key, version, "owner-b", later, kLease));
  std::optional<Record> taken = MustGet(*store_, key);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->state, RecordState::kInFlight);
  EXPECT_EQ(taken->owner, "owner-b");
  EXPECT_EQ(taken->version, version + 1);
  EXPECT_EQ(taken->lease_expires_at, later + kLease);
  EXPECT_EQ(taken->attempt_started_at, kNow);  // Never changes.
  EXPECT_EQ(taken->created_at, kNow);

  // The version the others read is now stale; the new owner's repeat is OK.
  EXPECT_EQ(store_->TakeOver(key, version, "owner-c", later, kLease).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_OK(store_->TakeOver(key, version, "owner-b", later, kLease));
  EXPECT_EQ(store_->Complete(key, "owner-a", "r", later).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_OK(store_->Complete(key, "owner-b", "r", later));
}

TEST_P(StoreConformanceTest, ExpiredInFlightLeaseCanBeTakenOver) {
  const Key key = MakeKey("Order-1");
  Record record = MustAcquire(*store_, key, "owner-a");
  // Lease still running: refused.
  EXPECT_EQ(store_
                ->TakeOver(key, record.version, "owner-b",
                           kNow + kLease - absl::Microseconds(1), kLease)
                .code(),
            absl::StatusCode::kFailedPrecondition);
  // Lease over (lease_expires_at <= now): taken.
  EXPECT_OK(
      store_->TakeOver(key, record.version, "owner-b", kNow + kLease, kLease));
  std::optional<Record> taken = MustGet(*store_, key, kNow + kLease);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->owner, "owner-b");
  EXPECT_EQ(taken->state, RecordState::kInFlight);
  EXPECT_EQ(taken->lease_expires_at, kNow + 2 * kLease);
  // The old owner can no longer finish it.
  EXPECT_EQ(store_->Complete(key, "owner-a", "r", kNow + kLease).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->Release(key, "owner-a").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_P(StoreConformanceTest, CompletedOrAbsentRecordsCannotBeTakenOver) {
  const Key key = MakeKey("Order-1");
  EXPECT_EQ(store_->TakeOver(key, 1, "owner-b", kNow, kLease).code(),
            absl::StatusCode::kFailedPrecondition);
  MustAcquire(*store_, key, "owner-a");
  EXPECT_OK(store_->Complete(key, "owner-a", "r", kNow));
  std::optional<Record> done = MustGet(*store_, key);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(store_
                ->TakeOver(key, done->version, "owner-b", kNow + absl::Hours(1),
                           kLease)
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_P(StoreConformanceTest, ConcurrentReserveFrom16ThreadsAcquiresOnce) {
  // Two store objects on one database: two replicas.
  std::unique_ptr<IdempotencyStore> replica = OpenAnother();
  ASSERT_NE(replica, nullptr);
  constexpr int kThreads = 16;
  for (int round = 0; round < 5; ++round) {
    const Key key = MakeKey(absl::StrCat("Order-race-", round));
    std::latch start(kThreads);
    std::vector<absl::StatusOr<ReserveResult>> results(
        kThreads, absl::UnknownError("not run"));
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        IdempotencyStore& store = (i % 2 == 0) ? *store_ : *replica;
        start.arrive_and_wait();
        results[i] = store.Reserve(key, "fp-1", absl::StrCat("owner-", i), kNow,
                                   kLease, kRetention);
      });
    }
    for (std::thread& thread : threads) thread.join();
    int acquired = 0;
    std::string winner;
    for (const auto& result : results) {
      ASSERT_TRUE(result.ok()) << result.status();
      if (result->acquired) {
        ++acquired;
        winner = result->existing.owner;
      }
    }
    ASSERT_EQ(acquired, 1) << "round " << round;
    for (const auto& result : results) {
      EXPECT_EQ(result->existing.owner, winner);
    }
  }
}

TEST_P(StoreConformanceTest, ExpiredRecordsAreAbsentAndReplaced) {
  const Key key = MakeKey("Order-1");
  Record old = MustAcquire(*store_, key, "owner-a", "fp-1", kNow, kLease,
                           absl::Hours(1));
  EXPECT_OK(store_->Complete(key, "owner-a", "old result", kNow));
  const absl::Time expiry = kNow + absl::Hours(1);
  EXPECT_TRUE(
      MustGet(*store_, key, expiry - absl::Microseconds(1)).has_value());
  EXPECT_FALSE(MustGet(*store_, key, expiry).has_value());

  Record fresh =
      MustAcquire(*store_, key, "owner-b", "fp-2", expiry, kLease, kRetention);
  EXPECT_EQ(fresh.owner, "owner-b");
  EXPECT_EQ(fresh.fingerprint, "fp-2");
  EXPECT_EQ(fresh.state, RecordState::kInFlight);
  EXPECT_EQ(fresh.result, "");
  EXPECT_EQ(fresh.attempt_started_at, expiry);
  EXPECT_EQ(fresh.created_at, expiry);
  // Versions continue, so a version read before expiry never matches again.
  EXPECT_GT(fresh.version, old.version + 1);
  std::optional<Record> got = MustGet(*store_, key, expiry);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->owner, "owner-b");
  EXPECT_EQ(got->result, "");
}

TEST_P(StoreConformanceTest, RetentionNeverEndsBeforeTheLease) {
  Record record = MustAcquire(*store_, MakeKey("Order-1"), "owner-a", "fp-1",
                              kNow, absl::Minutes(10), absl::Minutes(1));
  EXPECT_EQ(record.expires_at, kNow + absl::Minutes(10));
}

TEST_P(StoreConformanceTest, ReapExpiredDeletesOnlyExpiredEntries) {
  MustAcquire(*store_, MakeKey("short"), "owner-a", "fp", kNow, kLease,
              absl::Hours(1));
  MustAcquire(*store_, MakeKey("long"), "owner-a", "fp", kNow, kLease,
              absl::Hours(2));
  absl::StatusOr<std::optional<absl::Time>> e1 =
      store_->RememberEvent("evt-short", kNow, absl::Hours(1));
  absl::StatusOr<std::optional<absl::Time>> e2 =
      store_->RememberEvent("evt-long", kNow, absl::Hours(3));
  ASSERT_TRUE(e1.ok() && e2.ok());

  absl::StatusOr<int64_t> none = store_->ReapExpired(kNow);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, 0);
  const absl::Time later = kNow + absl::Hours(1);
  absl::StatusOr<int64_t> reaped = store_->ReapExpired(later);
  ASSERT_TRUE(reaped.ok()) << reaped.status();
  EXPECT_EQ(*reaped, 2);
  absl::StatusOr<int64_t> again = store_->ReapExpired(later);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, 0);

  EXPECT_TRUE(MustGet(*store_, MakeKey("long"), later).has_value());
  // Even ignoring expiry, the short one is gone: a TakeOver finds nothing.
  EXPECT_FALSE(MustGet(*store_, MakeKey("short"), kNow).has_value());
  absl::StatusOr<std::optional<absl::Time>> long_again =
      store_->RememberEvent("evt-long", later, absl::Hours(3));
  ASSERT_TRUE(long_again.ok()) << long_again.status();
  EXPECT_EQ(*long_again, std::optional<absl::Time>(kNow));
}

TEST_P(StoreConformanceTest, RememberEventReportsTheFirstSighting) {
  absl::StatusOr<std::optional<absl::Time>> first =
      store_->RememberEvent("evt_1", kNow, absl::Hours(72));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->has_value());

  absl::StatusOr<std::optional<absl::Time>> second =
      store_->RememberEvent("evt_1", kNow + absl::Minutes(5), absl::Hours(72));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, std::optional<absl::Time>(kNow));

  absl::StatusOr<std::optional<absl::Time>> other =
      store_->RememberEvent("evt_2", kNow + absl::Minutes(5), absl::Hours(72));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->has_value());

  // Once forgotten (expired), an event counts as new again.
  const absl::Time much_later = kNow + absl::Hours(72);
  absl::StatusOr<std::optional<absl::Time>> renewed =
      store_->RememberEvent("evt_1", much_later, absl::Hours(72));
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_FALSE(renewed->has_value());
  absl::StatusOr<std::optional<absl::Time>> after = store_->RememberEvent(
      "evt_1", much_later + absl::Seconds(1), absl::Hours(72));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, std::optional<absl::Time>(much_later));
}

TEST_P(StoreConformanceTest, ConcurrentRememberEventIsNewExactlyOnce) {
  constexpr int kThreads = 16;
  std::latch start(kThreads);
  std::atomic<int> fresh{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      absl::StatusOr<std::optional<absl::Time>> seen =
          store_->RememberEvent("evt_race", kNow, absl::Hours(1));
      if (!seen.ok()) {
        ++failed;
      } else if (!seen->has_value()) {
        ++fresh;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(fresh.load(), 1);
}

TEST_P(StoreConformanceTest, KeysAreScopedByAccount) {
  MustAcquire(*store_, MakeKey("Order-1", ""), "owner-a");
  MustAcquire(*store_, MakeKey("Order-1", "acct-b"), "owner-b");
  std::optional<Record> a = MustGet(*store_, MakeKey("Order-1", ""));
  std::optional<Record> b = MustGet(*store_, MakeKey("Order-1", "acct-b"));
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->owner, "owner-a");
  EXPECT_EQ(b->owner, "owner-b");
  EXPECT_EQ(a->key.account, "");
}

TEST_P(StoreConformanceTest, UnicodeAndLargeValuesRoundTrip) {
  const Key key =
      MakeKey("Order-\xC3\xBC-\xE2\x82\xAC-\xF0\x9D\x84\x9E", "acct-\xC3\xA9");
  std::string result(256 * 1024, '\0');
  for (size_t i = 0; i < result.size(); ++i) {
    result[i] = static_cast<char>((i * 131 + 7) % 256);
  }
  MustAcquire(*store_, key, "owner-a");
  EXPECT_OK(store_->Complete(key, "owner-a", result, kNow));
  std::optional<Record> got = MustGet(*store_, key);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->key.reference, key.reference);
  EXPECT_EQ(got->key.account, key.account);
  EXPECT_TRUE(got->result == result);
}

TEST_P(StoreConformanceTest, InfiniteRetentionKeepsTheRecord) {
  const Key key = MakeKey("forever");
  Record record = MustAcquire(*store_, key, "owner-a", "fp", kNow, kLease,
                              absl::InfiniteDuration());
  EXPECT_EQ(record.expires_at, absl::InfiniteFuture());
  const absl::Time far = kNow + absl::Hours(24 * 365 * 100);
  absl::StatusOr<int64_t> reaped = store_->ReapExpired(far);
  ASSERT_TRUE(reaped.ok()) << reaped.status();
  EXPECT_EQ(*reaped, 0);
  std::optional<Record> got = MustGet(*store_, key, far);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->expires_at, absl::InfiniteFuture());
}

TEST_P(StoreConformanceTest, InvalidArgumentsAreRejected) {
  auto reserve_code = [&](const Key& key, const std::string& fp,
                          const std::string& owner, absl::Duration lease) {
    return store_->Reserve(key, fp, owner, kNow, lease, kRetention)
        .status()
        .code();
  };
  constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(reserve_code(MakeKey(""), "fp", "o", kLease), kInvalid);
  EXPECT_EQ(reserve_code(MakeKey("r"), "", "o", kLease), kInvalid);
  EXPECT_EQ(reserve_code(MakeKey("r"), "fp", "", kLease), kInvalid);
  EXPECT_EQ(reserve_code(MakeKey("r"), "fp", "o", absl::ZeroDuration()),
            kInvalid);
  EXPECT_EQ(reserve_code(MakeKey(std::string("a\0b", 3)), "fp", "o", kLease),
            kInvalid);
  EXPECT_EQ(reserve_code(MakeKey("bad\xC3"), "fp", "o", kLease), kInvalid);
  EXPECT_EQ(store_->RememberEvent("", kNow, kLease).status().code(), kInvalid);
  EXPECT_EQ(store_->Get(MakeKey(""), kNow).status().code(), kInvalid);
  EXPECT_FALSE(MustGet(*store_, MakeKey("r")).has_value());
}

TEST_P(StoreConformanceTest, RecordsSurviveReopening) {
  const Key key = MakeKey("Order-durable");
  MustAcquire(*store_, key, "owner-a", "fp-1");
  EXPECT_OK(store_->Complete(key, "owner-a", "the intent", kNow));
  MustAcquire(*store_, MakeKey("Order-pending"), "owner-a");
  EXPECT_OK(store_->MarkUnknown(MakeKey("Order-pending"), "owner-a", kNow));
  absl::StatusOr<std::optional<absl::Time>> event =
      store_->RememberEvent("evt_durable", kNow, absl::Hours(1));
  ASSERT_TRUE(event.ok()) << event.status();
  store_.reset();  // Close, as a restart does.

  store_ = OpenAnother();
  ASSERT_NE(store_, nullptr);
  std::optional<Record> got = MustGet(*store_, key);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->state, RecordState::kCompleted);
  EXPECT_EQ(got->result, "the intent");
  EXPECT_EQ(got->fingerprint, "fp-1");
  std::optional<Record> pending = MustGet(*store_, MakeKey("Order-pending"));
  ASSERT_TRUE(pending.has_value());
  EXPECT_EQ(pending->state, RecordState::kUnknown);
  absl::StatusOr<std::optional<absl::Time>> seen =
      store_->RememberEvent("evt_durable", kNow, absl::Hours(1));
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(*seen, std::optional<absl::Time>(kNow));
}

}  // namespace payments::idempotency::testing
