#include "lib/idempotency/sqlite_store.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/idempotency/idempotency_store.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/idempotency/store_conformance.h"

namespace payments::idempotency {
namespace {

using ::payments::testing::TempDir;
using testing::StoreBackend;
using testing::StoreConformanceTest;
using testing::StoreDatabase;

const absl::Time kNow = absl::FromUnixMicros(1'700'000'000'000'000);

// Opens through OpenStore, as the server does, so that the suite covers the
// argument checks ValidatingStore adds to the backend.
class SqliteDatabase final : public StoreDatabase {
 public:
  absl::StatusOr<std::unique_ptr<IdempotencyStore>> Open() override {
    return OpenStore("sqlite:" + dir_.File("store.db"));
  }

 private:
  TempDir dir_;
};

StoreBackend SqliteBackend() {
  return StoreBackend{
      .name = "SQLite",
      .create = []() -> absl::StatusOr<std::unique_ptr<StoreDatabase>> {
        return std::make_unique<SqliteDatabase>();
      }};
}

INSTANTIATE_TEST_SUITE_P(SQLite, StoreConformanceTest,
                         ::testing::Values(SqliteBackend()),
                         StoreConformanceTest::Name);

// Runs `sql` on its own connection to `path`; the first column of the first
// row, as text.
std::string QueryText(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string value;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) value = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return value;
}

std::unique_ptr<SQLiteStore> MustOpen(const std::string& path) {
  absl::StatusOr<std::unique_ptr<SQLiteStore>> store = SQLiteStore::Open(path);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

TEST(SQLiteStoreTest, UsesWalAndRecordsTheSchemaVersion) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  std::unique_ptr<SQLiteStore> store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate().ok());
  EXPECT_EQ(QueryText(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryText(path, "SELECT version FROM schema_version"), "1");
  EXPECT_EQ(QueryText(path, "SELECT count(*) FROM schema_version"), "1");
}

TEST(SQLiteStoreTest, NewerSchemaIsLeftAlone) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  std::unique_ptr<SQLiteStore> store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate().ok());
  QueryText(path, "UPDATE schema_version SET version = 99");
  EXPECT_TRUE(store->Migrate().ok());
  EXPECT_EQ(QueryText(path, "SELECT version FROM schema_version"), "99");
  EXPECT_TRUE(store->Ping().ok());
}

TEST(SQLiteStoreTest, OperationsBeforeMigrateAreInternal) {
  TempDir dir;
  std::unique_ptr<SQLiteStore> store = MustOpen(dir.File("store.db"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Ping().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(store->Get(Key{"a", "r"}, kNow).status().code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(store
                ->Reserve(Key{"a", "r"}, "fp", "o", kNow, absl::Seconds(1),
                          absl::Hours(1))
                .status()
                .code(),
            absl::StatusCode::kInternal);
  ASSERT_TRUE(store->Migrate().ok());
  EXPECT_TRUE(store->Ping().ok());
}

TEST(SQLiteStoreTest, UnopenableFilesAreInvalidArgument) {
  TempDir dir;
  EXPECT_EQ(SQLiteStore::Open(dir.File("missing/dir/store.db")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SQLiteStore::Open("").status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::string junk = dir.File("junk.db");
  std::ofstream(junk) << std::string(8192, 'x');
  absl::StatusOr<std::unique_ptr<SQLiteStore>> store = SQLiteStore::Open(junk);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument)
      << store.status();
}

// The process that completed a record dies without closing anything (no
// destructor, no checkpoint): the record is still there for the next one.
TEST(SQLiteStoreTest, CompletedRecordSurvivesAProcessThatDies) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<std::unique_ptr<SQLiteStore>> store =
        SQLiteStore::Open(path);
    if (!store.ok() || !(*store)->Migrate().ok()) _exit(10);
    absl::StatusOr<ReserveResult> reserved =
        (*store)->Reserve(Key{"acct", "Order-crash"}, "fp", "owner", kNow,
                          absl::Seconds(30), absl::Hours(1));
    if (!reserved.ok() || !reserved->acquired) _exit(11);
    if (!(*store)
             ->Complete(Key{"acct", "Order-crash"}, "owner", "result", kNow)
             .ok()) {
      _exit(12);
    }
    (void)store->release();  // Never closed.
    _exit(0);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0);

  std::unique_ptr<SQLiteStore> store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate().ok());
  absl::StatusOr<std::optional<Record>> got =
      store->Get(Key{"acct", "Order-crash"}, kNow);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->state, RecordState::kCompleted);
  EXPECT_EQ((*got)->result, "result");
}

TEST(OpenStoreTest, OpensSqliteByUrl) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<IdempotencyStore>> store =
      OpenStore("sqlite:" + dir.File("payments.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->Migrate().ok());
  EXPECT_TRUE((*store)->Ping().ok());
}

TEST(OpenStoreTest, RejectsBadUrlsWithoutEchoingThem) {
  for (const std::string url :
       {"", "sqlite:", "mysql://user:hunter2pw@db/payments", "payments.db",
        "SQLITE:x.db"}) {
    absl::StatusOr<std::unique_ptr<IdempotencyStore>> store = OpenStore(url);
    EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_FALSE(absl::StrContains(store.status().message(), "hunter2pw"));
  }
}

}  // namespace
}  // namespace payments::idempotency
