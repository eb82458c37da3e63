#include "tests/idempotency/postgres_test_env.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace payments::idempotency::testing {
namespace {

std::optional<std::string> ReadStateFile(const char* name) {
  const char* state = std::getenv("PAYMENTS_TEST_POSTGRES_STATE");
  if (state == nullptr || *state == '\0') return std::nullopt;
  std::ifstream in(std::string(state) + "/" + name);
  std::string line;
  if (!std::getline(in, line) || line.empty()) return std::nullopt;
  return line;
}

}  // namespace

std::optional<std::string> PostgresTestUrl() {
  const char* url = std::getenv("PAYMENTS_TEST_POSTGRES_URL");
  if (url != nullptr && *url != '\0') return std::string(url);
  return ReadStateFile("url");
}

std::optional<std::string> PostgresTestClusterDir() {
  std::optional<std::string> dir = ReadStateFile("dir");
  if (!dir.has_value()) return std::nullopt;
  return *dir + "/cluster";
}

absl::Status WipePostgresDatabase(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  absl::Status status;
  if (PQstatus(conn) != CONNECTION_OK) {
    status = absl::UnavailableError(PQerrorMessage(conn));
  } else {
    PGresult* result =
        PQexec(conn,
               "DROP TABLE IF EXISTS idempotency_records, operations,"
               " operation_attempts, webhook_events, schema_version");
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
      status = absl::InternalError(PQresultErrorMessage(result));
    }
    PQclear(result);
  }
  PQfinish(conn);
  return status;
}

}  // namespace payments::idempotency::testing
