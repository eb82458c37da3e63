#ifndef TESTS_UNIT_IDEMPOTENCY_STORE_TEST_UTIL_H_
#define TESTS_UNIT_IDEMPOTENCY_STORE_TEST_UTIL_H_

// Helpers for the store conformance suite (store_conformance*.cc): fixed
// times, keys, and driving a record into a state through the public API.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/idempotency/idempotency_store.h"

namespace payments::idempotency::testing {

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
#define EXPECT_CONFLICT(expr)                                        \
  do {                                                               \
    const absl::Status status_ = (expr);                             \
    EXPECT_EQ(status_.code(), absl::StatusCode::kFailedPrecondition) \
        << status_;                                                  \
  } while (false)

// Microsecond precision on purpose: both backends keep microseconds.
inline const absl::Time kNow = absl::FromUnixMicros(1'700'000'000'123'456);
inline constexpr absl::Duration kLease = absl::Seconds(30);
inline constexpr absl::Duration kRetention = absl::Hours(24 * 30);
inline constexpr absl::Duration kClaimLease = absl::Minutes(2);
// Reserve's other arguments, unless a test says otherwise.
inline const std::string kFingerprint = "v1:fp-1";
inline const std::string kParams = "1000 GBP";
inline const std::string kKeyId = "sandbox:key-1";

inline Key MakeKey(const std::string& reference,
                   const std::string& account = "acct",
                   OperationKind kind = OperationKind::kCreate) {
  return Key{.kind = kind, .account = account, .reference = reference};
}

// Reserve with the default arguments.
inline absl::StatusOr<ReserveResult> ReserveAt(
    IdempotencyStore& store, const Key& key, const std::string& owner,
    absl::Time now = kNow, const std::string& fingerprint = kFingerprint) {
  return store.Reserve(key, fingerprint, kParams, kKeyId, owner, now, kLease,
                       kRetention);
}

// Reserves `key` for `owner` at `now` and expects it acquired.
inline Record MustAcquire(IdempotencyStore& store, const Key& key,
                          const std::string& owner, absl::Time now = kNow,
                          absl::Duration lease = kLease,
                          absl::Duration retention = kRetention) {
  absl::StatusOr<ReserveResult> reserved = store.Reserve(
      key, kFingerprint, kParams, kKeyId, owner, now, lease, retention);
  EXPECT_TRUE(reserved.ok()) << reserved.status();
  if (!reserved.ok()) return Record{};
  EXPECT_TRUE(reserved->acquired) << "held by " << reserved->existing.owner;
  return reserved->existing;
}

inline std::optional<Record> MustGet(IdempotencyStore& store, const Key& key,
                                     absl::Time now = kNow) {
  absl::StatusOr<std::optional<Record>> got = store.Get(key, now);
  EXPECT_TRUE(got.ok()) << got.status();
  if (!got.ok()) return std::nullopt;
  return *got;
}

// The record, which must exist.
inline Record MustFind(IdempotencyStore& store, const Key& key,
                       absl::Time now = kNow) {
  std::optional<Record> record = MustGet(store, key, now);
  EXPECT_TRUE(record.has_value()) << key.reference << " is absent";
  return record.value_or(Record{});
}

inline std::vector<Attempt> MustListAttempts(IdempotencyStore& store,
                                             const Key& key) {
  absl::StatusOr<std::vector<Attempt>> attempts = store.ListAttempts(key);
  EXPECT_TRUE(attempts.ok()) << attempts.status();
  return attempts.ok() ? *attempts : std::vector<Attempt>{};
}

inline std::vector<Record> MustClaim(IdempotencyStore& store, absl::Time now,
                                     const std::string& claimer,
                                     int limit = 100) {
  absl::StatusOr<std::vector<Record>> claimed =
      store.ClaimDue(now, claimer, kClaimLease, limit);
  EXPECT_TRUE(claimed.ok()) << claimed.status();
  return claimed.ok() ? *claimed : std::vector<Record>{};
}

// Reserved at `now` and sent at `now` by `owner`.
inline Record MustSend(IdempotencyStore& store, const Key& key,
                       const std::string& owner, absl::Time now = kNow) {
  MustAcquire(store, key, owner, now);
  absl::Status sent = store.MarkSent(key, owner, now);
  EXPECT_TRUE(sent.ok()) << sent;
  return MustFind(store, key, now);
}

// Sent at `now`, and its outcome unknown at `ended`.
inline Record MustMakeUnknown(IdempotencyStore& store, const Key& key,
                              const std::string& owner, absl::Time now,
                              absl::Time ended) {
  MustSend(store, key, owner, now);
  absl::Status marked = store.MarkUnknown(key, owner, ended);
  EXPECT_TRUE(marked.ok()) << marked;
  return MustFind(store, key, ended);
}

// The references of `records`, in order.
inline std::vector<std::string> References(const std::vector<Record>& records) {
  std::vector<std::string> references;
  for (const Record& record : records) {
    references.push_back(record.key.reference);
  }
  return references;
}

}  // namespace payments::idempotency::testing

#endif  // TESTS_UNIT_IDEMPOTENCY_STORE_TEST_UTIL_H_
