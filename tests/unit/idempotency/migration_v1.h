#ifndef TESTS_UNIT_IDEMPOTENCY_MIGRATION_V1_H_
#define TESTS_UNIT_IDEMPOTENCY_MIGRATION_V1_H_

// The schema-1 records both backends' migration tests start from, and what
// migration 2 must make of them. Each backend's test writes the schema-1
// tables and these rows with its own SQL, runs Migrate, and checks the
// result through the store's API with ExpectMigratedV1Rows.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "lib/idempotency/idempotency_store.h"

namespace payments::idempotency::testing {

// A row of schema 1's idempotency_records; times as stored (Unix micros).
struct V1Row {
  std::string account;
  std::string reference;
  std::string fingerprint;
  std::string state;  // in_flight, completed, unknown
  std::string owner;
  int64_t version;
  int64_t lease_expires_at;
  int64_t attempt_started_at;
  std::string result;  // bytes
  int64_t created_at;
  int64_t expires_at;
  int64_t updated_at;
};

// One row in each schema-1 state (and the default account, a binary
// result).
std::vector<V1Row> V1Rows();

// A time at which every migrated record is live, its lease lapsed.
absl::Time AfterV1Rows();

// Checks, through `store`, that every V1Rows() record arrived as migration
// 2 describes (store_sql.h): state, times, one attempt row.
void ExpectMigratedV1Rows(IdempotencyStore& store);

// Uses the migrated records through the new API: the in-flight one's owner
// finishes it, the unknown one is claimed and resolved.
void ExpectMigratedV1RowsUsable(IdempotencyStore& store);

}  // namespace payments::idempotency::testing

#endif  // TESTS_UNIT_IDEMPOTENCY_MIGRATION_V1_H_
