#include "lib/idempotency/sqlite_store.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/idempotency/idempotency_store.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/idempotency/migration_v1.h"
#include "tests/unit/idempotency/store_conformance.h"

namespace payments::idempotency {
namespace {

using ::payments::testing::TempDir;
using testing::StoreBackend;
using testing::StoreConformanceTest;
using testing::StoreDatabase;
using testing::V1Row;

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
  EXPECT_EQ(QueryText(path, "SELECT version FROM schema_version"), "2");
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
  const Key key{.account = "a", .reference = "r"};
  EXPECT_EQ(store->Get(key, kNow).status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(store
                ->Reserve(key, "fp", "", "", "o", kNow, absl::Seconds(1),
                          absl::Hours(1))
                .status()
                .code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(store->ClaimDue(kNow, "c", absl::Seconds(1), 1).status().code(),
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

const Key kReplayKey{.account = "acct", .reference = "Order-replay"};

// A store at `path` holding a succeeded record for kReplayKey (result
// "result") and the webhook event "evt_1", both seen at kNow.
absl::StatusOr<std::unique_ptr<SQLiteStore>> OpenWithAReplayAndAnEvent(
    const std::string& path, absl::Duration busy_timeout) {
  absl::StatusOr<std::unique_ptr<SQLiteStore>> store =
      SQLiteStore::Open(path, {.busy_timeout = busy_timeout});
  if (!store.ok()) return store.status();
  SQLiteStore& s = **store;
  for (absl::Status status :
       {s.Migrate(),
        s.Reserve(kReplayKey, "fp", "", "", "owner", kNow, absl::Seconds(30),
                  absl::Hours(1))
            .status(),
        s.MarkSent(kReplayKey, "owner", kNow),
        s.Succeed(kReplayKey, "owner", "pi", "result", kNow),
        s.RememberEvent("evt_1", kNow, absl::Hours(1)).status()}) {
    if (!status.ok()) return status;
  }
  return store;
}

// The process that finished a record dies without closing anything (no
// destructor, no checkpoint): the record is still there for the next one.
// A replay (a live, finished record) and a redelivered webhook event are
// answered by a read: they do not wait for another connection's write lock,
// while a reservation that writes still does (and times out here).
TEST(SQLiteStoreTest, ReplaysAndRedeliveriesDoNotWaitForTheWriteLock) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  absl::StatusOr<std::unique_ptr<SQLiteStore>> store =
      OpenWithAReplayAndAnEvent(path, absl::Milliseconds(50));
  ASSERT_TRUE(store.ok()) << store.status();
  const Key key = kReplayKey;

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);

  absl::StatusOr<ReserveResult> replay =
      (*store)->Reserve(key, "fp", "", "", "other-owner", kNow,
                        absl::Seconds(30), absl::Hours(1));
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_FALSE(replay->acquired);
  EXPECT_EQ(replay->existing.state, RecordState::kSucceeded);
  EXPECT_EQ(replay->existing.result, "result");
  absl::StatusOr<std::optional<absl::Time>> seen =
      (*store)->RememberEvent("evt_1", kNow, absl::Hours(1));
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(*seen, std::optional<absl::Time>(kNow));

  const Key fresh{.account = "acct", .reference = "Order-new"};
  EXPECT_EQ((*store)
                ->Reserve(fresh, "fp", "", "", "owner", kNow, absl::Seconds(30),
                          absl::Hours(1))
                .status()
                .code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(
      (*store)->RememberEvent("evt_2", kNow, absl::Hours(1)).status().code(),
      absl::StatusCode::kUnavailable);

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(other);
  EXPECT_TRUE((*store)
                  ->Reserve(fresh, "fp", "", "", "owner", kNow,
                            absl::Seconds(30), absl::Hours(1))
                  .ok());
}

// GetWithoutWaiting and EventSeenWithoutWaiting (a replay or a redelivery
// answered on gRPC's thread) read while another connection holds the write
// lock (WAL), and give up at once, with nothing read, while a call of this
// store holds the connection: here a reservation waiting out the busy
// timeout for that lock.
TEST(SQLiteStoreTest, ReadsWithoutWaitingNeverWait) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  absl::StatusOr<std::unique_ptr<SQLiteStore>> store =
      OpenWithAReplayAndAnEvent(path, absl::Seconds(10));
  ASSERT_TRUE(store.ok()) << store.status();
  const Key key = kReplayKey;

  std::optional<absl::Time> seen;
  ASSERT_TRUE((*store)->EventSeenWithoutWaiting("evt_1", kNow, &seen));
  EXPECT_EQ(seen, std::optional<absl::Time>(kNow));
  ASSERT_TRUE((*store)->EventSeenWithoutWaiting("evt_2", kNow, &seen));
  EXPECT_FALSE(seen.has_value());
  ASSERT_TRUE(
      (*store)->EventSeenWithoutWaiting("evt_1", kNow + absl::Hours(2), &seen));
  EXPECT_FALSE(seen.has_value()) << "forgotten after its retention";

  std::optional<Record> record;
  ASSERT_TRUE((*store)->GetWithoutWaiting(key, kNow, &record));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->state, RecordState::kSucceeded);
  EXPECT_EQ(record->result, "result");
  const Key absent{.account = "acct", .reference = "Order-absent"};
  ASSERT_TRUE((*store)->GetWithoutWaiting(absent, kNow, &record));
  EXPECT_FALSE(record.has_value());

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  ASSERT_TRUE((*store)->GetWithoutWaiting(key, kNow, &record));
  EXPECT_TRUE(record.has_value());

  std::atomic<bool> reserved{false};
  std::thread writer([&] {
    const Key fresh{.account = "acct", .reference = "Order-new"};
    EXPECT_TRUE((*store)
                    ->Reserve(fresh, "fp", "", "", "owner", kNow,
                              absl::Seconds(30), absl::Hours(1))
                    .ok());
    reserved = true;
  });
  // Until the writer holds the connection (it then waits for `other`).
  bool gave_up = false;
  for (int i = 0; i < 500 && !gave_up; ++i) {
    std::optional<Record> unread;
    gave_up = !(*store)->GetWithoutWaiting(key, kNow, &unread);
    if (gave_up) {
      EXPECT_FALSE(unread.has_value());
      std::optional<absl::Time> unseen;
      EXPECT_FALSE((*store)->EventSeenWithoutWaiting("evt_1", kNow, &unseen));
      EXPECT_FALSE(unseen.has_value());
    }
    if (!gave_up) absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(gave_up);
  EXPECT_FALSE(reserved) << "gave up only once the writer was done";
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr),
            SQLITE_OK);
  writer.join();
  sqlite3_close(other);
  EXPECT_TRUE(reserved);
  ASSERT_TRUE((*store)->GetWithoutWaiting(key, kNow, &record));
}

// Through OpenStore (ValidatingStore), as the server uses it: an expired
// record is absent, as Get has it.
TEST(SQLiteStoreTest, GetWithoutWaitingHidesExpiredRecords) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<IdempotencyStore>> store =
      OpenStore("sqlite:" + dir.File("store.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Migrate().ok());
  const Key key{.account = "acct", .reference = "Order-old"};
  ASSERT_TRUE((*store)
                  ->Reserve(key, "fp", "", "", "owner", kNow, absl::Seconds(30),
                            absl::Hours(1))
                  .ok());
  std::optional<Record> record;
  ASSERT_TRUE((*store)->GetWithoutWaiting(key, kNow, &record));
  EXPECT_TRUE(record.has_value());
  ASSERT_TRUE((*store)->GetWithoutWaiting(key, kNow + absl::Hours(2), &record));
  EXPECT_FALSE(record.has_value());
}

TEST(SQLiteStoreTest, SucceededRecordSurvivesAProcessThatDies) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<std::unique_ptr<SQLiteStore>> store =
        SQLiteStore::Open(path);
    if (!store.ok() || !(*store)->Migrate().ok()) _exit(10);
    const Key key{.account = "acct", .reference = "Order-crash"};
    absl::StatusOr<ReserveResult> reserved = (*store)->Reserve(
        key, "fp", "", "", "owner", kNow, absl::Seconds(30), absl::Hours(1));
    if (!reserved.ok() || !reserved->acquired) _exit(11);
    if (!(*store)->MarkSent(key, "owner", kNow).ok() ||
        !(*store)->Succeed(key, "owner", "pi", "result", kNow).ok()) {
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
  const Key key{.account = "acct", .reference = "Order-crash"};
  absl::StatusOr<std::optional<Record>> got = store->Get(key, kNow);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->state, RecordState::kSucceeded);
  EXPECT_EQ((*got)->result, "result");
  absl::StatusOr<std::vector<Attempt>> attempts = store->ListAttempts(key);
  ASSERT_TRUE(attempts.ok()) << attempts.status();
  EXPECT_EQ(attempts->size(), 1u);
}

// Schema 1 as the previous release created it (its DDL, verbatim), with a
// record in each of its states.
void WriteSchema1(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const char* ddl =
      "CREATE TABLE schema_version (version INTEGER NOT NULL);"
      "INSERT INTO schema_version (version) VALUES (1);"
      "CREATE TABLE idempotency_records ("
      " account TEXT NOT NULL,"
      " reference TEXT NOT NULL,"
      " fingerprint TEXT NOT NULL,"
      " state TEXT NOT NULL"
      "  CHECK (state IN ('in_flight', 'completed', 'unknown')),"
      " owner TEXT NOT NULL,"
      " version INTEGER NOT NULL,"
      " lease_expires_at INTEGER NOT NULL,"
      " attempt_started_at INTEGER NOT NULL,"
      " result BLOB NOT NULL,"
      " created_at INTEGER NOT NULL,"
      " expires_at INTEGER NOT NULL,"
      " updated_at INTEGER NOT NULL,"
      " PRIMARY KEY (account, reference));"
      "CREATE INDEX idempotency_records_expires_at"
      " ON idempotency_records (expires_at);"
      "CREATE TABLE webhook_events ("
      " event_id TEXT PRIMARY KEY,"
      " first_seen_at INTEGER NOT NULL,"
      " expires_at INTEGER NOT NULL);"
      "CREATE INDEX webhook_events_expires_at ON webhook_events (expires_at);"
      "INSERT INTO webhook_events VALUES ('evt_old', 1, 9223372036854775807);";
  ASSERT_EQ(sqlite3_exec(db, ddl, nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_stmt* insert = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db,
                         "INSERT INTO idempotency_records VALUES"
                         " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                         -1, &insert, nullptr),
      SQLITE_OK);
  for (const V1Row& row : testing::V1Rows()) {
    int i = 0;
    for (const std::string* text : {&row.account, &row.reference,
                                    &row.fingerprint, &row.state, &row.owner}) {
      sqlite3_bind_text(insert, ++i, text->data(),
                        static_cast<int>(text->size()), SQLITE_TRANSIENT);
    }
    for (int64_t value :
         {row.version, row.lease_expires_at, row.attempt_started_at}) {
      sqlite3_bind_int64(insert, ++i, value);
    }
    sqlite3_bind_blob(insert, ++i, row.result.data(),
                      static_cast<int>(row.result.size()), SQLITE_TRANSIENT);
    for (int64_t value : {row.created_at, row.expires_at, row.updated_at}) {
      sqlite3_bind_int64(insert, ++i, value);
    }
    EXPECT_EQ(sqlite3_step(insert), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  sqlite3_close(db);
}

TEST(SQLiteStoreTest, MigratesSchema1RecordsIntoTheJournal) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  WriteSchema1(path);
  absl::StatusOr<std::unique_ptr<IdempotencyStore>> store =
      OpenStore("sqlite:" + path);
  ASSERT_TRUE(store.ok()) << store.status();
  // This release cannot work on schema 1: not ready until migrated.
  EXPECT_EQ((*store)->Ping().code(), absl::StatusCode::kInternal);

  ASSERT_TRUE((*store)->Migrate().ok());
  EXPECT_TRUE((*store)->Ping().ok());
  EXPECT_EQ(QueryText(path, "SELECT version FROM schema_version"), "2");
  EXPECT_EQ(QueryText(path,
                      "SELECT count(*) FROM sqlite_master"
                      " WHERE name LIKE 'idempotency_records%'"),
            "0");
  EXPECT_EQ(QueryText(path, "SELECT count(*) FROM operations"), "3");
  EXPECT_EQ(QueryText(path, "SELECT count(*) FROM operation_attempts"), "3");
  testing::ExpectMigratedV1Rows(**store);
  absl::StatusOr<std::optional<absl::Time>> event =
      (*store)->RememberEvent("evt_old", kNow, absl::Hours(1));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(*event, std::optional<absl::Time>(absl::FromUnixMicros(1)));

  // Again, from this store and another: nothing changes.
  ASSERT_TRUE((*store)->Migrate().ok());
  absl::StatusOr<std::unique_ptr<IdempotencyStore>> again =
      OpenStore("sqlite:" + path);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE((*again)->Migrate().ok());
  EXPECT_EQ(QueryText(path, "SELECT count(*) FROM schema_version"), "1");
  EXPECT_EQ(QueryText(path, "SELECT version FROM schema_version"), "2");
  EXPECT_EQ(QueryText(path, "SELECT count(*) FROM operations"), "3");
  EXPECT_EQ(QueryText(path, "SELECT count(*) FROM operation_attempts"), "3");
  testing::ExpectMigratedV1Rows(**again);
  testing::ExpectMigratedV1RowsUsable(**again);
}

TEST(SQLiteStoreTest, ReconcilerQueriesUseTheDueIndex) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  std::unique_ptr<SQLiteStore> store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate().ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(
                db,
                "EXPLAIN QUERY PLAN SELECT kind FROM operations WHERE state IN"
                " ('pending', 'sent', 'unknown') AND next_check_at <= 5",
                -1, &stmt, nullptr),
            SQLITE_OK);
  std::string plan;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  EXPECT_TRUE(absl::StrContains(plan, "operations_due")) << plan;
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
