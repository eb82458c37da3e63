#include "lib/idempotency/sqlite_store.h"

#include <sqlite3.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/idempotency/store_encoding.h"

namespace payments::idempotency {
namespace {

using internal::MicrosToTime;
using internal::TimeToMicros;

// Schema migrations, applied in order inside one BEGIN IMMEDIATE
// transaction; schema_version holds the last one applied. Times are int64
// Unix microseconds (see store_encoding.h), as in the PostgreSQL backend.
struct Migration {
  int version;
  const char* const* statements;
};
constexpr const char* kMigration1[] = {
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
    " PRIMARY KEY (account, reference))",
    "CREATE INDEX idempotency_records_expires_at"
    " ON idempotency_records (expires_at)",
    "CREATE TABLE webhook_events ("
    " event_id TEXT PRIMARY KEY,"
    " first_seen_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL)",
    "CREATE INDEX webhook_events_expires_at ON webhook_events (expires_at)",
    nullptr,
};
constexpr Migration kMigrations[] = {{1, kMigration1}};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) ==
              internal::kSchemaVersion);

constexpr char kCreateSchemaVersion[] =
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)";
constexpr char kSelectSchemaVersion[] =
    "SELECT max(version) FROM schema_version";
constexpr char kDeleteSchemaVersion[] = "DELETE FROM schema_version";
constexpr char kInsertSchemaVersion[] =
    "INSERT INTO schema_version (version) VALUES (?1)";

constexpr char kSelectRecord[] =
    "SELECT " PAYMENTS_RECORD_COLUMNS
    " FROM idempotency_records WHERE account = ?1 AND reference = ?2";
// Replaces an expired record too (the caller checked, in the same
// transaction, that there is none or it has expired).
constexpr char kInsertRecord[] =
    "INSERT OR REPLACE INTO idempotency_records (" PAYMENTS_RECORD_COLUMNS
    ", updated_at) VALUES"
    " (?1, ?2, ?3, 'in_flight', ?4, ?5, ?6, ?7, x'', ?7, ?8, ?7)";
constexpr char kTakeOver[] =
    "UPDATE idempotency_records SET owner = ?3, state = 'in_flight',"
    " version = version + 1, lease_expires_at = ?4,"
    " expires_at = max(expires_at, ?5), updated_at = ?6"
    " WHERE account = ?1 AND reference = ?2 AND version = ?7"
    " AND expires_at > ?6 AND (state = 'unknown'"
    " OR (state = 'in_flight' AND lease_expires_at <= ?6))";
constexpr char kComplete[] =
    "UPDATE idempotency_records SET state = 'completed', result = ?4,"
    " version = version + 1, updated_at = ?5"
    " WHERE account = ?1 AND reference = ?2 AND owner = ?3"
    " AND state = 'in_flight'";
constexpr char kMarkUnknown[] =
    "UPDATE idempotency_records SET state = 'unknown',"
    " version = version + 1, updated_at = ?4"
    " WHERE account = ?1 AND reference = ?2 AND owner = ?3"
    " AND state = 'in_flight'";
constexpr char kRelease[] =
    "DELETE FROM idempotency_records"
    " WHERE account = ?1 AND reference = ?2 AND owner = ?3"
    " AND state = 'in_flight'";
constexpr char kReapRecords[] =
    "DELETE FROM idempotency_records WHERE expires_at <= ?1";
constexpr char kReapEvents[] =
    "DELETE FROM webhook_events WHERE expires_at <= ?1";
constexpr char kSelectEvent[] =
    "SELECT first_seen_at, expires_at FROM webhook_events"
    " WHERE event_id = ?1";
constexpr char kInsertEvent[] =
    "INSERT OR REPLACE INTO webhook_events"
    " (event_id, first_seen_at, expires_at) VALUES (?1, ?2, ?3)";
constexpr char kPing[] = "SELECT version FROM schema_version LIMIT 1";

// What the caller should do next decides the code: a missing table or a
// bad statement is a deployment or code problem (INTERNAL); anything else
// (busy, I/O error, disk full, ...) may pass (UNAVAILABLE).
absl::Status SqliteError(sqlite3* db, int rc, const char* what) {
  const char* detail = (db != nullptr && sqlite3_errcode(db) == rc)
                           ? sqlite3_errmsg(db)
                           : sqlite3_errstr(rc);
  std::string message = absl::StrCat("sqlite ", what, ": ", detail);
  switch (rc & 0xff) {
    case SQLITE_ERROR:
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
    case SQLITE_CONSTRAINT:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::InternalError(message);
    default:
      return absl::UnavailableError(message);
  }
}

// Binds parameters ?1, ?2, ... in order, steps, and resets the statement
// (keeping it prepared) when it goes out of scope.
class Statement final {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(const std::string& text) {
    return Check(sqlite3_bind_text(stmt_, ++index_, text.data(),
                                   static_cast<int>(text.size()),
                                   SQLITE_TRANSIENT));
  }
  Statement& Bind(int64_t value) {
    return Check(sqlite3_bind_int64(stmt_, ++index_, value));
  }
  Statement& Bind(absl::Time t) { return Bind(TimeToMicros(t)); }
  Statement& BindBlob(const std::string& blob) {
    return Check(sqlite3_bind_blob64(stmt_, ++index_, blob.data(), blob.size(),
                                     SQLITE_TRANSIENT));
  }

  // True with a row to read, false when done.
  absl::StatusOr<bool> Step(const char* what) {
    if (bind_rc_ != SQLITE_OK) return SqliteError(db_, bind_rc_, what);
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, rc, what);
  }
  // Steps a statement that returns no rows; the number of rows changed.
  absl::StatusOr<int> Run(const char* what) {
    absl::StatusOr<bool> row = Step(what);
    if (!row.ok()) return row.status();
    return sqlite3_changes(db_);
  }

  bool IsNull(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }
  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  absl::Time Time(int column) const { return MicrosToTime(Int(column)); }
  std::string Text(int column) const {
    const unsigned char* text = sqlite3_column_text(stmt_, column);
    if (text == nullptr) return std::string();
    return std::string(reinterpret_cast<const char*>(text),
                       sqlite3_column_bytes(stmt_, column));
  }
  std::string Blob(int column) const {
    const void* blob = sqlite3_column_blob(stmt_, column);
    if (blob == nullptr) return std::string();
    return std::string(static_cast<const char*>(blob),
                       sqlite3_column_bytes(stmt_, column));
  }

 private:
  Statement& Check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }

  sqlite3* const db_;
  sqlite3_stmt* const stmt_;
  int index_ = 0;
  int bind_rc_ = SQLITE_OK;
};

// A Record from a row of PAYMENTS_RECORD_COLUMNS.
absl::StatusOr<Record> ReadRecord(const Statement& row) {
  Record record;
  record.key.account = row.Text(0);
  record.key.reference = row.Text(1);
  record.fingerprint = row.Text(2);
  std::optional<RecordState> state = internal::ParseState(row.Text(3));
  if (!state.has_value()) {
    return absl::InternalError("idempotency record has an unknown state");
  }
  record.state = *state;
  record.owner = row.Text(4);
  record.version = row.Int(5);
  record.lease_expires_at = row.Time(6);
  record.attempt_started_at = row.Time(7);
  record.result = row.Blob(8);
  record.created_at = row.Time(9);
  record.expires_at = row.Time(10);
  return record;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SQLiteStore>> SQLiteStore::Open(
    const std::string& path, const SQLiteStoreOptions& options) {
  if (path.empty()) {
    return absl::InvalidArgumentError("SQLite database path is empty");
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    std::string detail =
        db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return absl::InvalidArgumentError(
        absl::StrCat("cannot open SQLite database ", path, ": ", detail));
  }
  // From here the store owns `db` and closes it on every path.
  std::unique_ptr<SQLiteStore> store(new SQLiteStore(db));
  sqlite3_busy_timeout(
      db, static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  absl::MutexLock lock(&store->mu_);
  // WAL: readers do not block the writer and a commit is one append;
  // synchronous=FULL fsyncs the WAL on every commit, so a completed record
  // survives a crash or power loss (NORMAL could lose the last commits).
  // The first statement also tells a non-database file apart.
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    if (absl::Status status = store->Exec(pragma); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot use SQLite database ", path, ": ", status.message()));
    }
  }
  return store;
}

SQLiteStore::SQLiteStore(sqlite3* db) : db_(db) {}

SQLiteStore::~SQLiteStore() {
  absl::MutexLock lock(&mu_);
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

absl::StatusOr<sqlite3_stmt*> SQLiteStore::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                              nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "prepare");
  statements_.emplace(sql, stmt);
  return stmt;
}

absl::Status SQLiteStore::Exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "exec");
  return absl::OkStatus();
}

template <typename Body>
auto SQLiteStore::InTransaction(Body body) -> decltype(body()) {
  // IMMEDIATE takes the write lock up front, so a read-then-write inside
  // cannot be invalidated by another connection (or process) in between.
  if (absl::Status status = Exec("BEGIN IMMEDIATE"); !status.ok()) {
    return status;
  }
  auto result = body();
  if (!result.ok()) {
    Exec("ROLLBACK").IgnoreError();
    return result;
  }
  if (absl::Status status = Exec("COMMIT"); !status.ok()) {
    Exec("ROLLBACK").IgnoreError();
    return status;
  }
  return result;
}

absl::StatusOr<std::optional<Record>> SQLiteStore::Load(const Key& key) {
  absl::StatusOr<sqlite3_stmt*> stmt = Prepare(kSelectRecord);
  if (!stmt.ok()) return stmt.status();
  Statement select(db_, *stmt);
  select.Bind(key.account).Bind(key.reference);
  absl::StatusOr<bool> row = select.Step("select record");
  if (!row.ok()) return row.status();
  if (!*row) return std::nullopt;
  absl::StatusOr<Record> record = ReadRecord(select);
  if (!record.ok()) return record.status();
  return std::optional<Record>(*std::move(record));
}

template <typename... More>
absl::StatusOr<int> SQLiteStore::Change(const char* sql, const Key& key,
                                        const std::string& owner,
                                        const More&... more) {
  absl::StatusOr<sqlite3_stmt*> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  Statement change(db_, *stmt);
  change.Bind(key.account).Bind(key.reference).Bind(owner);
  (change.Bind(more), ...);
  return change.Run("update record");
}

absl::Status SQLiteStore::Migrate() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<bool> done = InTransaction([&]() -> absl::StatusOr<bool> {
    if (absl::Status s = Exec(kCreateSchemaVersion); !s.ok()) return s;
    int64_t current = 0;
    {
      absl::StatusOr<sqlite3_stmt*> stmt = Prepare(kSelectSchemaVersion);
      if (!stmt.ok()) return stmt.status();
      Statement select(db_, *stmt);
      absl::StatusOr<bool> row = select.Step("read schema version");
      if (!row.ok()) return row.status();
      if (*row && !select.IsNull(0)) current = select.Int(0);
    }
    // A newer schema (written by a newer release) is left alone: migrations
    // only add, so this code keeps working on it.
    if (current >= internal::kSchemaVersion) return false;
    for (const Migration& migration : kMigrations) {
      if (migration.version <= current) continue;
      for (const char* const* sql = migration.statements; *sql != nullptr;
           ++sql) {
        if (absl::Status s = Exec(*sql); !s.ok()) return s;
      }
    }
    if (absl::Status s = Exec(kDeleteSchemaVersion); !s.ok()) return s;
    absl::StatusOr<sqlite3_stmt*> stmt = Prepare(kInsertSchemaVersion);
    if (!stmt.ok()) return stmt.status();
    Statement insert(db_, *stmt);
    insert.Bind(int64_t{internal::kSchemaVersion});
    absl::StatusOr<int> changed = insert.Run("write schema version");
    if (!changed.ok()) return changed.status();
    return true;
  });
  return done.status();
}

absl::StatusOr<ReserveResult> SQLiteStore::Reserve(
    const Key& key, const std::string& fingerprint, const std::string& owner,
    absl::Time now, absl::Duration lease, absl::Duration retention) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::StatusOr<ReserveResult> {
    absl::StatusOr<std::optional<Record>> existing = Load(key);
    if (!existing.ok()) return existing.status();
    int64_t version = 1;
    if (existing->has_value()) {
      const Record& record = **existing;
      if (record.expires_at > now) {
        // A repeat by the owner that already holds the fresh record (after
        // an UNAVAILABLE whose change did happen) acquires again.
        bool mine = record.state == RecordState::kInFlight &&
                    record.owner == owner && record.fingerprint == fingerprint;
        return ReserveResult{.acquired = mine, .existing = record};
      }
      version = record.version + 1;
    }
    Record fresh;
    fresh.key = key;
    fresh.fingerprint = fingerprint;
    fresh.state = RecordState::kInFlight;
    fresh.owner = owner;
    fresh.version = version;
    fresh.lease_expires_at = now + lease;
    fresh.attempt_started_at = now;
    fresh.created_at = now;
    fresh.expires_at = internal::ExpiryFor(now, lease, retention);
    absl::StatusOr<sqlite3_stmt*> stmt = Prepare(kInsertRecord);
    if (!stmt.ok()) return stmt.status();
    Statement insert(db_, *stmt);
    insert.Bind(key.account)
        .Bind(key.reference)
        .Bind(fingerprint)
        .Bind(owner)
        .Bind(version)
        .Bind(fresh.lease_expires_at)
        .Bind(now)
        .Bind(fresh.expires_at);
    absl::StatusOr<int> changed = insert.Run("insert record");
    if (!changed.ok()) return changed.status();
    return ReserveResult{.acquired = true, .existing = std::move(fresh)};
  });
}

absl::StatusOr<std::optional<Record>> SQLiteStore::Get(const Key& key,
                                                       absl::Time /*now*/) {
  absl::MutexLock lock(&mu_);
  // Expired records are hidden by ValidatingStore.
  return Load(key);
}

absl::Status SQLiteStore::TakeOver(const Key& key, int64_t expected_version,
                                   const std::string& owner, absl::Time now,
                                   absl::Duration lease) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<int> changed = Change(kTakeOver, key, owner, now + lease,
                                       now + lease, now, expected_version);
  if (!changed.ok()) return changed.status();
  if (*changed == 1) return absl::OkStatus();
  return internal::AlreadyDoneOrConflict(Load(key), "take over", owner,
                                         RecordState::kInFlight,
                                         expected_version + 1);
}

absl::Status SQLiteStore::Complete(const Key& key, const std::string& owner,
                                   const std::string& result, absl::Time now) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<sqlite3_stmt*> stmt = Prepare(kComplete);
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<int> changed;
  {
    Statement update(db_, *stmt);
    update.Bind(key.account)
        .Bind(key.reference)
        .Bind(owner)
        .BindBlob(result)
        .Bind(now);
    changed = update.Run("complete record");
  }
  if (!changed.ok()) return changed.status();
  if (*changed == 1) return absl::OkStatus();
  return internal::AlreadyDoneOrConflict(Load(key), "complete", owner,
                                         RecordState::kCompleted);
}

absl::Status SQLiteStore::MarkUnknown(const Key& key, const std::string& owner,
                                      absl::Time now) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<int> changed = Change(kMarkUnknown, key, owner, now);
  if (!changed.ok()) return changed.status();
  if (*changed == 1) return absl::OkStatus();
  return internal::AlreadyDoneOrConflict(Load(key), "mark unknown", owner,
                                         RecordState::kUnknown);
}

absl::Status SQLiteStore::Release(const Key& key, const std::string& owner) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<int> changed = Change(kRelease, key, owner);
  if (!changed.ok()) return changed.status();
  if (*changed == 1) return absl::OkStatus();
  // Released already if the record is gone.
  return internal::AlreadyDoneOrConflict(Load(key), "release", owner,
                                         /*state=*/std::nullopt);
}

absl::StatusOr<int64_t> SQLiteStore::ReapExpired(absl::Time now) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::StatusOr<int64_t> {
    int64_t reaped = 0;
    for (const char* sql : {kReapRecords, kReapEvents}) {
      absl::StatusOr<sqlite3_stmt*> stmt = Prepare(sql);
      if (!stmt.ok()) return stmt.status();
      Statement reap(db_, *stmt);
      reap.Bind(now);
      absl::StatusOr<int> changed = reap.Run("reap");
      if (!changed.ok()) return changed.status();
      reaped += *changed;
    }
    return reaped;
  });
}

absl::StatusOr<std::optional<absl::Time>> SQLiteStore::RememberEvent(
    const std::string& event_id, absl::Time now, absl::Duration retention) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::StatusOr<std::optional<absl::Time>> {
    {
      absl::StatusOr<sqlite3_stmt*> stmt = Prepare(kSelectEvent);
      if (!stmt.ok()) return stmt.status();
      Statement select(db_, *stmt);
      select.Bind(event_id);
      absl::StatusOr<bool> row = select.Step("select event");
      if (!row.ok()) return row.status();
      if (*row && select.Time(1) > now) {
        return std::optional<absl::Time>(select.Time(0));
      }
    }
    absl::StatusOr<sqlite3_stmt*> stmt = Prepare(kInsertEvent);
    if (!stmt.ok()) return stmt.status();
    Statement insert(db_, *stmt);
    insert.Bind(event_id).Bind(now).Bind(now + retention);
    absl::StatusOr<int> changed = insert.Run("insert event");
    if (!changed.ok()) return changed.status();
    return std::optional<absl::Time>();
  });
}

absl::Status SQLiteStore::Ping() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<sqlite3_stmt*> stmt = Prepare(kPing);
  if (!stmt.ok()) return stmt.status();
  Statement select(db_, *stmt);
  absl::StatusOr<bool> row = select.Step("ping");
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError("idempotency schema not migrated");
  return absl::OkStatus();
}

}  // namespace payments::idempotency
