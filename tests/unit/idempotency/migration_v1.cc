#include "tests/unit/idempotency/migration_v1.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/idempotency/store_test_util.h"

namespace payments::idempotency::testing {
namespace {

constexpr int64_t kT = 1'700'000'000'000'000;  // Unix micros.
constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kDay = 86'400 * kSecond;

absl::Time At(int64_t micros) { return absl::FromUnixMicros(micros); }

}  // namespace

std::vector<V1Row> V1Rows() {
  return {
      {.account = "acct",
       .reference = "Order-done",
       .fingerprint = "v1:aaaa",
       .state = "completed",
       .owner = "replica-1/call-1",
       .version = 2,
       .lease_expires_at = kT + 30 * kSecond,
       .attempt_started_at = kT,
       .result = std::string("\x0a\x05pi_01\0\xff", 9),
       .created_at = kT,
       .expires_at = kT + 30 * kDay,
       .updated_at = kT + 2 * kSecond},
      {.account = "",
       .reference = "Order-flight",
       .fingerprint = "v1:bbbb",
       .state = "in_flight",
       .owner = "replica-2/call-9",
       .version = 1,
       .lease_expires_at = kT + 30 * kSecond,
       .attempt_started_at = kT,
       .result = "",
       .created_at = kT,
       .expires_at = kT + 30 * kDay,
       .updated_at = kT},
      // Taken over once (attempt_started_at kept), then unknown.
      {.account = "acct",
       .reference = "Order-unknown",
       .fingerprint = "v1:cccc",
       .state = "unknown",
       .owner = "replica-1/call-7",
       .version = 3,
       .lease_expires_at = kT + 60 * kSecond,
       .attempt_started_at = kT - 10 * kSecond,
       .result = "",
       .created_at = kT - 10 * kSecond,
       .expires_at = kT + 30 * kDay,
       .updated_at = kT + 5 * kSecond},
  };
}

absl::Time AfterV1Rows() { return At(kT + 120 * kSecond); }

void ExpectMigratedV1Rows(IdempotencyStore& store) {
  for (const V1Row& row : V1Rows()) {
    SCOPED_TRACE(row.reference);
    const Key key = MakeKey(row.reference, row.account);
    Record r = MustFind(store, key, AfterV1Rows());
    EXPECT_EQ(r.key.kind, OperationKind::kCreate);
    EXPECT_EQ(r.key.account, row.account);
    EXPECT_EQ(r.fingerprint, row.fingerprint);
    EXPECT_EQ(r.params, "");
    EXPECT_EQ(r.owner, row.owner);
    EXPECT_EQ(r.version, row.version);
    EXPECT_EQ(r.lease_expires_at, At(row.lease_expires_at));
    EXPECT_EQ(r.key_id, "");
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(r.sent_at, At(row.attempt_started_at));
    EXPECT_EQ(r.dojo_id, "");
    EXPECT_EQ(r.result, row.result);
    EXPECT_EQ(r.created_at, At(row.created_at));
    EXPECT_EQ(r.expires_at, At(row.expires_at));
    EXPECT_EQ(r.claimed_by, "");
    EXPECT_EQ(r.claim_expires_at, absl::InfinitePast());
    std::vector<Attempt> attempts = MustListAttempts(store, key);
    ASSERT_EQ(attempts.size(), 1u);
    EXPECT_EQ(attempts[0].number, 1);
    EXPECT_EQ(attempts[0].sent_at, At(row.attempt_started_at));
    if (row.state == "completed") {
      EXPECT_EQ(r.state, RecordState::kSucceeded);
      EXPECT_EQ(r.ended_at, At(row.updated_at));
      EXPECT_EQ(r.next_check_at, absl::InfinitePast());
      EXPECT_EQ(attempts[0].ended_at, At(row.updated_at));
      EXPECT_EQ(attempts[0].outcome, "succeeded");
    } else if (row.state == "in_flight") {
      EXPECT_EQ(r.state, RecordState::kSent);
      EXPECT_EQ(r.ended_at, absl::InfinitePast());
      EXPECT_EQ(r.next_check_at, absl::InfinitePast());
      EXPECT_EQ(attempts[0].ended_at, absl::InfinitePast());
      EXPECT_EQ(attempts[0].outcome, "");
    } else {
      EXPECT_EQ(r.state, RecordState::kUnknown);
      EXPECT_EQ(r.ended_at, At(row.updated_at));
      EXPECT_EQ(r.next_check_at, At(row.updated_at));
      EXPECT_EQ(attempts[0].ended_at, At(row.updated_at));
      EXPECT_EQ(attempts[0].outcome, "unknown");
    }
  }
}

void ExpectMigratedV1RowsUsable(IdempotencyStore& store) {
  const absl::Time now = AfterV1Rows();
  // Both the unknown and the abandoned in-flight record are due.
  std::vector<Record> due = MustClaim(store, now, "reconciler");
  EXPECT_EQ(References(due),
            (std::vector<std::string>{"Order-flight", "Order-unknown"}));
  const Key unknown = MakeKey("Order-unknown", "acct");
  const Key flight = MakeKey("Order-flight", "");
  EXPECT_OK(store.Resolve(unknown, MustFind(store, unknown, now).version,
                          "pi_02", "intent", now));
  EXPECT_OK(store.Succeed(flight, "replica-2/call-9", "pi_03", "intent", now));
  EXPECT_EQ(MustListAttempts(store, unknown)[0].outcome, "succeeded");
  EXPECT_EQ(MustListAttempts(store, flight)[0].outcome, "succeeded");
  // A completed record is replayed, not reserved again.
  absl::StatusOr<ReserveResult> replay =
      ReserveAt(store, MakeKey("Order-done", "acct"), "owner-x", now);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_FALSE(replay->acquired);
  EXPECT_EQ(replay->existing.state, RecordState::kSucceeded);
}

}  // namespace payments::idempotency::testing
