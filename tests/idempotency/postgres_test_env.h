#ifndef TESTS_IDEMPOTENCY_POSTGRES_TEST_ENV_H_
#define TESTS_IDEMPOTENCY_POSTGRES_TEST_ENV_H_

// Where the PostgreSQL tests find their server: $PAYMENTS_TEST_POSTGRES_URL
// (a database the tests may wipe), else the ctest fixture's state directory
// $PAYMENTS_TEST_POSTGRES_STATE (files `url` and `dir`, written by
// postgres_fixture.sh).

#include <optional>
#include <string>

#include "absl/status/status.h"

namespace payments::idempotency::testing {

// The database URL, or nullopt when none is configured.
std::optional<std::string> PostgresTestUrl();

// The fixture's cluster directory (for scripts/postgres-test.sh stop/start),
// or nullopt when the server was not started by the fixture.
std::optional<std::string> PostgresTestClusterDir();

// Drops the store's tables, leaving an empty database.
absl::Status WipePostgresDatabase(const std::string& url);

}  // namespace payments::idempotency::testing

#endif  // TESTS_IDEMPOTENCY_POSTGRES_TEST_ENV_H_
