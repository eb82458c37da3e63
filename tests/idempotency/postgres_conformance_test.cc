// The store conformance suite and replica behaviour against a real
// PostgreSQL (see postgres_test_env.h for how it is found; skipped without
// one).

#include <libpq-fe.h>

#include <atomic>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/idempotency/idempotency_store.h"
#include "lib/idempotency/postgres_store.h"
#include "tests/idempotency/postgres_test_env.h"
#include "tests/unit/idempotency/migration_v1.h"
#include "tests/unit/idempotency/store_conformance.h"

namespace payments::idempotency::testing {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

class PostgresDatabase final : public StoreDatabase {
 public:
  explicit PostgresDatabase(std::string url) : url_(std::move(url)) {}
  absl::StatusOr<std::unique_ptr<IdempotencyStore>> Open() override {
    return OpenStore(url_);
  }

 private:
  std::string url_;
};

absl::StatusOr<std::unique_ptr<StoreDatabase>> FreshPostgresDatabase() {
  std::optional<std::string> url = PostgresTestUrl();
  if (!url.has_value()) {
    return absl::FailedPreconditionError(
        "no PostgreSQL: set PAYMENTS_TEST_POSTGRES_URL or run through ctest");
  }
  if (absl::Status wiped = WipePostgresDatabase(*url); !wiped.ok()) {
    return wiped;
  }
  return std::make_unique<PostgresDatabase>(*url);
}

INSTANTIATE_TEST_SUITE_P(PostgreSQL, StoreConformanceTest,
                         ::testing::Values(StoreBackend{
                             .name = "PostgreSQL",
                             .create = FreshPostgresDatabase}),
                         StoreConformanceTest::Name);

class PostgresReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::optional<std::string> url = PostgresTestUrl();
    if (!url.has_value()) GTEST_SKIP() << "no PostgreSQL configured";
    url_ = *url;
    absl::Status wiped = WipePostgresDatabase(url_);
    ASSERT_TRUE(wiped.ok()) << wiped;
  }

  std::string QueryText(const std::string& sql) {
    PGconn* conn = PQconnectdb(url_.c_str());
    PGresult* result = PQexec(conn, sql.c_str());
    std::string value;
    if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) > 0) {
      value = PQgetvalue(result, 0, 0);
    }
    PQclear(result);
    PQfinish(conn);
    return value;
  }

  // Runs `sql` with text parameters (binary where `binary`); OK or why not.
  absl::Status Exec(const std::string& sql,
                    const std::vector<std::string>& params = {},
                    const std::vector<bool>& binary = {}) {
    PGconn* conn = PQconnectdb(url_.c_str());
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    for (size_t i = 0; i < params.size(); ++i) {
      values.push_back(params[i].data());
      lengths.push_back(static_cast<int>(params[i].size()));
      formats.push_back(i < binary.size() && binary[i] ? 1 : 0);
    }
    PGresult* result =
        PQexecParams(conn, sql.c_str(), static_cast<int>(params.size()),
                     nullptr, values.data(), lengths.data(), formats.data(), 0);
    absl::Status status;
    if (PQresultStatus(result) != PGRES_COMMAND_OK &&
        PQresultStatus(result) != PGRES_TUPLES_OK) {
      status = absl::InternalError(PQresultErrorMessage(result));
    }
    PQclear(result);
    PQfinish(conn);
    return status;
  }

  std::string url_;
};

TEST_F(PostgresReplicaTest, ReplicasMigrateConcurrently) {
  constexpr int kReplicas = 6;
  std::latch start(kReplicas);
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kReplicas; ++i) {
    threads.emplace_back([&] {
      absl::StatusOr<std::unique_ptr<IdempotencyStore>> store = OpenStore(url_);
      start.arrive_and_wait();
      if (!store.ok() || !(*store)->Migrate().ok() || !(*store)->Ping().ok()) {
        ++failed;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(QueryText("SELECT version FROM schema_version"), "2");
  EXPECT_EQ(QueryText("SELECT count(*) FROM schema_version"), "1");
}

TEST_F(PostgresReplicaTest, StoresTimesAsUnixMicros) {
  absl::StatusOr<std::unique_ptr<IdempotencyStore>> store = OpenStore(url_);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Migrate().ok());
  const absl::Time now = kNow + absl::Microseconds(7);
  const Key key{
      .kind = OperationKind::kRefund, .account = "a", .reference = "r"};
  ASSERT_TRUE((*store)
                  ->Reserve(key, "fp", "5 GBP", "k", "o", now, absl::Seconds(1),
                            absl::Hours(1))
                  .ok());
  ASSERT_TRUE((*store)->MarkSent(key, "o", now).ok());
  EXPECT_EQ(QueryText("SELECT created_at FROM operations"),
            absl::StrCat(absl::ToUnixMicros(now)));
  EXPECT_EQ(QueryText("SELECT ended_at FROM operations"),
            "-9223372036854775808");
  EXPECT_EQ(QueryText("SELECT state || ' ' || kind || ' ' || params"
                      " FROM operations"),
            "sent refund 5 GBP");
  EXPECT_EQ(QueryText("SELECT sent_at FROM operation_attempts"),
            absl::StrCat(absl::ToUnixMicros(now)));
}

// Many callers share a small pool: they queue for a connection, and none
// fails.
TEST_F(PostgresReplicaTest, SmallPoolServesManyThreads) {
  const std::string url =
      absl::StrCat(url_, url_.find('?') == std::string::npos ? "?" : "&",
                   "application_name=pool-test");
  absl::StatusOr<std::unique_ptr<PostgresStore>> store =
      PostgresStore::Open(url, {.max_connections = 2});
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Migrate().ok());
  constexpr int kThreads = 16;
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 20; ++j) {
        const Key key{.account = "a",
                      .reference = absl::StrCat("r-", i, "-", j)};
        absl::StatusOr<ReserveResult> reserved = (*store)->Reserve(
            key, "fp", "", "", "o", kNow, absl::Seconds(30), absl::Hours(1));
        if (!reserved.ok() || !reserved->acquired ||
            !(*store)->MarkSent(key, "o", kNow).ok() ||
            !(*store)->Succeed(key, "o", "pi", "done", kNow).ok()) {
          ++failed;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(QueryText("SELECT count(*) FROM operations"
                      " WHERE state = 'succeeded'"),
            absl::StrCat(kThreads * 20));
  EXPECT_EQ(QueryText("SELECT count(*) FROM operation_attempts"
                      " WHERE outcome = 'succeeded'"),
            absl::StrCat(kThreads * 20));
  EXPECT_LE(std::stoi(QueryText("SELECT count(*) FROM pg_stat_activity"
                                " WHERE application_name = 'pool-test'")),
            2);
}

// Schema 1 as the previous release created it (its DDL, verbatim), with a
// record in each of its states: migration 2 moves them into the journal.
TEST_F(PostgresReplicaTest, MigratesSchema1RecordsIntoTheJournal) {
  for (const char* ddl : {
           "CREATE TABLE schema_version (version integer NOT NULL)",
           "INSERT INTO schema_version (version) VALUES (1)",
           "CREATE TABLE IF NOT EXISTS idempotency_records ("
           " account text NOT NULL,"
           " reference text NOT NULL,"
           " fingerprint text NOT NULL,"
           " state text NOT NULL"
           "  CHECK (state IN ('in_flight', 'completed', 'unknown')),"
           " owner text NOT NULL,"
           " version bigint NOT NULL,"
           " lease_expires_at bigint NOT NULL,"
           " attempt_started_at bigint NOT NULL,"
           " result bytea NOT NULL,"
           " created_at bigint NOT NULL,"
           " expires_at bigint NOT NULL,"
           " updated_at bigint NOT NULL,"
           " PRIMARY KEY (account, reference))",
           "CREATE INDEX IF NOT EXISTS idempotency_records_expires_at"
           " ON idempotency_records (expires_at)",
           "CREATE TABLE IF NOT EXISTS webhook_events ("
           " event_id text PRIMARY KEY,"
           " first_seen_at bigint NOT NULL,"
           " expires_at bigint NOT NULL)",
           "CREATE INDEX IF NOT EXISTS webhook_events_expires_at"
           " ON webhook_events (expires_at)",
           "INSERT INTO webhook_events VALUES"
           " ('evt_old', 1, 9223372036854775807)",
       }) {
    ASSERT_TRUE(Exec(ddl).ok()) << ddl;
  }
  for (const V1Row& row : V1Rows()) {
    absl::Status inserted = Exec(
        "INSERT INTO idempotency_records VALUES"
        " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        {row.account, row.reference, row.fingerprint, row.state, row.owner,
         absl::StrCat(row.version), absl::StrCat(row.lease_expires_at),
         absl::StrCat(row.attempt_started_at), row.result,
         absl::StrCat(row.created_at), absl::StrCat(row.expires_at),
         absl::StrCat(row.updated_at)},
        {false, false, false, false, false, false, false, false, true});
    ASSERT_TRUE(inserted.ok()) << inserted;
  }
  absl::StatusOr<std::unique_ptr<IdempotencyStore>> store = OpenStore(url_);
  ASSERT_TRUE(store.ok()) << store.status();
  // This release cannot work on schema 1: not ready until migrated.
  EXPECT_EQ((*store)->Ping().code(), absl::StatusCode::kInternal);

  ASSERT_TRUE((*store)->Migrate().ok());
  EXPECT_TRUE((*store)->Ping().ok());
  EXPECT_EQ(QueryText("SELECT version FROM schema_version"), "2");
  EXPECT_EQ(QueryText("SELECT count(*) FROM pg_class"
                      " WHERE relname LIKE 'idempotency_records%'"),
            "0");
  EXPECT_EQ(QueryText("SELECT count(*) FROM operations"), "3");
  EXPECT_EQ(QueryText("SELECT count(*) FROM operation_attempts"), "3");
  ExpectMigratedV1Rows(**store);
  absl::StatusOr<std::optional<absl::Time>> event =
      (*store)->RememberEvent("evt_old", kNow, absl::Hours(1));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(*event, std::optional<absl::Time>(absl::FromUnixMicros(1)));

  // Again, from this store and another: nothing changes.
  ASSERT_TRUE((*store)->Migrate().ok());
  absl::StatusOr<std::unique_ptr<IdempotencyStore>> again = OpenStore(url_);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE((*again)->Migrate().ok());
  EXPECT_EQ(QueryText("SELECT count(*) FROM schema_version"), "1");
  EXPECT_EQ(QueryText("SELECT version FROM schema_version"), "2");
  EXPECT_EQ(QueryText("SELECT count(*) FROM operations"), "3");
  EXPECT_EQ(QueryText("SELECT count(*) FROM operation_attempts"), "3");
  ExpectMigratedV1Rows(**again);
  ExpectMigratedV1RowsUsable(**again);
}

// Keys sort bytewise, as in SQLite, whatever the database's collation.
TEST_F(PostgresReplicaTest, KeyColumnsCollateBytewise) {
  absl::StatusOr<std::unique_ptr<IdempotencyStore>> store = OpenStore(url_);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Migrate().ok());
  EXPECT_EQ(QueryText("SELECT string_agg(collation_name, ',' ORDER BY"
                      " column_name) FROM information_schema.columns"
                      " WHERE table_name = 'operations' AND column_name IN"
                      " ('kind', 'account', 'reference')"),
            "C,C,C");
}

}  // namespace
}  // namespace payments::idempotency::testing
