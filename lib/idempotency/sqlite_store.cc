#include "lib/idempotency/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/idempotency/sqlite_statement.h"
#include "lib/idempotency/store_encoding.h"
#include "lib/idempotency/store_sql.h"

namespace payments::idempotency {
namespace {

using internal::KindName;
using Blob = SqliteStatement::Blob;

// Schema migrations, applied in order inside one BEGIN IMMEDIATE
// transaction; schema_version holds the last one applied. Times are int64
// Unix microseconds (see store_encoding.h), as in the PostgreSQL backend.
struct Migration {
  int version;
  const char* const* statements;
};
// Schema 1: creates by (account, reference); migration 2 moves its rows
// into the journal and drops it.
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
constexpr const char* kMigration2[] = {
    PAYMENTS_SQL_MIGRATION_2("TEXT", "BLOB"),
    nullptr,
};
constexpr Migration kMigrations[] = {{1, kMigration1}, {2, kMigration2}};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) ==
              internal::kSchemaVersion);

// The record read again, as `op` for PAYMENTS_SQL_END_ATTEMPT (SQLite has
// no data-modifying WITH: the attempt change runs after the record's, in
// the same transaction).
#define SQLITE_OP                                               \
  "(SELECT kind, account, reference, attempts FROM operations " \
  "WHERE " PAYMENTS_SQL_KEY ") AS op"
constexpr char kOpenAttempt[] =
    PAYMENTS_SQL_OPEN_ATTEMPT("operations WHERE " PAYMENTS_SQL_KEY);
constexpr char kEndSucceeded[] =
    PAYMENTS_SQL_END_ATTEMPT(SQLITE_OP, PAYMENTS_SQL_STATE(SUCCEEDED));
constexpr char kEndUnknown[] =
    PAYMENTS_SQL_END_ATTEMPT(SQLITE_OP, PAYMENTS_SQL_STATE(UNKNOWN));
constexpr char kEndFailed[] =
    PAYMENTS_SQL_END_ATTEMPT(SQLITE_OP, PAYMENTS_SQL_STATE(FAILED));
constexpr char kEndSettledNotCreated[] = PAYMENTS_SQL_END_ATTEMPT(
    SQLITE_OP, PAYMENTS_SQL_STATE(SETTLED_NOT_CREATED));
#undef SQLITE_OP

constexpr char kClaimDue[] = PAYMENTS_SQL_CLAIM_DUE("");
// Attempts first: the records they belong to are still there to find.
constexpr char kReapAttempts[] =
    "DELETE FROM operation_attempts WHERE (kind, account, reference) IN"
    " (SELECT kind, account, reference FROM operations"
    " WHERE expires_at <= $1)";
constexpr char kReapRecords[] = "DELETE FROM operations WHERE expires_at <= $1";
constexpr char kReapEvents[] =
    "DELETE FROM webhook_events WHERE expires_at <= $1";
// Transaction control, prepared once like every other statement
// (sqlite3_exec would parse it again on each call).
constexpr char kBeginImmediate[] = "BEGIN IMMEDIATE";
constexpr char kCommit[] = "COMMIT";
constexpr char kRollback[] = "ROLLBACK";
constexpr char kSelectEvent[] =
    "SELECT first_seen_at, expires_at FROM webhook_events"
    " WHERE event_id = $1";
constexpr char kInsertEvent[] =
    "INSERT OR REPLACE INTO webhook_events"
    " (event_id, first_seen_at, expires_at) VALUES ($1, $2, $3)";

// The key's values for $1, $2, $3.
struct KeyValues {
  std::string kind;
  const std::string& account;
  const std::string& reference;
};
KeyValues KeyParams(const Key& key) {
  const char* kind = KindName(key.kind);
  return KeyValues{kind != nullptr ? kind : "", key.account, key.reference};
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
  std::unique_ptr<SQLiteStore> store(new SQLiteStore(db, options.busy_timeout));
  sqlite3_busy_timeout(db, store->busy_timeout_ms_);
  absl::MutexLock lock(&store->mu_);
  // WAL: readers do not block the writer and a commit is one append;
  // synchronous=FULL fsyncs the WAL on every commit, so a finished record
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

SQLiteStore::SQLiteStore(sqlite3* db, absl::Duration busy_timeout)
    : db_(db),
      busy_timeout_ms_(
          static_cast<int>(absl::ToInt64Milliseconds(busy_timeout))) {}

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

absl::Status SQLiteStore::ExecPrepared(const char* sql) {
  absl::StatusOr<sqlite3_stmt*> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  SqliteStatement statement(db_, *stmt);
  absl::StatusOr<int> ran = statement.Run("exec");
  return ran.ok() ? absl::OkStatus() : ran.status();
}

template <typename Body>
std::invoke_result_t<Body&> SQLiteStore::InTransaction(Body body) {
  // IMMEDIATE takes the write lock up front, so a read-then-write inside
  // cannot be invalidated by another connection (or process) in between.
  if (absl::Status status = ExecPrepared(kBeginImmediate); !status.ok()) {
    return status;
  }
  auto result = body();
  if (!result.ok()) {
    ExecPrepared(kRollback).IgnoreError();
    return result;
  }
  if (absl::Status status = ExecPrepared(kCommit); !status.ok()) {
    ExecPrepared(kRollback).IgnoreError();
    return status;
  }
  return result;
}

namespace {

// Binds a KeyValues as three values, anything else as itself.
template <typename Value>
void BindValue(SqliteStatement& statement, const Value& value) {
  statement.BindAll(value);
}
void BindValue(SqliteStatement& statement, const KeyValues& key) {
  statement.BindAll(key.kind, key.account, key.reference);
}

}  // namespace

template <typename Read, typename... Values>
absl::StatusOr<int> SQLiteStore::Query(const char* sql, const char* what,
                                       Read read, const Values&... values) {
  absl::StatusOr<sqlite3_stmt*> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  SqliteStatement statement(db_, *stmt);
  (BindValue(statement, values), ...);
  int rows = 0;
  for (;;) {
    absl::StatusOr<bool> row = statement.Step(what);
    if (!row.ok()) return row.status();
    if (!*row) return rows;
    ++rows;
    if (absl::Status s = read(statement); !s.ok()) return s;
  }
}

template <typename... Values>
absl::StatusOr<std::vector<Record>> SQLiteStore::Records(
    const char* sql, const char* what, const Values&... values) {
  std::vector<Record> records;
  absl::StatusOr<int> rows = Query(
      sql, what,
      [&](const SqliteStatement& row) -> absl::Status {
        absl::StatusOr<Record> record = internal::DecodeRecord(row);
        if (!record.ok()) return record.status();
        records.push_back(*std::move(record));
        return absl::OkStatus();
      },
      values...);
  if (!rows.ok()) return rows.status();
  return records;
}

template <typename... Values>
absl::StatusOr<int> SQLiteStore::Change(const char* sql, const char* what,
                                        const Values&... values) {
  absl::StatusOr<int> rows = Query(
      sql, what, [](const SqliteStatement&) { return absl::OkStatus(); },
      values...);
  if (!rows.ok()) return rows.status();
  return sqlite3_changes(db_);
}

absl::StatusOr<std::optional<Record>> SQLiteStore::Load(const Key& key) {
  absl::StatusOr<std::vector<Record>> records =
      Records(PAYMENTS_SQL_SELECT_RECORD, "select record", KeyParams(key));
  if (!records.ok()) return records.status();
  if (records->empty()) return std::nullopt;
  return std::optional<Record>(std::move(records->front()));
}

template <typename... Values>
absl::StatusOr<bool> SQLiteStore::ChangeWithAttempt(const char* change,
                                                    const char* attempt,
                                                    const char* what,
                                                    const Values&... values) {
  return InTransaction([&]() -> absl::StatusOr<bool> {
    // The RETURNING row is not needed here: the attempt change reads the
    // record again.
    absl::StatusOr<int> changed = Query(
        change, what, [](const SqliteStatement&) { return absl::OkStatus(); },
        values...);
    if (!changed.ok()) return changed.status();
    if (*changed == 0) return false;
    absl::StatusOr<int> ended = Change(attempt, what, values...);
    if (!ended.ok()) return ended.status();
    return true;
  });
}

template <typename... More>
absl::Status SQLiteStore::OwnerTransition(const char* change,
                                          const char* attempt,
                                          const char* operation,
                                          RecordState state, const Key& key,
                                          const std::string& owner,
                                          absl::Time now, const More&... more) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<bool> changed = ChangeWithAttempt(
      change, attempt, operation, KeyParams(key), owner, now, more...);
  if (!changed.ok()) return changed.status();
  if (*changed) return absl::OkStatus();
  return internal::AlreadyDoneOrConflict(Load(key), operation, owner, state);
}

template <typename... More>
absl::Status SQLiteStore::Settle(const char* change, const char* attempt,
                                 const char* operation, const Key& key,
                                 int64_t expected_version, absl::Time now,
                                 const More&... more) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<bool> changed =
      ChangeWithAttempt(change, attempt, operation, KeyParams(key),
                        expected_version, now, more...);
  if (!changed.ok()) return changed.status();
  if (*changed) return absl::OkStatus();
  return internal::Conflict(operation);
}

absl::Status SQLiteStore::Migrate() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<bool> done = InTransaction([&]() -> absl::StatusOr<bool> {
    if (absl::Status s = Exec(PAYMENTS_SQL_CREATE_SCHEMA_VERSION); !s.ok()) {
      return s;
    }
    int64_t current = 0;
    absl::StatusOr<int> read =
        Query(PAYMENTS_SQL_SELECT_SCHEMA_VERSION, "read schema version",
              [&](const SqliteStatement& row) -> absl::Status {
                if (row.IsNull(0)) return absl::OkStatus();
                absl::StatusOr<int64_t> version = row.Int(0);
                if (!version.ok()) return version.status();
                current = *version;
                return absl::OkStatus();
              });
    if (!read.ok()) return read.status();
    // A newer schema (written by a newer release) is left alone.
    if (current >= internal::kSchemaVersion) return false;
    for (const Migration& migration : kMigrations) {
      if (migration.version <= current) continue;
      for (const char* const* sql = migration.statements; *sql != nullptr;
           ++sql) {
        if (absl::Status s = Exec(*sql); !s.ok()) return s;
      }
    }
    if (absl::Status s = Exec(PAYMENTS_SQL_DELETE_SCHEMA_VERSION); !s.ok()) {
      return s;
    }
    absl::StatusOr<int> written =
        Change(PAYMENTS_SQL_INSERT_SCHEMA_VERSION, "write schema version",
               int64_t{internal::kSchemaVersion});
    if (!written.ok()) return written.status();
    return true;
  });
  return done.status();
}

absl::StatusOr<ReserveResult> SQLiteStore::Reserve(
    const Key& key, const std::string& fingerprint, const std::string& params,
    const std::string& key_id, const std::string& owner, absl::Time now,
    absl::Duration lease, absl::Duration retention) {
  absl::MutexLock lock(&mu_);
  // A live record that is neither expired nor free is answered from a read:
  // the transaction below would change nothing and return the same (a
  // replay, a mismatch, a wait for its owner). A read takes no write lock
  // (WAL), so replays neither wait for nor hold up writers. Anything else,
  // or a failed read, goes the transactional way.
  if (absl::StatusOr<std::optional<Record>> current = Load(key);
      current.ok() && current->has_value() &&
      internal::TimeToMicros((*current)->expires_at) >
          internal::TimeToMicros(now) &&
      (*current)->state != RecordState::kFailed &&
      (*current)->state != RecordState::kSettledNotCreated) {
    const Record& record = **current;
    return ReserveResult{.acquired = internal::IsOwnersFreshRecord(
                             record, fingerprint, params, key_id, owner),
                         .existing = record};
  }
  const std::string no_result;
  return InTransaction([&]() -> absl::StatusOr<ReserveResult> {
    auto reserve = [&](const char* sql) {
      return Records(sql, "reserve", KeyParams(key), fingerprint, params,
                     key_id, owner, now, now + lease,
                     internal::ExpiryFor(now, lease, retention),
                     Blob{no_result});
    };
    absl::StatusOr<std::vector<Record>> fresh =
        reserve(PAYMENTS_SQL_RESERVE_ABSENT_OR_EXPIRED);
    if (!fresh.ok()) return fresh.status();
    if (!fresh->empty()) {
      // An expired record's attempts go with it.
      absl::StatusOr<int> deleted =
          Change(PAYMENTS_SQL_DELETE_ATTEMPTS, "reserve", KeyParams(key));
      if (!deleted.ok()) return deleted.status();
      return ReserveResult{.acquired = true, .existing = fresh->front()};
    }
    fresh = reserve(PAYMENTS_SQL_RESERVE_FREE);
    if (!fresh.ok()) return fresh.status();
    if (!fresh->empty()) {
      return ReserveResult{.acquired = true, .existing = fresh->front()};
    }
    absl::StatusOr<std::optional<Record>> existing = Load(key);
    if (!existing.ok()) return existing.status();
    if (!existing->has_value()) {
      return absl::InternalError("reserve: record neither inserted nor found");
    }
    const Record& record = **existing;
    return ReserveResult{.acquired = internal::IsOwnersFreshRecord(
                             record, fingerprint, params, key_id, owner),
                         .existing = record};
  });
}

absl::StatusOr<std::optional<Record>> SQLiteStore::Get(const Key& key,
                                                       absl::Time /*now*/) {
  absl::MutexLock lock(&mu_);
  // Expired records are hidden by ValidatingStore.
  return Load(key);
}

template <typename Read, typename T>
bool SQLiteStore::WithoutWaiting(Read read, T* out) {
  if (!mu_.TryLock()) return false;  // Another call is using the connection.
  sqlite3_busy_timeout(db_, 0);
  auto result = read();
  sqlite3_busy_timeout(db_, busy_timeout_ms_);
  mu_.Unlock();
  if (!result.ok()) return false;
  *out = *std::move(result);
  return true;
}

bool SQLiteStore::GetWithoutWaiting(const Key& key, absl::Time /*now*/,
                                    std::optional<Record>* record) {
  return WithoutWaiting(
      [&] {
        mu_.AssertHeld();
        return Load(key);
      },
      record);
}

bool SQLiteStore::EventSeenWithoutWaiting(
    const std::string& event_id, absl::Time now,
    std::optional<absl::Time>* first_seen) {
  return WithoutWaiting(
      [&] {
        mu_.AssertHeld();
        return FirstSeen(event_id, now);
      },
      first_seen);
}

absl::Status SQLiteStore::MarkSent(const Key& key, const std::string& owner,
                                   absl::Time now) {
  return OwnerTransition(PAYMENTS_SQL_MARK_SENT, kOpenAttempt, "mark sent",
                         RecordState::kSent, key, owner, now);
}

absl::Status SQLiteStore::Succeed(const Key& key, const std::string& owner,
                                  const std::string& dojo_id,
                                  const std::string& result, absl::Time now) {
  return OwnerTransition(PAYMENTS_SQL_SUCCEED, kEndSucceeded, "succeed",
                         RecordState::kSucceeded, key, owner, now, dojo_id,
                         Blob{result});
}

absl::Status SQLiteStore::MarkUnknown(const Key& key, const std::string& owner,
                                      absl::Time now) {
  return OwnerTransition(PAYMENTS_SQL_MARK_UNKNOWN, kEndUnknown, "mark unknown",
                         RecordState::kUnknown, key, owner, now);
}

absl::Status SQLiteStore::Fail(const Key& key, const std::string& owner,
                               absl::Time now) {
  return OwnerTransition(PAYMENTS_SQL_FAIL, kEndFailed, "fail",
                         RecordState::kFailed, key, owner, now);
}

absl::Status SQLiteStore::Resolve(const Key& key, int64_t expected_version,
                                  const std::string& dojo_id,
                                  const std::string& result, absl::Time now) {
  return Settle(PAYMENTS_SQL_RESOLVE, kEndSucceeded, "resolve", key,
                expected_version, now, dojo_id, Blob{result});
}

absl::Status SQLiteStore::SettleNotCreated(const Key& key,
                                           int64_t expected_version,
                                           absl::Time now) {
  return Settle(PAYMENTS_SQL_SETTLE_NOT_CREATED, kEndSettledNotCreated,
                "settle not created", key, expected_version, now);
}

absl::Status SQLiteStore::Reschedule(const Key& key, int64_t expected_version,
                                     absl::Time next_check_at) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<int> changed =
      Change(PAYMENTS_SQL_RESCHEDULE, "reschedule", KeyParams(key),
             expected_version, next_check_at);
  if (!changed.ok()) return changed.status();
  return *changed == 1 ? absl::OkStatus() : internal::Conflict("reschedule");
}

absl::Status SQLiteStore::Rebind(const Key& key, int64_t expected_version,
                                 const std::string& key_id) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<int> changed = Change(
      PAYMENTS_SQL_REBIND, "rebind", KeyParams(key), expected_version, key_id);
  if (!changed.ok()) return changed.status();
  return *changed == 1 ? absl::OkStatus() : internal::Conflict("rebind");
}

absl::StatusOr<std::vector<Record>> SQLiteStore::ClaimDue(
    absl::Time now, const std::string& claimer, absl::Duration claim_lease,
    int limit) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::vector<Record>> claimed =
      InTransaction([&]() -> absl::StatusOr<std::vector<Record>> {
        return Records(kClaimDue, "claim due", now, claimer, now + claim_lease,
                       int64_t{limit});
      });
  if (claimed.ok()) internal::SortForClaim(*claimed);
  return claimed;
}

absl::StatusOr<std::vector<Attempt>> SQLiteStore::ListAttempts(const Key& key) {
  absl::MutexLock lock(&mu_);
  std::vector<Attempt> attempts;
  absl::StatusOr<int> rows = Query(
      PAYMENTS_SQL_LIST_ATTEMPTS, "list attempts",
      [&](const SqliteStatement& row) -> absl::Status {
        absl::StatusOr<Attempt> attempt = internal::DecodeAttempt(row);
        if (!attempt.ok()) return attempt.status();
        attempts.push_back(*std::move(attempt));
        return absl::OkStatus();
      },
      KeyParams(key));
  if (!rows.ok()) return rows.status();
  return attempts;
}

absl::StatusOr<std::vector<UnknownSummary>> SQLiteStore::SummarizeUnknown(
    absl::Time now) {
  absl::MutexLock lock(&mu_);
  std::vector<UnknownSummary> summaries;
  absl::StatusOr<int> rows = Query(
      PAYMENTS_SQL_SUMMARIZE_UNKNOWN, "summarize unknown",
      [&](const SqliteStatement& row) -> absl::Status {
        absl::StatusOr<UnknownSummary> summary =
            internal::DecodeUnknownSummary(row);
        if (!summary.ok()) return summary.status();
        summaries.push_back(*summary);
        return absl::OkStatus();
      },
      now);
  if (!rows.ok()) return rows.status();
  internal::SortSummaries(summaries);
  return summaries;
}

absl::StatusOr<int64_t> SQLiteStore::ReapExpired(absl::Time now) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::StatusOr<int64_t> {
    absl::StatusOr<int> attempts = Change(kReapAttempts, "reap", now);
    if (!attempts.ok()) return attempts.status();
    int64_t reaped = 0;
    for (const char* sql : {kReapRecords, kReapEvents}) {
      absl::StatusOr<int> changed = Change(sql, "reap", now);
      if (!changed.ok()) return changed.status();
      reaped += *changed;
    }
    return reaped;
  });
}

absl::StatusOr<std::optional<absl::Time>> SQLiteStore::FirstSeen(
    const std::string& event_id, absl::Time now) {
  std::optional<absl::Time> first_seen;
  absl::StatusOr<int> read = Query(
      kSelectEvent, "select event",
      [&](const SqliteStatement& row) -> absl::Status {
        absl::StatusOr<int64_t> seen = row.Int(0);
        absl::StatusOr<int64_t> expires = row.Int(1);
        if (!seen.ok()) return seen.status();
        if (!expires.ok()) return expires.status();
        if (internal::MicrosToTime(*expires) > now) {
          first_seen = internal::MicrosToTime(*seen);
        }
        return absl::OkStatus();
      },
      event_id);
  if (!read.ok()) return read.status();
  return first_seen;
}

absl::StatusOr<std::optional<absl::Time>> SQLiteStore::RememberEvent(
    const std::string& event_id, absl::Time now, absl::Duration retention) {
  absl::MutexLock lock(&mu_);
  // A redelivery is answered from a read, without the write lock; a new
  // event (or a failed read) is checked again and inserted in one
  // transaction.
  if (absl::StatusOr<std::optional<absl::Time>> seen = FirstSeen(event_id, now);
      seen.ok() && seen->has_value()) {
    return seen;
  }
  return InTransaction([&]() -> absl::StatusOr<std::optional<absl::Time>> {
    absl::StatusOr<std::optional<absl::Time>> first_seen =
        FirstSeen(event_id, now);
    if (!first_seen.ok()) return first_seen.status();
    if (first_seen->has_value()) return first_seen;
    absl::StatusOr<int> inserted =
        Change(kInsertEvent, "insert event", event_id, now, now + retention);
    if (!inserted.ok()) return inserted.status();
    return std::optional<absl::Time>();
  });
}

absl::Status SQLiteStore::Ping() {
  absl::MutexLock lock(&mu_);
  std::optional<int64_t> version;
  absl::StatusOr<int> read =
      Query(PAYMENTS_SQL_SELECT_SCHEMA_VERSION, "ping",
            [&](const SqliteStatement& row) -> absl::Status {
              if (row.IsNull(0)) return absl::OkStatus();
              absl::StatusOr<int64_t> v = row.Int(0);
              if (!v.ok()) return v.status();
              version = *v;
              return absl::OkStatus();
            });
  if (!read.ok()) return read.status();
  return internal::CheckSchemaVersion(version);
}

}  // namespace payments::idempotency
