// The store conformance suite and replica behaviour against a real
// PostgreSQL (see postgres_test_env.h for how it is found; skipped without
// one).

#include <libpq-fe.h>

#include <atomic>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/idempotency/idempotency_store.h"
#include "lib/idempotency/postgres_store.h"
#include "tests/idempotency/postgres_test_env.h"
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
  EXPECT_EQ(QueryText("SELECT version FROM schema_version"), "1");
  EXPECT_EQ(QueryText("SELECT count(*) FROM schema_version"), "1");
}

TEST_F(PostgresReplicaTest, StoresTimesAsUnixMicros) {
  absl::StatusOr<std::unique_ptr<IdempotencyStore>> store = OpenStore(url_);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Migrate().ok());
  const absl::Time now = kNow + absl::Microseconds(7);
  ASSERT_TRUE((*store)
                  ->Reserve(Key{"a", "r"}, "fp", "o", now, absl::Seconds(1),
                            absl::Hours(1))
                  .ok());
  EXPECT_EQ(QueryText("SELECT created_at FROM idempotency_records"),
            absl::StrCat(absl::ToUnixMicros(now)));
  EXPECT_EQ(QueryText("SELECT state FROM idempotency_records"), "in_flight");
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
        Key key{"a", absl::StrCat("r-", i, "-", j)};
        absl::StatusOr<ReserveResult> reserved = (*store)->Reserve(
            key, "fp", "o", kNow, absl::Seconds(30), absl::Hours(1));
        if (!reserved.ok() || !reserved->acquired ||
            !(*store)->Complete(key, "o", "done", kNow).ok()) {
          ++failed;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(QueryText("SELECT count(*) FROM idempotency_records"
                      " WHERE state = 'completed'"),
            absl::StrCat(kThreads * 20));
  EXPECT_LE(std::stoi(QueryText("SELECT count(*) FROM pg_stat_activity"
                                " WHERE application_name = 'pool-test'")),
            2);
}

}  // namespace
}  // namespace payments::idempotency::testing
