// The conformance suite's fixture, and Reserve, Get, expiry, reaping,
// webhook events, durability and argument checks. The owner's transitions
// are in store_conformance_owner.cc, settlement and the reconciler's claims
// in store_conformance_settlement.cc.

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
#include "tests/unit/idempotency/store_test_util.h"

namespace payments::idempotency::testing {

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

namespace {

TEST_P(StoreConformanceTest, MigrateTwiceIsFineAndPingAnswers) {
  EXPECT_OK(store_->Migrate());
  EXPECT_OK(store_->Migrate());
  EXPECT_OK(store_->Ping());
}

TEST_P(StoreConformanceTest, FirstReserveAcquiresAFreshPendingRecord) {
  const Key key = MakeKey("Order-1", "acct", OperationKind::kRefund);
  Record record = MustAcquire(*store_, key, "owner-a");
  for (const Record& r : {record, MustFind(*store_, key)}) {
    EXPECT_EQ(r.key.kind, OperationKind::kRefund);
    EXPECT_EQ(r.key.account, "acct");
    EXPECT_EQ(r.key.reference, "Order-1");
    EXPECT_EQ(r.fingerprint, kFingerprint);
    EXPECT_EQ(r.params, kParams);
    EXPECT_EQ(r.state, RecordState::kPending);
    EXPECT_EQ(r.owner, "owner-a");
    EXPECT_EQ(r.version, 1);
    EXPECT_EQ(r.lease_expires_at, kNow + kLease);
    EXPECT_EQ(r.key_id, kKeyId);
    EXPECT_EQ(r.attempts, 0);
    EXPECT_EQ(r.sent_at, absl::InfinitePast());
    EXPECT_EQ(r.ended_at, absl::InfinitePast());
    EXPECT_EQ(r.dojo_id, "");
    EXPECT_EQ(r.result, "");
    EXPECT_EQ(r.created_at, kNow);
    EXPECT_EQ(r.expires_at, kNow + kRetention);
    EXPECT_EQ(r.next_check_at, absl::InfinitePast());
    EXPECT_EQ(r.claimed_by, "");
    EXPECT_EQ(r.claim_expires_at, absl::InfinitePast());
  }
  EXPECT_TRUE(MustListAttempts(*store_, key).empty());
}

TEST_P(StoreConformanceTest, GetOfAnAbsentKeyIsEmpty) {
  EXPECT_FALSE(MustGet(*store_, MakeKey("nope")).has_value());
  EXPECT_TRUE(MustListAttempts(*store_, MakeKey("nope")).empty());
}

TEST_P(StoreConformanceTest, ReserveOfALiveKeyReturnsTheRecordAsItStands) {
  const Key key = MakeKey("Order-1");
  MustAcquire(*store_, key, "owner-a");
  for (const absl::Time now : {kNow + absl::Seconds(1),
                               // An abandoned record is not free either:
                               // the reconciler settles it.
                               kNow + kLease + absl::Seconds(1)}) {
    absl::StatusOr<ReserveResult> second =
        ReserveAt(*store_, key, "owner-b", now, "v1:fp-2");
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_FALSE(second->acquired);
    EXPECT_EQ(second->existing.fingerprint, kFingerprint);
    EXPECT_EQ(second->existing.owner, "owner-a");
    EXPECT_EQ(second->existing.state, RecordState::kPending);
    EXPECT_EQ(second->existing.version, 1);
  }
  // Sent, unknown and succeeded records are not free.
  const Key sent = MakeKey("sent"), unknown = MakeKey("unknown"),
            done = MakeKey("done");
  MustSend(*store_, sent, "owner-a");
  MustMakeUnknown(*store_, unknown, "owner-a", kNow, kNow);
  MustSend(*store_, done, "owner-a");
  ASSERT_OK(store_->Succeed(done, "owner-a", "pi_1", "intent", kNow));
  for (const Key& k : {sent, unknown, done}) {
    absl::StatusOr<ReserveResult> again =
        ReserveAt(*store_, k, "owner-b", kNow + absl::Hours(1));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_FALSE(again->acquired) << k.reference;
    EXPECT_EQ(again->existing.owner, "owner-a");
  }
}

TEST_P(StoreConformanceTest, ReserveRepeatedByItsOwnerAcquiresAgain) {
  const Key key = MakeKey("Order-1");
  MustAcquire(*store_, key, "owner-a");
  // Repeated after an UNAVAILABLE whose change did happen.
  Record again = MustAcquire(*store_, key, "owner-a", kNow + absl::Seconds(1));
  EXPECT_EQ(again.version, 1);
  EXPECT_EQ(again.lease_expires_at, kNow + kLease);
  // Same owner, other arguments: not the same call.
  for (const auto& [fp, params, key_id] :
       {std::tuple<std::string, std::string, std::string>{"v1:fp-2", kParams,
                                                          kKeyId},
        {kFingerprint, "999 GBP", kKeyId},
        {kFingerprint, kParams, "sandbox:key-2"}}) {
    absl::StatusOr<ReserveResult> other = store_->Reserve(
        key, fp, params, key_id, "owner-a", kNow, kLease, kRetention);
    ASSERT_TRUE(other.ok()) << other.status();
    EXPECT_FALSE(other->acquired);
  }
  // Once sent, a repeat no longer acquires.
  ASSERT_OK(store_->MarkSent(key, "owner-a", kNow));
  absl::StatusOr<ReserveResult> sent = ReserveAt(*store_, key, "owner-a");
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_FALSE(sent->acquired);
  EXPECT_EQ(sent->existing.state, RecordState::kSent);
}

TEST_P(StoreConformanceTest, KeysAreScopedByKindAndAccount) {
  const Key create_default = MakeKey("R-1", "");
  const Key create_b = MakeKey("R-1", "acct-b");
  const Key refund_b = MakeKey("R-1", "acct-b", OperationKind::kRefund);
  const Key cancel_b = MakeKey("R-1", "acct-b", OperationKind::kCancel);
  MustAcquire(*store_, create_default, "owner-a");
  MustAcquire(*store_, create_b, "owner-b");
  MustAcquire(*store_, refund_b, "owner-c");
  MustAcquire(*store_, cancel_b, "owner-d");
  EXPECT_EQ(MustFind(*store_, create_default).owner, "owner-a");
  EXPECT_EQ(MustFind(*store_, create_default).key.account, "");
  EXPECT_EQ(MustFind(*store_, create_b).owner, "owner-b");
  EXPECT_EQ(MustFind(*store_, refund_b).owner, "owner-c");
  EXPECT_EQ(MustFind(*store_, cancel_b).owner, "owner-d");
  EXPECT_EQ(MustFind(*store_, cancel_b).key.kind, OperationKind::kCancel);
  EXPECT_FALSE(MustGet(*store_, MakeKey("R-1", "", OperationKind::kCapture))
                   .has_value());
}

TEST_P(StoreConformanceTest, ExpiredRecordsAreAbsentAndReplacedWithoutHistory) {
  const Key key = MakeKey("Order-1");
  MustAcquire(*store_, key, "owner-a", kNow, kLease, absl::Hours(1));
  ASSERT_OK(store_->MarkSent(key, "owner-a", kNow));
  ASSERT_OK(store_->Succeed(key, "owner-a", "pi_old", "old", kNow));
  const Record old = MustFind(*store_, key);
  const absl::Time expiry = kNow + absl::Hours(1);
  EXPECT_TRUE(
      MustGet(*store_, key, expiry - absl::Microseconds(1)).has_value());
  EXPECT_FALSE(MustGet(*store_, key, expiry).has_value());

  absl::StatusOr<ReserveResult> fresh =
      store_->Reserve(key, "v1:fp-2", "5 EUR", "sandbox:key-2", "owner-b",
                      expiry, kLease, kRetention);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  ASSERT_TRUE(fresh->acquired);
  for (const Record& r : {fresh->existing, MustFind(*store_, key, expiry)}) {
    EXPECT_EQ(r.owner, "owner-b");
    EXPECT_EQ(r.fingerprint, "v1:fp-2");
    EXPECT_EQ(r.params, "5 EUR");
    EXPECT_EQ(r.key_id, "sandbox:key-2");
    EXPECT_EQ(r.state, RecordState::kPending);
    EXPECT_EQ(r.dojo_id, "");
    EXPECT_EQ(r.result, "");
    EXPECT_EQ(r.sent_at, absl::InfinitePast());
    EXPECT_EQ(r.ended_at, absl::InfinitePast());
    EXPECT_EQ(r.created_at, expiry);
    EXPECT_EQ(r.expires_at, expiry + kRetention);
    // The version continues, so a version read before never matches again;
    // the attempt count goes on, the expired record's history does not.
    EXPECT_EQ(r.version, old.version + 1);
    EXPECT_EQ(r.attempts, 1);
  }
  EXPECT_TRUE(MustListAttempts(*store_, key).empty());
  ASSERT_OK(store_->MarkSent(key, "owner-b", expiry));
  std::vector<Attempt> attempts = MustListAttempts(*store_, key);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].number, 2);
}

TEST_P(StoreConformanceTest, ExpiredRecordsInAnyStateAreReplaced) {
  const absl::Duration retention = absl::Minutes(1);
  const Key pending = MakeKey("pending"), unknown = MakeKey("unknown");
  MustAcquire(*store_, pending, "owner-a", kNow, kLease, retention);
  MustAcquire(*store_, unknown, "owner-a", kNow, kLease, retention);
  ASSERT_OK(store_->MarkSent(unknown, "owner-a", kNow));
  ASSERT_OK(store_->MarkUnknown(unknown, "owner-a", kNow));
  const absl::Time expiry = kNow + retention;
  for (const Key& key : {pending, unknown}) {
    Record fresh = MustAcquire(*store_, key, "owner-b", expiry);
    EXPECT_EQ(fresh.owner, "owner-b") << key.reference;
    EXPECT_EQ(fresh.state, RecordState::kPending);
  }
}

TEST_P(StoreConformanceTest, RetentionNeverEndsBeforeTheLease) {
  Record record = MustAcquire(*store_, MakeKey("Order-1"), "owner-a", kNow,
                              absl::Minutes(10), absl::Minutes(1));
  EXPECT_EQ(record.expires_at, kNow + absl::Minutes(10));
}

TEST_P(StoreConformanceTest, ReapExpiredDeletesOnlyExpiredEntries) {
  const Key short_key = MakeKey("short"), long_key = MakeKey("long");
  MustAcquire(*store_, short_key, "owner-a", kNow, kLease, absl::Hours(1));
  ASSERT_OK(store_->MarkSent(short_key, "owner-a", kNow));
  MustAcquire(*store_, long_key, "owner-a", kNow, kLease, absl::Hours(2));
  ASSERT_OK(store_->MarkSent(long_key, "owner-a", kNow));
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
  EXPECT_EQ(*reaped, 2);  // One record (its attempt is not counted), one event.
  absl::StatusOr<int64_t> again = store_->ReapExpired(later);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, 0);

  EXPECT_TRUE(MustGet(*store_, long_key, later).has_value());
  EXPECT_EQ(MustListAttempts(*store_, long_key).size(), 1u);
  // Even ignoring expiry, the short one is gone with its attempts, and a
  // new record for its key starts over.
  EXPECT_FALSE(MustGet(*store_, short_key, kNow).has_value());
  EXPECT_TRUE(MustListAttempts(*store_, short_key).empty());
  Record fresh = MustAcquire(*store_, short_key, "owner-b", later);
  EXPECT_EQ(fresh.version, 1);
  EXPECT_EQ(fresh.attempts, 0);
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

// 16 threads over two store objects on one database (two replicas) reserve
// the same key: exactly one acquires, whether the key is absent, free or
// expired.
TEST_P(StoreConformanceTest, ConcurrentReserveFrom16ThreadsAcquiresOnce) {
  std::unique_ptr<IdempotencyStore> replica = OpenAnother();
  ASSERT_NE(replica, nullptr);
  constexpr int kThreads = 16;
  enum Variant { kAbsent, kFree, kExpired };
  for (int round = 0; round < 6; ++round) {
    const Variant variant = static_cast<Variant>(round % 3);
    const Key key = MakeKey(absl::StrCat("Order-race-", round));
    if (variant == kFree) {
      MustAcquire(*store_, key, "first");
      ASSERT_OK(store_->Fail(key, "first", kNow));
    } else if (variant == kExpired) {
      MustAcquire(*store_, key, "first", kNow - absl::Hours(1), kLease,
                  absl::Minutes(1));
    }
    std::latch start(kThreads);
    std::vector<absl::StatusOr<ReserveResult>> results(
        kThreads, absl::UnknownError("not run"));
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        IdempotencyStore& store = (i % 2 == 0) ? *store_ : *replica;
        start.arrive_and_wait();
        results[i] =
            ReserveAt(store, key, absl::StrCat("owner-", round, "-", i), kNow);
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
      EXPECT_EQ(result->existing.state, RecordState::kPending);
    }
    const int64_t kVersions[] = {1, 3, 2};
    EXPECT_EQ(MustFind(*store_, key).version, kVersions[variant]);
  }
}

TEST_P(StoreConformanceTest, UnicodeAndLargeValuesRoundTrip) {
  const Key key =
      MakeKey("Order-\xC3\xBC-\xE2\x82\xAC-\xF0\x9D\x84\x9E", "acct-\xC3\xA9");
  std::string result(256 * 1024, '\0');
  for (size_t i = 0; i < result.size(); ++i) {
    result[i] = static_cast<char>((i * 131 + 7) % 256);
  }
  MustSend(*store_, key, "owner-\xE2\x82\xAC");
  ASSERT_OK(
      store_->Succeed(key, "owner-\xE2\x82\xAC", "pi_\xC3\xBC", result, kNow));
  Record got = MustFind(*store_, key);
  EXPECT_EQ(got.key.reference, key.reference);
  EXPECT_EQ(got.key.account, key.account);
  EXPECT_EQ(got.dojo_id, "pi_\xC3\xBC");
  EXPECT_TRUE(got.result == result);
}

TEST_P(StoreConformanceTest, InfiniteRetentionKeepsTheRecord) {
  const Key key = MakeKey("forever");
  Record record = MustAcquire(*store_, key, "owner-a", kNow, kLease,
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

TEST_P(StoreConformanceTest, RecordsSurviveReopening) {
  const Key key = MakeKey("Order-durable");
  MustSend(*store_, key, "owner-a");
  ASSERT_OK(store_->Succeed(key, "owner-a", "pi_1", "the intent", kNow));
  MustMakeUnknown(*store_, MakeKey("Order-unknown"), "owner-a", kNow, kNow);
  absl::StatusOr<std::optional<absl::Time>> event =
      store_->RememberEvent("evt_durable", kNow, absl::Hours(1));
  ASSERT_TRUE(event.ok()) << event.status();
  const Record before = MustFind(*store_, key);
  store_.reset();  // Close, as a restart does.

  store_ = OpenAnother();
  ASSERT_NE(store_, nullptr);
  Record got = MustFind(*store_, key);
  EXPECT_EQ(got.state, RecordState::kSucceeded);
  EXPECT_EQ(got.result, "the intent");
  EXPECT_EQ(got.dojo_id, "pi_1");
  EXPECT_EQ(got.version, before.version);
  EXPECT_EQ(got.sent_at, before.sent_at);
  EXPECT_EQ(MustListAttempts(*store_, key).size(), 1u);
  EXPECT_EQ(MustFind(*store_, MakeKey("Order-unknown")).state,
            RecordState::kUnknown);
  absl::StatusOr<std::optional<absl::Time>> seen =
      store_->RememberEvent("evt_durable", kNow, absl::Hours(1));
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(*seen, std::optional<absl::Time>(kNow));
}

// Every argument check, for every method that takes the argument: nothing
// reaches the backend, nothing is stored.
TEST_P(StoreConformanceTest, InvalidArgumentsAreRejected) {
  constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
  const std::string kNul("a\0b", 3);
  const std::string kBadUtf8 = "bad\xC3";
  const std::string kSurrogate = "x\xED\xA0\x80";
  std::vector<Key> bad_keys = {MakeKey(""),
                               MakeKey(kNul),
                               MakeKey(kBadUtf8),
                               MakeKey(kSurrogate),
                               MakeKey("r", kNul),
                               MakeKey("r", kBadUtf8),
                               MakeKey("r", "acct", OperationKind{99})};
  auto reserve = [&](const Key& key, const std::string& fp,
                     const std::string& params, const std::string& key_id,
                     const std::string& owner, absl::Duration lease,
                     absl::Duration retention) {
    return store_
        ->Reserve(key, fp, params, key_id, owner, kNow, lease, retention)
        .status()
        .code();
  };
  const Key ok = MakeKey("r");
  for (const Key& key : bad_keys) {
    SCOPED_TRACE(key.reference + "/" + key.account);
    EXPECT_EQ(reserve(key, "fp", "", "", "o", kLease, kRetention), kInvalid);
    EXPECT_EQ(store_->Get(key, kNow).status().code(), kInvalid);
    EXPECT_EQ(store_->MarkSent(key, "o", kNow).code(), kInvalid);
    EXPECT_EQ(store_->Succeed(key, "o", "pi", "r", kNow).code(), kInvalid);
    EXPECT_EQ(store_->MarkUnknown(key, "o", kNow).code(), kInvalid);
    EXPECT_EQ(store_->Fail(key, "o", kNow).code(), kInvalid);
    EXPECT_EQ(store_->Resolve(key, 1, "pi", "r", kNow).code(), kInvalid);
    EXPECT_EQ(store_->SettleNotCreated(key, 1, kNow).code(), kInvalid);
    EXPECT_EQ(store_->Reschedule(key, 1, kNow).code(), kInvalid);
    EXPECT_EQ(store_->Rebind(key, 1, "k").code(), kInvalid);
    EXPECT_EQ(store_->ListAttempts(key).status().code(), kInvalid);
  }
  for (const std::string& bad : {kNul, kBadUtf8}) {
    EXPECT_EQ(reserve(ok, bad, "", "", "o", kLease, kRetention), kInvalid);
    EXPECT_EQ(reserve(ok, "fp", bad, "", "o", kLease, kRetention), kInvalid);
    EXPECT_EQ(reserve(ok, "fp", "", bad, "o", kLease, kRetention), kInvalid);
    EXPECT_EQ(reserve(ok, "fp", "", "", bad, kLease, kRetention), kInvalid);
    EXPECT_EQ(store_->MarkSent(ok, bad, kNow).code(), kInvalid);
    EXPECT_EQ(store_->Succeed(ok, bad, "pi", "r", kNow).code(), kInvalid);
    EXPECT_EQ(store_->Succeed(ok, "o", bad, "r", kNow).code(), kInvalid);
    EXPECT_EQ(store_->MarkUnknown(ok, bad, kNow).code(), kInvalid);
    EXPECT_EQ(store_->Fail(ok, bad, kNow).code(), kInvalid);
    EXPECT_EQ(store_->Resolve(ok, 1, bad, "r", kNow).code(), kInvalid);
    EXPECT_EQ(store_->Rebind(ok, 1, bad).code(), kInvalid);
    EXPECT_EQ(store_->ClaimDue(kNow, bad, kClaimLease, 1).status().code(),
              kInvalid);
    EXPECT_EQ(store_->RememberEvent(bad, kNow, kLease).status().code(),
              kInvalid);
  }
  EXPECT_EQ(reserve(ok, "", "", "", "o", kLease, kRetention), kInvalid);
  EXPECT_EQ(reserve(ok, "fp", "", "", "", kLease, kRetention), kInvalid);
  EXPECT_EQ(reserve(ok, "fp", "", "", "o", absl::ZeroDuration(), kRetention),
            kInvalid);
  EXPECT_EQ(reserve(ok, "fp", "", "", "o", kLease, -absl::Seconds(1)),
            kInvalid);
  for (auto owner_change :
       {&IdempotencyStore::MarkSent, &IdempotencyStore::MarkUnknown,
        &IdempotencyStore::Fail}) {
    EXPECT_EQ(((*store_).*owner_change)(ok, "", kNow).code(), kInvalid);
  }
  EXPECT_EQ(store_->Succeed(ok, "", "pi", "r", kNow).code(), kInvalid);
  EXPECT_EQ(store_->Rebind(ok, 1, "").code(), kInvalid);
  EXPECT_EQ(store_->ClaimDue(kNow, "", kClaimLease, 1).status().code(),
            kInvalid);
  EXPECT_EQ(store_->ClaimDue(kNow, "c", kClaimLease, 0).status().code(),
            kInvalid);
  EXPECT_EQ(store_->ClaimDue(kNow, "c", kClaimLease, -5).status().code(),
            kInvalid);
  EXPECT_EQ(
      store_->ClaimDue(kNow, "c", absl::ZeroDuration(), 1).status().code(),
      kInvalid);
  EXPECT_EQ(store_->RememberEvent("", kNow, kLease).status().code(), kInvalid);
  EXPECT_EQ(
      store_->RememberEvent("e", kNow, absl::ZeroDuration()).status().code(),
      kInvalid);

  // Nothing was stored; what may be empty is accepted.
  EXPECT_FALSE(MustGet(*store_, ok).has_value());
  absl::StatusOr<int64_t> reaped =
      store_->ReapExpired(absl::InfiniteFuture() - absl::Seconds(1));
  ASSERT_TRUE(reaped.ok()) << reaped.status();
  EXPECT_EQ(*reaped, 0);
  absl::StatusOr<ReserveResult> empty_optional = store_->Reserve(
      MakeKey("r", ""), "fp", "", "", "o", kNow, kLease, kRetention);
  ASSERT_TRUE(empty_optional.ok()) << empty_optional.status();
  EXPECT_TRUE(empty_optional->acquired);
  EXPECT_EQ(empty_optional->existing.key_id, "");
  EXPECT_EQ(empty_optional->existing.params, "");
}

}  // namespace
}  // namespace payments::idempotency::testing
