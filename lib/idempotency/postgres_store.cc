#include "lib/idempotency/postgres_store.h"

#include <libpq-fe.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/idempotency/postgres_connection.h"
#include "lib/idempotency/postgres_connection_pool.h"
#include "lib/idempotency/store_encoding.h"

namespace payments::idempotency {
namespace {

using internal::MicrosToTime;
using internal::TimeToMicros;

// Serializes Migrate across replicas (pg_advisory_xact_lock key: an
// arbitrary constant for "payments idempotency schema").
constexpr char kMigrationLock[] =
    "SELECT pg_advisory_xact_lock(6021873390451257)";
constexpr char kCreateSchemaVersion[] =
    "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)";
constexpr char kSelectSchemaVersion[] =
    "SELECT max(version) FROM schema_version";
constexpr char kDeleteSchemaVersion[] = "DELETE FROM schema_version";
constexpr char kInsertSchemaVersion[] =
    "INSERT INTO schema_version (version) VALUES ($1)";

// Migrations, applied in order inside one transaction under the advisory
// lock. Times are bigint Unix microseconds, as in the SQLite backend.
struct Migration {
  int version;
  std::vector<const char*> statements;
};
const std::vector<Migration>& Migrations() {
  static const auto* migrations = new std::vector<Migration>{
      {1,
       {
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
       }},
  };
  return *migrations;
}

constexpr char kSelectRecord[] =
    "SELECT " PAYMENTS_RECORD_COLUMNS
    " FROM idempotency_records WHERE account = $1 AND reference = $2";
// Inserts, or replaces an expired record (continuing its version), in one
// atomic statement: of concurrent callers on any replica exactly one gets a
// row back. A live record is left alone and no row is returned.
constexpr char kReserve[] =
    "INSERT INTO idempotency_records AS r (" PAYMENTS_RECORD_COLUMNS
    ", updated_at) VALUES"
    " ($1, $2, $3, 'in_flight', $4, 1, $5, $6, ''::bytea, $6, $7, $6)"
    " ON CONFLICT (account, reference) DO UPDATE SET"
    " fingerprint = EXCLUDED.fingerprint, state = 'in_flight',"
    " owner = EXCLUDED.owner, version = r.version + 1,"
    " lease_expires_at = EXCLUDED.lease_expires_at,"
    " attempt_started_at = EXCLUDED.attempt_started_at,"
    " result = EXCLUDED.result, created_at = EXCLUDED.created_at,"
    " expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at"
    " WHERE r.expires_at <= $6"
    " RETURNING " PAYMENTS_RECORD_COLUMNS;
constexpr char kTakeOver[] =
    "UPDATE idempotency_records SET owner = $3, state = 'in_flight',"
    " version = version + 1, lease_expires_at = $4,"
    " expires_at = GREATEST(expires_at, $4), updated_at = $5"
    " WHERE account = $1 AND reference = $2 AND version = $6"
    " AND expires_at > $5 AND (state = 'unknown'"
    " OR (state = 'in_flight' AND lease_expires_at <= $5))";
constexpr char kComplete[] =
    "UPDATE idempotency_records SET state = 'completed', result = $4,"
    " version = version + 1, updated_at = $5"
    " WHERE account = $1 AND reference = $2 AND owner = $3"
    " AND state = 'in_flight'";
constexpr char kMarkUnknown[] =
    "UPDATE idempotency_records SET state = 'unknown',"
    " version = version + 1, updated_at = $4"
    " WHERE account = $1 AND reference = $2 AND owner = $3"
    " AND state = 'in_flight'";
constexpr char kRelease[] =
    "DELETE FROM idempotency_records"
    " WHERE account = $1 AND reference = $2 AND owner = $3"
    " AND state = 'in_flight'";
constexpr char kReap[] =
    "WITH r AS (DELETE FROM idempotency_records WHERE expires_at <= $1"
    " RETURNING 1),"
    " e AS (DELETE FROM webhook_events WHERE expires_at <= $1 RETURNING 1)"
    " SELECT (SELECT count(*) FROM r) + (SELECT count(*) FROM e)";
// Inserts, or replaces an expired event; no row back if it is live.
constexpr char kRememberEvent[] =
    "INSERT INTO webhook_events AS e (event_id, first_seen_at, expires_at)"
    " VALUES ($1, $2, $3) ON CONFLICT (event_id) DO UPDATE SET"
    " first_seen_at = EXCLUDED.first_seen_at,"
    " expires_at = EXCLUDED.expires_at WHERE e.expires_at <= $2"
    " RETURNING first_seen_at";
constexpr char kSelectEvent[] =
    "SELECT first_seen_at FROM webhook_events WHERE event_id = $1";
constexpr char kPing[] = "SELECT version FROM schema_version LIMIT 1";

// Reserve and RememberEvent re-read after a conflict; a row deleted in
// between (released, reaped) makes them try again, this many times.
constexpr int kConflictAttempts = 3;

PostgresParam Param(const std::string& text) { return {text, false}; }
PostgresParam Param(int64_t value) { return {absl::StrCat(value), false}; }
PostgresParam Param(absl::Time t) { return Param(TimeToMicros(t)); }
PostgresParam Bytes(const std::string& bytes) { return {bytes, true}; }

// A Record from row `row` of PAYMENTS_RECORD_COLUMNS.
absl::StatusOr<Record> ReadRecord(const PostgresResult& result, int row) {
  Record record;
  record.key.account = result.Text(row, 0);
  record.key.reference = result.Text(row, 1);
  record.fingerprint = result.Text(row, 2);
  std::optional<RecordState> state = internal::ParseState(result.Text(row, 3));
  if (!state.has_value()) {
    return absl::InternalError("idempotency record has an unknown state");
  }
  record.state = *state;
  record.owner = result.Text(row, 4);
  absl::Time* const times[] = {&record.lease_expires_at,
                               &record.attempt_started_at, nullptr,
                               &record.created_at, &record.expires_at};
  absl::StatusOr<int64_t> version = result.Int(row, 5);
  if (!version.ok()) return version.status();
  record.version = *version;
  for (int i = 0; i < 5; ++i) {
    if (times[i] == nullptr) continue;
    absl::StatusOr<int64_t> micros = result.Int(row, 6 + i);
    if (!micros.ok()) return micros.status();
    *times[i] = MicrosToTime(*micros);
  }
  absl::StatusOr<std::string> bytes = result.Bytea(row, 8);
  if (!bytes.ok()) return bytes.status();
  record.result = *std::move(bytes);
  return record;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(
    const std::string& conninfo, const PostgresStoreOptions& options) {
  if (options.max_connections < 1 ||
      options.connect_timeout < absl::Seconds(1) ||
      options.statement_timeout < absl::Milliseconds(1) ||
      options.acquire_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("invalid PostgreSQL store options");
  }
  // Parsed only to validate it and to learn the password (to mask it) and
  // the options given; libpq's parse error may quote the string, so it is
  // not passed on.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (parse_error != nullptr) PQfreemem(parse_error);
  if (parsed == nullptr) {
    return absl::InvalidArgumentError("invalid PostgreSQL connection string");
  }
  PostgresPoolSettings settings;
  settings.keywords = {"dbname"};
  settings.values = {conninfo};
  settings.connect_timeout = options.connect_timeout;
  bool has_application_name = false;
  bool has_connect_timeout = false;
  bool bad_connect_timeout = false;
  for (PQconninfoOption* option = parsed; option->keyword != nullptr;
       ++option) {
    if (option->val == nullptr) continue;
    std::string keyword = option->keyword;
    if (keyword == "password") settings.secret = option->val;
    if (keyword == "application_name") has_application_name = true;
    if (keyword == "connect_timeout") {
      has_connect_timeout = true;
      int seconds = 0;
      if (absl::SimpleAtoi(option->val, &seconds) && seconds > 0) {
        settings.connect_timeout = absl::Seconds(seconds);
      } else {
        bad_connect_timeout = true;  // 0 (wait forever) is not allowed.
      }
    }
  }
  PQconninfoFree(parsed);
  if (bad_connect_timeout) {
    return absl::InvalidArgumentError(
        "PostgreSQL connect_timeout must be a positive number of seconds");
  }
  if (!has_connect_timeout) {
    settings.keywords.push_back("connect_timeout");
    settings.values.push_back(absl::StrCat(absl::ToInt64Seconds(
        absl::Ceil(options.connect_timeout, absl::Seconds(1)))));
  }
  if (!has_application_name) {
    settings.keywords.push_back("application_name");
    settings.values.push_back("payments-gateway");
  }
  // statement_timeout ends work the server would do for a client that gave
  // up; idle_in_transaction_session_timeout frees the migration lock of a
  // replica that vanished mid-transaction.
  settings.session_setup.push_back(absl::StrCat(
      "SELECT set_config('statement_timeout', '",
      absl::ToInt64Milliseconds(options.statement_timeout),
      "', false), set_config('idle_in_transaction_session_timeout', '",
      absl::ToInt64Milliseconds(options.statement_timeout * 2), "', false)"));
  settings.max_connections = options.max_connections;
  settings.acquire_timeout = options.acquire_timeout;
  return std::unique_ptr<PostgresStore>(new PostgresStore(
      std::make_unique<PostgresConnectionPool>(std::move(settings)),
      options.statement_timeout + absl::Seconds(1)));
}

PostgresStore::PostgresStore(std::unique_ptr<PostgresConnectionPool> pool,
                             absl::Duration operation_timeout)
    : pool_(std::move(pool)), operation_timeout_(operation_timeout) {}

PostgresStore::~PostgresStore() = default;

absl::StatusOr<PostgresResult> PostgresStore::Run(
    const std::string& sql, const std::vector<PostgresParam>& params) {
  absl::StatusOr<PostgresConnectionPool::Handle> conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  return (*conn)->Exec(sql, params, absl::Now() + operation_timeout_);
}

absl::StatusOr<std::optional<Record>> PostgresStore::Load(const Key& key) {
  absl::StatusOr<PostgresResult> result =
      Run(kSelectRecord, {Param(key.account), Param(key.reference)});
  if (!result.ok()) return result.status();
  if (result->rows() == 0) return std::nullopt;
  absl::StatusOr<Record> record = ReadRecord(*result, 0);
  if (!record.ok()) return record.status();
  return std::optional<Record>(*std::move(record));
}

absl::StatusOr<int64_t> PostgresStore::Change(
    const std::string& sql, const std::vector<PostgresParam>& params) {
  absl::StatusOr<PostgresResult> result = Run(sql, params);
  if (!result.ok()) return result.status();
  return result->affected();
}

absl::Status PostgresStore::Migrate() {
  absl::StatusOr<PostgresConnectionPool::Handle> conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  auto exec = [&](const std::string& sql,
                  const std::vector<PostgresParam>& params = {}) {
    return (*conn)->Exec(sql, params, absl::Now() + operation_timeout_);
  };
  auto body = [&]() -> absl::Status {
    for (const char* sql : {kMigrationLock, kCreateSchemaVersion}) {
      if (absl::StatusOr<PostgresResult> r = exec(sql); !r.ok()) {
        return r.status();
      }
    }
    absl::StatusOr<PostgresResult> current = exec(kSelectSchemaVersion);
    if (!current.ok()) return current.status();
    int64_t version = 0;
    if (current->rows() == 1 && !current->IsNull(0, 0)) {
      absl::StatusOr<int64_t> v = current->Int(0, 0);
      if (!v.ok()) return v.status();
      version = *v;
    }
    // A newer schema (written by a newer release) is left alone:
    // migrations only add, so this code keeps working on it.
    if (version >= internal::kSchemaVersion) return absl::OkStatus();
    for (const Migration& migration : Migrations()) {
      if (migration.version <= version) continue;
      for (const char* sql : migration.statements) {
        if (absl::StatusOr<PostgresResult> r = exec(sql); !r.ok()) {
          return r.status();
        }
      }
    }
    if (absl::StatusOr<PostgresResult> r = exec(kDeleteSchemaVersion);
        !r.ok()) {
      return r.status();
    }
    return exec(kInsertSchemaVersion,
                {Param(int64_t{internal::kSchemaVersion})})
        .status();
  };
  if (absl::StatusOr<PostgresResult> r = exec("BEGIN"); !r.ok()) {
    return r.status();
  }
  absl::Status status = body();
  if (status.ok()) status = exec("COMMIT").status();
  if (!status.ok()) {
    // Best effort; a connection left in a transaction is dropped when the
    // handle returns it.
    exec("ROLLBACK").IgnoreError();
  }
  return status;
}

absl::StatusOr<ReserveResult> PostgresStore::Reserve(
    const Key& key, const std::string& fingerprint, const std::string& owner,
    absl::Time now, absl::Duration lease, absl::Duration retention) {
  const std::vector<PostgresParam> params = {
      Param(key.account),
      Param(key.reference),
      Param(fingerprint),
      Param(owner),
      Param(now + lease),
      Param(now),
      Param(internal::ExpiryFor(now, lease, retention))};
  for (int attempt = 0; attempt < kConflictAttempts; ++attempt) {
    absl::StatusOr<PostgresResult> inserted = Run(kReserve, params);
    if (!inserted.ok()) return inserted.status();
    if (inserted->rows() == 1) {
      absl::StatusOr<Record> record = ReadRecord(*inserted, 0);
      if (!record.ok()) return record.status();
      return ReserveResult{.acquired = true, .existing = *std::move(record)};
    }
    absl::StatusOr<std::optional<Record>> existing = Load(key);
    if (!existing.ok()) return existing.status();
    if (!existing->has_value()) continue;  // Released or reaped meanwhile.
    const Record& record = **existing;
    // A repeat by the owner that already holds the fresh record (after an
    // UNAVAILABLE whose change did happen) acquires again.
    bool mine = record.state == RecordState::kInFlight &&
                record.owner == owner && record.fingerprint == fingerprint;
    return ReserveResult{.acquired = mine, .existing = record};
  }
  return absl::UnavailableError(
      "reserve: idempotency record keeps changing; try again");
}

absl::StatusOr<std::optional<Record>> PostgresStore::Get(const Key& key,
                                                         absl::Time /*now*/) {
  // Expired records are hidden by ValidatingStore.
  return Load(key);
}

absl::Status PostgresStore::TakeOver(const Key& key, int64_t expected_version,
                                     const std::string& owner, absl::Time now,
                                     absl::Duration lease) {
  absl::StatusOr<int64_t> changed = Change(
      kTakeOver, {Param(key.account), Param(key.reference), Param(owner),
                  Param(now + lease), Param(now), Param(expected_version)});
  if (!changed.ok()) return changed.status();
  if (*changed == 1) return absl::OkStatus();
  return internal::AlreadyDoneOrConflict(Load(key), "take over", owner,
                                         RecordState::kInFlight,
                                         expected_version + 1);
}

absl::Status PostgresStore::Complete(const Key& key, const std::string& owner,
                                     const std::string& result,
                                     absl::Time now) {
  absl::StatusOr<int64_t> changed =
      Change(kComplete, {Param(key.account), Param(key.reference), Param(owner),
                         Bytes(result), Param(now)});
  if (!changed.ok()) return changed.status();
  if (*changed == 1) return absl::OkStatus();
  return internal::AlreadyDoneOrConflict(Load(key), "complete", owner,
                                         RecordState::kCompleted);
}

absl::Status PostgresStore::MarkUnknown(const Key& key,
                                        const std::string& owner,
                                        absl::Time now) {
  absl::StatusOr<int64_t> changed = Change(
      kMarkUnknown,
      {Param(key.account), Param(key.reference), Param(owner), Param(now)});
  if (!changed.ok()) return changed.status();
  if (*changed == 1) return absl::OkStatus();
  return internal::AlreadyDoneOrConflict(Load(key), "mark unknown", owner,
                                         RecordState::kUnknown);
}

absl::Status PostgresStore::Release(const Key& key, const std::string& owner) {
  absl::StatusOr<int64_t> changed = Change(
      kRelease, {Param(key.account), Param(key.reference), Param(owner)});
  if (!changed.ok()) return changed.status();
  if (*changed == 1) return absl::OkStatus();
  // Released already if the record is gone.
  return internal::AlreadyDoneOrConflict(Load(key), "release", owner,
                                         /*state=*/std::nullopt);
}

absl::StatusOr<int64_t> PostgresStore::ReapExpired(absl::Time now) {
  absl::StatusOr<PostgresResult> result = Run(kReap, {Param(now)});
  if (!result.ok()) return result.status();
  if (result->rows() != 1) {
    return absl::InternalError("reap: unexpected result");
  }
  return result->Int(0, 0);
}

absl::StatusOr<std::optional<absl::Time>> PostgresStore::RememberEvent(
    const std::string& event_id, absl::Time now, absl::Duration retention) {
  for (int attempt = 0; attempt < kConflictAttempts; ++attempt) {
    absl::StatusOr<PostgresResult> inserted = Run(
        kRememberEvent, {Param(event_id), Param(now), Param(now + retention)});
    if (!inserted.ok()) return inserted.status();
    if (inserted->rows() == 1) return std::nullopt;
    absl::StatusOr<PostgresResult> seen = Run(kSelectEvent, {Param(event_id)});
    if (!seen.ok()) return seen.status();
    if (seen->rows() == 0) continue;  // Reaped meanwhile.
    absl::StatusOr<int64_t> micros = seen->Int(0, 0);
    if (!micros.ok()) return micros.status();
    return std::optional<absl::Time>(MicrosToTime(*micros));
  }
  return absl::UnavailableError(
      "remember event: event record keeps changing; try again");
}

absl::Status PostgresStore::Ping() {
  absl::StatusOr<PostgresResult> result = Run(kPing, {});
  if (!result.ok()) return result.status();
  if (result->rows() == 0) {
    return absl::InternalError("idempotency schema not migrated");
  }
  return absl::OkStatus();
}

}  // namespace payments::idempotency
