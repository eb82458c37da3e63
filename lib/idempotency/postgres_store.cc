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
#include "lib/idempotency/store_sql.h"

namespace payments::idempotency {
namespace {

using internal::MicrosToTime;
using internal::TimeToMicros;

// Serializes Migrate across replicas (pg_advisory_xact_lock key: an
// arbitrary constant for "payments idempotency schema").
constexpr char kMigrationLock[] =
    "SELECT pg_advisory_xact_lock(6021873390451257)";

// Migrations, applied in order inside one transaction under the advisory
// lock. Times are bigint Unix microseconds, as in the SQLite backend.
struct Migration {
  int version;
  std::vector<const char*> statements;
};
const std::vector<Migration>& Migrations() {
  static const auto* migrations = new std::vector<Migration>{
      // Schema 1: creates by (account, reference); migration 2 moves its
      // rows into the journal and drops it.
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
      // Keys compare and sort bytewise (COLLATE "C"), as in SQLite. The
      // lock first: a replica of the previous release that still writes
      // schema-1 records waits, rather than changing one between the moves
      // (SQLite's BEGIN IMMEDIATE already keeps every writer out).
      {2,
       {"LOCK TABLE idempotency_records IN ACCESS EXCLUSIVE MODE",
        PAYMENTS_SQL_MIGRATION_2("text COLLATE \"C\"", "bytea")}},
  };
  return *migrations;
}

// A record change and its attempt row's change in one statement: `op` is
// the changed record (none: nothing changes), the count tells whether it
// changed. Data-modifying WITH parts run to completion even unread.
#define PG_WITH_ATTEMPT(CHANGE, ATTEMPT) \
  "WITH op AS (" CHANGE "), attempt AS (" ATTEMPT ") SELECT count(*) FROM op"
constexpr char kMarkSent[] =
    PG_WITH_ATTEMPT(PAYMENTS_SQL_MARK_SENT, PAYMENTS_SQL_OPEN_ATTEMPT("op"));
constexpr char kSucceed[] = PG_WITH_ATTEMPT(
    PAYMENTS_SQL_SUCCEED,
    PAYMENTS_SQL_END_ATTEMPT("op", PAYMENTS_SQL_STATE(SUCCEEDED)));
constexpr char kMarkUnknown[] = PG_WITH_ATTEMPT(
    PAYMENTS_SQL_MARK_UNKNOWN,
    PAYMENTS_SQL_END_ATTEMPT("op", PAYMENTS_SQL_STATE(UNKNOWN)));
constexpr char kFail[] =
    PG_WITH_ATTEMPT(PAYMENTS_SQL_FAIL,
                    PAYMENTS_SQL_END_ATTEMPT("op", PAYMENTS_SQL_STATE(FAILED)));
constexpr char kResolve[] = PG_WITH_ATTEMPT(
    PAYMENTS_SQL_RESOLVE,
    PAYMENTS_SQL_END_ATTEMPT("op", PAYMENTS_SQL_STATE(SUCCEEDED)));
constexpr char kSettleNotCreated[] = PG_WITH_ATTEMPT(
    PAYMENTS_SQL_SETTLE_NOT_CREATED,
    PAYMENTS_SQL_END_ATTEMPT("op", PAYMENTS_SQL_STATE(SETTLED_NOT_CREATED)));
#undef PG_WITH_ATTEMPT

// Inserts, or replaces an expired record (continuing its version, deleting
// its attempt rows), in one atomic statement: of concurrent callers on any
// replica exactly one gets a row back. A live record is left alone.
constexpr char kReserveAbsentOrExpired[] =
    "WITH op AS (" PAYMENTS_SQL_RESERVE_ABSENT_OR_EXPIRED
    "),"
    " gone AS (DELETE FROM operation_attempts AS a USING op"
    " WHERE a.kind = op.kind AND a.account = op.account"
    " AND a.reference = op.reference)"
    " SELECT " PAYMENTS_RECORD_COLUMNS " FROM op";
constexpr char kClaimDue[] = PAYMENTS_SQL_CLAIM_DUE(" FOR UPDATE SKIP LOCKED");
constexpr char kReap[] =
    "WITH r AS (DELETE FROM operations WHERE expires_at <= $1"
    " RETURNING kind, account, reference),"
    " a AS (DELETE FROM operation_attempts AS t USING r"
    " WHERE t.kind = r.kind AND t.account = r.account"
    " AND t.reference = r.reference),"
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

// Reserve and RememberEvent re-read after a conflict; a row changed in
// between (failed, reaped) makes them try again, this many times.
constexpr int kConflictAttempts = 3;

PostgresParam Param(const std::string& text) { return {text, false}; }
PostgresParam Param(int64_t value) { return {absl::StrCat(value), false}; }
PostgresParam Param(absl::Time t) { return Param(TimeToMicros(t)); }
PostgresParam Bytes(const std::string& bytes) { return {bytes, true}; }

// $1, $2, $3 for `key`, then `more`.
std::vector<PostgresParam> KeyParams(const Key& key,
                                     std::vector<PostgresParam> more = {}) {
  const char* kind = internal::KindName(key.kind);
  std::vector<PostgresParam> params = {Param(kind != nullptr ? kind : ""),
                                       Param(key.account),
                                       Param(key.reference)};
  for (PostgresParam& param : more) params.push_back(std::move(param));
  return params;
}

// Row `row` of a result, for the internal::Decode* templates.
class Row final {
 public:
  Row(const PostgresResult& result, int row) : result_(result), row_(row) {}
  absl::StatusOr<std::string> Text(int column) const {
    return result_.Text(row_, column);
  }
  absl::StatusOr<int64_t> Int(int column) const {
    return result_.Int(row_, column);
  }
  absl::StatusOr<std::string> Bytes(int column) const {
    return result_.Bytea(row_, column);
  }

 private:
  const PostgresResult& result_;
  const int row_;
};

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
  absl::StatusOr<std::vector<Record>> records =
      Records(PAYMENTS_SQL_SELECT_RECORD, KeyParams(key));
  if (!records.ok()) return records.status();
  if (records->empty()) return std::nullopt;
  return std::optional<Record>(std::move(records->front()));
}

absl::StatusOr<int64_t> PostgresStore::Change(
    const std::string& sql, const std::vector<PostgresParam>& params) {
  absl::StatusOr<PostgresResult> result = Run(sql, params);
  if (!result.ok()) return result.status();
  return result->affected();
}

absl::StatusOr<std::vector<Record>> PostgresStore::Records(
    const std::string& sql, const std::vector<PostgresParam>& params) {
  absl::StatusOr<PostgresResult> result = Run(sql, params);
  if (!result.ok()) return result.status();
  std::vector<Record> records;
  for (int i = 0; i < result->rows(); ++i) {
    absl::StatusOr<Record> record = internal::DecodeRecord(Row(*result, i));
    if (!record.ok()) return record.status();
    records.push_back(*std::move(record));
  }
  return records;
}

absl::StatusOr<int64_t> PostgresStore::Count(
    const std::string& sql, const std::vector<PostgresParam>& params) {
  absl::StatusOr<PostgresResult> result = Run(sql, params);
  if (!result.ok()) return result.status();
  if (result->rows() != 1) {
    return absl::InternalError("postgresql: expected one row with a count");
  }
  return result->Int(0, 0);
}

absl::Status PostgresStore::Migrate() {
  absl::StatusOr<PostgresConnectionPool::Handle> conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  auto exec = [&](const std::string& sql,
                  const std::vector<PostgresParam>& params = {}) {
    return (*conn)->Exec(sql, params, absl::Now() + operation_timeout_);
  };
  auto body = [&]() -> absl::Status {
    for (const char* sql :
         {kMigrationLock, PAYMENTS_SQL_CREATE_SCHEMA_VERSION}) {
      if (absl::StatusOr<PostgresResult> r = exec(sql); !r.ok()) {
        return r.status();
      }
    }
    absl::StatusOr<PostgresResult> current =
        exec(PAYMENTS_SQL_SELECT_SCHEMA_VERSION);
    if (!current.ok()) return current.status();
    int64_t version = 0;
    if (current->rows() == 1 && !current->IsNull(0, 0)) {
      absl::StatusOr<int64_t> v = current->Int(0, 0);
      if (!v.ok()) return v.status();
      version = *v;
    }
    // A newer schema (written by a newer release) is left alone.
    if (version >= internal::kSchemaVersion) return absl::OkStatus();
    for (const Migration& migration : Migrations()) {
      if (migration.version <= version) continue;
      for (const char* sql : migration.statements) {
        if (absl::StatusOr<PostgresResult> r = exec(sql); !r.ok()) {
          return r.status();
        }
      }
    }
    if (absl::StatusOr<PostgresResult> r =
            exec(PAYMENTS_SQL_DELETE_SCHEMA_VERSION);
        !r.ok()) {
      return r.status();
    }
    return exec(PAYMENTS_SQL_INSERT_SCHEMA_VERSION,
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
    const Key& key, const std::string& fingerprint, const std::string& params,
    const std::string& key_id, const std::string& owner, absl::Time now,
    absl::Duration lease, absl::Duration retention) {
  const std::vector<PostgresParam> values = KeyParams(
      key, {Param(fingerprint), Param(params), Param(key_id), Param(owner),
            Param(now), Param(now + lease),
            Param(internal::ExpiryFor(now, lease, retention)), Bytes("")});
  for (int attempt = 0; attempt < kConflictAttempts; ++attempt) {
    for (const char* sql :
         {kReserveAbsentOrExpired, PAYMENTS_SQL_RESERVE_FREE}) {
      absl::StatusOr<std::vector<Record>> fresh = Records(sql, values);
      if (!fresh.ok()) return fresh.status();
      if (!fresh->empty()) {
        return ReserveResult{.acquired = true, .existing = fresh->front()};
      }
    }
    absl::StatusOr<std::optional<Record>> existing = Load(key);
    if (!existing.ok()) return existing.status();
    // Gone, freed or replaced meanwhile: try again.
    if (!existing->has_value()) continue;
    const Record& record = **existing;
    if (record.expires_at <= now || IsFree(record.state)) continue;
    return ReserveResult{.acquired = internal::IsOwnersFreshRecord(
                             record, fingerprint, params, key_id, owner),
                         .existing = record};
  }
  return absl::UnavailableError(
      "reserve: idempotency record keeps changing; try again");
}

absl::StatusOr<std::optional<Record>> PostgresStore::Get(const Key& key,
                                                         absl::Time /*now*/) {
  // Expired records are hidden by ValidatingStore.
  return Load(key);
}

absl::Status PostgresStore::MarkSent(const Key& key, const std::string& owner,
                                     absl::Time now) {
  absl::StatusOr<int64_t> changed =
      Count(kMarkSent, KeyParams(key, {Param(owner), Param(now)}));
  if (!changed.ok()) return changed.status();
  if (*changed == 1) return absl::OkStatus();
  return internal::AlreadyDoneOrConflict(Load(key), "mark sent", owner,
                                         RecordState::kSent);
}

absl::Status PostgresStore::Succeed(const Key& key, const std::string& owner,
                                    const std::string& dojo_id,
                                    const std::string& result, absl::Time now) {
  absl::StatusOr<int64_t> changed =
      Count(kSucceed, KeyParams(key, {Param(owner), Param(now), Param(dojo_id),
                                      Bytes(result)}));
  if (!changed.ok()) return changed.status();
  if (*changed == 1) return absl::OkStatus();
  return internal::AlreadyDoneOrConflict(Load(key), "succeed", owner,
                                         RecordState::kSucceeded);
}

absl::Status PostgresStore::MarkUnknown(const Key& key,
                                        const std::string& owner,
                                        absl::Time now) {
  absl::StatusOr<int64_t> changed =
      Count(kMarkUnknown, KeyParams(key, {Param(owner), Param(now)}));
  if (!changed.ok()) return changed.status();
  if (*changed == 1) return absl::OkStatus();
  return internal::AlreadyDoneOrConflict(Load(key), "mark unknown", owner,
                                         RecordState::kUnknown);
}

absl::Status PostgresStore::Fail(const Key& key, const std::string& owner,
                                 absl::Time now) {
  absl::StatusOr<int64_t> changed =
      Count(kFail, KeyParams(key, {Param(owner), Param(now)}));
  if (!changed.ok()) return changed.status();
  if (*changed == 1) return absl::OkStatus();
  return internal::AlreadyDoneOrConflict(Load(key), "fail", owner,
                                         RecordState::kFailed);
}

absl::Status PostgresStore::Resolve(const Key& key, int64_t expected_version,
                                    const std::string& dojo_id,
                                    const std::string& result, absl::Time now) {
  absl::StatusOr<int64_t> changed =
      Count(kResolve, KeyParams(key, {Param(expected_version), Param(now),
                                      Param(dojo_id), Bytes(result)}));
  if (!changed.ok()) return changed.status();
  return *changed == 1 ? absl::OkStatus() : internal::Conflict("resolve");
}

absl::Status PostgresStore::SettleNotCreated(const Key& key,
                                             int64_t expected_version,
                                             absl::Time now) {
  absl::StatusOr<int64_t> changed = Count(
      kSettleNotCreated, KeyParams(key, {Param(expected_version), Param(now)}));
  if (!changed.ok()) return changed.status();
  return *changed == 1 ? absl::OkStatus()
                       : internal::Conflict("settle not created");
}

absl::Status PostgresStore::Reschedule(const Key& key, int64_t expected_version,
                                       absl::Time next_check_at) {
  absl::StatusOr<int64_t> changed =
      Change(PAYMENTS_SQL_RESCHEDULE,
             KeyParams(key, {Param(expected_version), Param(next_check_at)}));
  if (!changed.ok()) return changed.status();
  return *changed == 1 ? absl::OkStatus() : internal::Conflict("reschedule");
}

absl::Status PostgresStore::Rebind(const Key& key, int64_t expected_version,
                                   const std::string& key_id) {
  absl::StatusOr<int64_t> changed =
      Change(PAYMENTS_SQL_REBIND,
             KeyParams(key, {Param(expected_version), Param(key_id)}));
  if (!changed.ok()) return changed.status();
  return *changed == 1 ? absl::OkStatus() : internal::Conflict("rebind");
}

absl::StatusOr<std::vector<Record>> PostgresStore::ClaimDue(
    absl::Time now, const std::string& claimer, absl::Duration claim_lease,
    int limit) {
  absl::StatusOr<std::vector<Record>> claimed =
      Records(kClaimDue, {Param(now), Param(claimer), Param(now + claim_lease),
                          Param(int64_t{limit})});
  if (claimed.ok()) internal::SortForClaim(*claimed);
  return claimed;
}

absl::StatusOr<std::vector<Attempt>> PostgresStore::ListAttempts(
    const Key& key) {
  absl::StatusOr<PostgresResult> result =
      Run(PAYMENTS_SQL_LIST_ATTEMPTS, KeyParams(key));
  if (!result.ok()) return result.status();
  std::vector<Attempt> attempts;
  for (int i = 0; i < result->rows(); ++i) {
    absl::StatusOr<Attempt> attempt = internal::DecodeAttempt(Row(*result, i));
    if (!attempt.ok()) return attempt.status();
    attempts.push_back(*std::move(attempt));
  }
  return attempts;
}

absl::StatusOr<std::vector<UnknownSummary>> PostgresStore::SummarizeUnknown(
    absl::Time now) {
  absl::StatusOr<PostgresResult> result =
      Run(PAYMENTS_SQL_SUMMARIZE_UNKNOWN, {Param(now)});
  if (!result.ok()) return result.status();
  std::vector<UnknownSummary> summaries;
  for (int i = 0; i < result->rows(); ++i) {
    absl::StatusOr<UnknownSummary> summary =
        internal::DecodeUnknownSummary(Row(*result, i));
    if (!summary.ok()) return summary.status();
    summaries.push_back(*summary);
  }
  internal::SortSummaries(summaries);
  return summaries;
}

absl::StatusOr<int64_t> PostgresStore::ReapExpired(absl::Time now) {
  return Count(kReap, {Param(now)});
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
  absl::StatusOr<PostgresResult> result =
      Run(PAYMENTS_SQL_SELECT_SCHEMA_VERSION, {});
  if (!result.ok()) return result.status();
  std::optional<int64_t> version;
  if (result->rows() == 1 && !result->IsNull(0, 0)) {
    absl::StatusOr<int64_t> v = result->Int(0, 0);
    if (!v.ok()) return v.status();
    version = *v;
  }
  return internal::CheckSchemaVersion(version);
}

}  // namespace payments::idempotency
