#ifndef LIB_IDEMPOTENCY_STORE_SQL_H_
#define LIB_IDEMPOTENCY_STORE_SQL_H_

// Internal to lib/idempotency: the SQL both backends share, so that the
// schema and every condition (who may change a record, what is due, what
// is settleable) are written once. Macros, so that the backends splice them
// into their statements at compile time.
//
// Parameters are $1, $2, ... in both dialects (PostgreSQL numbers them;
// SQLite takes "$1" as a parameter name, and sqlite_statement.h binds by
// that name). Each statement documents its parameters; a backend binds the
// same values in the same order.
//
// What the dialects force apart stays in the backends: PostgreSQL changes
// a record and its attempt rows in one statement (data-modifying WITH),
// SQLite runs the same two changes inside BEGIN IMMEDIATE; PostgreSQL locks
// with FOR UPDATE SKIP LOCKED; column types (bytea / BLOB).

#include "lib/idempotency/store_encoding.h"

// clang-format off

// absl::InfinitePast() as stored (the int64 minimum, written so that no
// dialect parses an out-of-range literal).
#define PAYMENTS_SQL_PAST "(-9223372036854775807 - 1)"

#define PAYMENTS_SQL_OPEN_STATES                                              \
  "state IN (" PAYMENTS_SQL_STATE(PENDING) ", " PAYMENTS_SQL_STATE(           \
      SENT) ", " PAYMENTS_SQL_STATE(UNKNOWN) ")"
#define PAYMENTS_SQL_FREE_STATES                                              \
  "state IN (" PAYMENTS_SQL_STATE(FAILED) ", " PAYMENTS_SQL_STATE(            \
      SETTLED_NOT_CREATED) ")"

// ---------------------------------------------------------------------------
// Schema version bookkeeping: one row, the last migration applied.

#define PAYMENTS_SQL_CREATE_SCHEMA_VERSION                                    \
  "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)"
#define PAYMENTS_SQL_SELECT_SCHEMA_VERSION                                    \
  "SELECT max(version) FROM schema_version"
#define PAYMENTS_SQL_DELETE_SCHEMA_VERSION "DELETE FROM schema_version"
#define PAYMENTS_SQL_INSERT_SCHEMA_VERSION                                    \
  "INSERT INTO schema_version (version) VALUES ($1)"

// ---------------------------------------------------------------------------
// Schema migration 2 (the operation journal). TEXT is the type of text
// columns (PostgreSQL: text COLLATE "C", so that both order keys bytewise),
// BYTES that of the result.

#define PAYMENTS_SQL_CREATE_OPERATIONS(TEXT, BYTES)                           \
  "CREATE TABLE operations ("                                                 \
  " kind " TEXT " NOT NULL,"                                                  \
  " account " TEXT " NOT NULL,"                                               \
  " reference " TEXT " NOT NULL,"                                             \
  " fingerprint " TEXT " NOT NULL,"                                           \
  " params " TEXT " NOT NULL,"                                                \
  " state " TEXT " NOT NULL CHECK (state IN (" PAYMENTS_SQL_STATE(            \
      PENDING) ", " PAYMENTS_SQL_STATE(SENT) ", " PAYMENTS_SQL_STATE(UNKNOWN) \
      ", " PAYMENTS_SQL_STATE(SUCCEEDED) ", " PAYMENTS_SQL_STATE(FAILED)      \
      ", " PAYMENTS_SQL_STATE(SETTLED_NOT_CREATED) ")),"                      \
  " owner " TEXT " NOT NULL,"                                                 \
  " version bigint NOT NULL,"                                                 \
  " lease_expires_at bigint NOT NULL,"                                        \
  " key_id " TEXT " NOT NULL,"                                                \
  " attempts bigint NOT NULL,"                                                \
  " sent_at bigint NOT NULL,"                                                 \
  " ended_at bigint NOT NULL,"                                                \
  " dojo_id " TEXT " NOT NULL,"                                               \
  " result " BYTES " NOT NULL,"                                               \
  " created_at bigint NOT NULL,"                                              \
  " expires_at bigint NOT NULL,"                                              \
  " next_check_at bigint NOT NULL,"                                           \
  " claimed_by " TEXT " NOT NULL,"                                            \
  " claim_expires_at bigint NOT NULL,"                                        \
  " updated_at bigint NOT NULL,"                                              \
  " PRIMARY KEY (kind, account, reference))"
#define PAYMENTS_SQL_INDEX_OPERATIONS_EXPIRY                                  \
  "CREATE INDEX operations_expires_at ON operations (expires_at)"
// The reconciler's due query (ClaimDue) and SummarizeUnknown scan only the
// open records, through this partial index (their WHERE repeats its
// condition word for word, which SQLite needs to use it).
#define PAYMENTS_SQL_INDEX_OPERATIONS_DUE                                     \
  "CREATE INDEX operations_due ON operations (next_check_at)"                 \
  " WHERE " PAYMENTS_SQL_OPEN_STATES
// outcome: '' while the attempt is in flight, else the state it ended in.
#define PAYMENTS_SQL_CREATE_OPERATION_ATTEMPTS(TEXT)                          \
  "CREATE TABLE operation_attempts ("                                         \
  " kind " TEXT " NOT NULL,"                                                  \
  " account " TEXT " NOT NULL,"                                               \
  " reference " TEXT " NOT NULL,"                                             \
  " number bigint NOT NULL,"                                                  \
  " sent_at bigint NOT NULL,"                                                 \
  " ended_at bigint NOT NULL,"                                                \
  " outcome " TEXT " NOT NULL CHECK (outcome IN (''"                          \
  ", " PAYMENTS_SQL_STATE(SUCCEEDED) ", " PAYMENTS_SQL_STATE(FAILED)          \
  ", " PAYMENTS_SQL_STATE(UNKNOWN) ", " PAYMENTS_SQL_STATE(                   \
      SETTLED_NOT_CREATED) ")),"                                              \
  " PRIMARY KEY (kind, account, reference, number))"

// Moves every schema-1 record (creates by account and reference) into the
// journal: completed -> succeeded, in_flight -> sent (its lease kept: the
// owner may still finish it, or it is abandoned), unknown -> unknown (due
// at once). Each had one attempt window, from attempt_started_at (the
// first attempt) to its last change (updated_at); dojo_id stays '' (the
// result holds the intent), key_id '' (not yet bound) and params '' (schema
// 1 kept only a hash of the parameters). A state outside
// the three makes the CASE NULL and the migration fail.
#define PAYMENTS_SQL_V1_ENDED_AT                                              \
  "CASE state WHEN 'in_flight' THEN " PAYMENTS_SQL_PAST                       \
  " WHEN 'completed' THEN updated_at WHEN 'unknown' THEN updated_at END"
#define PAYMENTS_SQL_MOVE_V1_OPERATIONS                                       \
  "INSERT INTO operations (" PAYMENTS_RECORD_COLUMNS ", updated_at)"          \
  " SELECT " PAYMENTS_SQL_KIND(CREATE) ", account, reference, fingerprint,"   \
  " '',"                                                                      \
  " CASE state WHEN 'completed' THEN " PAYMENTS_SQL_STATE(SUCCEEDED)          \
  " WHEN 'in_flight' THEN " PAYMENTS_SQL_STATE(SENT)                          \
  " WHEN 'unknown' THEN " PAYMENTS_SQL_STATE(UNKNOWN) " END,"                 \
  " owner, version, lease_expires_at, '', 1, attempt_started_at, "            \
  PAYMENTS_SQL_V1_ENDED_AT ", '', result, created_at, expires_at,"            \
  " CASE state WHEN 'unknown' THEN updated_at ELSE " PAYMENTS_SQL_PAST        \
  " END, '', " PAYMENTS_SQL_PAST ", updated_at FROM idempotency_records"
#define PAYMENTS_SQL_MOVE_V1_ATTEMPTS                                         \
  "INSERT INTO operation_attempts"                                            \
  " (kind, account, reference, number, sent_at, ended_at, outcome)"           \
  " SELECT " PAYMENTS_SQL_KIND(CREATE) ", account, reference, 1,"             \
  " attempt_started_at, " PAYMENTS_SQL_V1_ENDED_AT ","                        \
  " CASE state WHEN 'in_flight' THEN ''"                                      \
  " WHEN 'completed' THEN " PAYMENTS_SQL_STATE(SUCCEEDED)                     \
  " WHEN 'unknown' THEN " PAYMENTS_SQL_STATE(UNKNOWN) " END"                  \
  " FROM idempotency_records"
#define PAYMENTS_SQL_DROP_V1 "DROP TABLE idempotency_records"

// Migration 2 as a list of statements, run in order in one transaction.
#define PAYMENTS_SQL_MIGRATION_2(TEXT, BYTES)                                 \
  PAYMENTS_SQL_CREATE_OPERATIONS(TEXT, BYTES),                                \
      PAYMENTS_SQL_INDEX_OPERATIONS_EXPIRY, PAYMENTS_SQL_INDEX_OPERATIONS_DUE, \
      PAYMENTS_SQL_CREATE_OPERATION_ATTEMPTS(TEXT),                           \
      PAYMENTS_SQL_MOVE_V1_OPERATIONS, PAYMENTS_SQL_MOVE_V1_ATTEMPTS,         \
      PAYMENTS_SQL_DROP_V1

// ---------------------------------------------------------------------------
// Statements on one operation: $1 kind, $2 account, $3 reference.

#define PAYMENTS_SQL_KEY "kind = $1 AND account = $2 AND reference = $3"
#define PAYMENTS_SQL_SELECT_RECORD                                            \
  "SELECT " PAYMENTS_RECORD_COLUMNS " FROM operations WHERE " PAYMENTS_SQL_KEY
#define PAYMENTS_SQL_LIST_ATTEMPTS                                            \
  "SELECT " PAYMENTS_ATTEMPT_COLUMNS " FROM operation_attempts"               \
  " WHERE " PAYMENTS_SQL_KEY " ORDER BY number"
#define PAYMENTS_SQL_DELETE_ATTEMPTS                                          \
  "DELETE FROM operation_attempts WHERE " PAYMENTS_SQL_KEY

// Reserve: $4 fingerprint, $5 params, $6 key_id, $7 owner, $8 now, $9
// lease expiry, $10 record expiry, $11 the empty result. A fresh kPending
// record; the version continues (the INSERT starts it at 1), attempts are
// kept.
#define PAYMENTS_SQL_FRESH_RECORD                                             \
  "fingerprint = $4, params = $5, state = " PAYMENTS_SQL_STATE(PENDING)       \
  ", owner = $7, version = operations.version + 1, lease_expires_at = $9,"    \
  " key_id = $6, sent_at = " PAYMENTS_SQL_PAST                                \
  ", ended_at = " PAYMENTS_SQL_PAST ", dojo_id = '', result = $11,"           \
  " created_at = $8, expires_at = $10, next_check_at = " PAYMENTS_SQL_PAST    \
  ", claimed_by = '', claim_expires_at = " PAYMENTS_SQL_PAST                  \
  ", updated_at = $8"
// Inserts a record, or replaces an expired one; no row back if a live
// record is there. The caller deletes the key's attempt rows when a row
// comes back (an expired record's history goes with it).
#define PAYMENTS_SQL_RESERVE_ABSENT_OR_EXPIRED                                \
  "INSERT INTO operations (" PAYMENTS_RECORD_COLUMNS ", updated_at)"          \
  " VALUES ($1, $2, $3, $4, $5, " PAYMENTS_SQL_STATE(PENDING) ", $7, 1, $9,"  \
  " $6, 0, " PAYMENTS_SQL_PAST ", " PAYMENTS_SQL_PAST ", '', $11, $8, $10, "  \
  PAYMENTS_SQL_PAST ", '', " PAYMENTS_SQL_PAST ", $8)"                        \
  " ON CONFLICT (kind, account, reference) DO UPDATE SET "                    \
  PAYMENTS_SQL_FRESH_RECORD " WHERE operations.expires_at <= $8"              \
  " RETURNING " PAYMENTS_RECORD_COLUMNS
// Replaces a live free record (its attempt rows stay; numbering goes on).
#define PAYMENTS_SQL_RESERVE_FREE                                             \
  "UPDATE operations SET " PAYMENTS_SQL_FRESH_RECORD                          \
  " WHERE " PAYMENTS_SQL_KEY " AND " PAYMENTS_SQL_FREE_STATES                 \
  " AND expires_at > $8 RETURNING " PAYMENTS_RECORD_COLUMNS

// The owner's transitions: $4 owner, $5 now. Each returns the row the
// attempt change below joins with (as `op`).
#define PAYMENTS_SQL_CHANGED_OP " RETURNING kind, account, reference, attempts"
#define PAYMENTS_SQL_OWNED_BY " WHERE " PAYMENTS_SQL_KEY " AND owner = $4 AND "
#define PAYMENTS_SQL_MARK_SENT                                                \
  "UPDATE operations SET state = " PAYMENTS_SQL_STATE(SENT) ","               \
  " version = version + 1, attempts = attempts + 1, sent_at = $5,"            \
  " ended_at = " PAYMENTS_SQL_PAST ", updated_at = $5" PAYMENTS_SQL_OWNED_BY  \
  "state = " PAYMENTS_SQL_STATE(PENDING) " AND expires_at > $5"               \
  PAYMENTS_SQL_CHANGED_OP ", sent_at"
// Also $6 dojo_id, $7 result.
#define PAYMENTS_SQL_SUCCEED                                                  \
  "UPDATE operations SET state = " PAYMENTS_SQL_STATE(SUCCEEDED) ","          \
  " dojo_id = $6, result = $7, ended_at = $5, version = version + 1,"         \
  " updated_at = $5" PAYMENTS_SQL_OWNED_BY "state = " PAYMENTS_SQL_STATE(     \
      SENT) PAYMENTS_SQL_CHANGED_OP
#define PAYMENTS_SQL_MARK_UNKNOWN                                             \
  "UPDATE operations SET state = " PAYMENTS_SQL_STATE(UNKNOWN) ","            \
  " ended_at = $5, next_check_at = $5, version = version + 1,"                \
  " updated_at = $5" PAYMENTS_SQL_OWNED_BY "state = " PAYMENTS_SQL_STATE(     \
      SENT) PAYMENTS_SQL_CHANGED_OP
#define PAYMENTS_SQL_FAIL                                                     \
  "UPDATE operations SET state = " PAYMENTS_SQL_STATE(FAILED) ","             \
  " ended_at = $5, version = version + 1, updated_at = $5"                    \
  PAYMENTS_SQL_OWNED_BY "state IN (" PAYMENTS_SQL_STATE(PENDING) ", "         \
  PAYMENTS_SQL_STATE(SENT) ")" PAYMENTS_SQL_CHANGED_OP

// Settlement: $4 expected version, $5 now. A kUnknown record, or a
// kPending/kSent one whose lease lapsed; not expired. Settling clears the
// owner (a late transition by the old owner then fails) and the claim.
#define PAYMENTS_SQL_SETTLEABLE                                               \
  " WHERE " PAYMENTS_SQL_KEY " AND version = $4 AND expires_at > $5 AND"      \
  " (state = " PAYMENTS_SQL_STATE(UNKNOWN) " OR (state IN ("                  \
  PAYMENTS_SQL_STATE(PENDING) ", " PAYMENTS_SQL_STATE(SENT) ")"               \
  " AND lease_expires_at <= $5))"
#define PAYMENTS_SQL_SETTLED                                                  \
  " owner = '', ended_at = CASE WHEN ended_at = " PAYMENTS_SQL_PAST           \
  " THEN $5 ELSE ended_at END, version = version + 1, claimed_by = '',"       \
  " claim_expires_at = " PAYMENTS_SQL_PAST ", updated_at = $5"
// Also $6 dojo_id, $7 result.
#define PAYMENTS_SQL_RESOLVE                                                  \
  "UPDATE operations SET state = " PAYMENTS_SQL_STATE(SUCCEEDED) ","          \
  " dojo_id = $6, result = $7," PAYMENTS_SQL_SETTLED                          \
  PAYMENTS_SQL_SETTLEABLE PAYMENTS_SQL_CHANGED_OP
#define PAYMENTS_SQL_SETTLE_NOT_CREATED                                       \
  "UPDATE operations SET state = " PAYMENTS_SQL_STATE(SETTLED_NOT_CREATED)    \
  "," PAYMENTS_SQL_SETTLED PAYMENTS_SQL_SETTLEABLE PAYMENTS_SQL_CHANGED_OP

// Ends the current attempt (the row numbered `op.attempts`, if it is still
// open: '' in flight or 'unknown') in OUTCOME at $5 (unless it had already
// ended). SOURCE provides `op`: the changed row (PostgreSQL) or the record
// read again (SQLite). A kPending record's last row belongs to an earlier,
// closed attempt and is left alone.
#define PAYMENTS_SQL_END_ATTEMPT(SOURCE, OUTCOME)                             \
  "UPDATE operation_attempts AS a SET outcome = " OUTCOME ","                 \
  " ended_at = CASE WHEN a.ended_at = " PAYMENTS_SQL_PAST                     \
  " THEN $5 ELSE a.ended_at END FROM " SOURCE                                 \
  " WHERE a.kind = op.kind AND a.account = op.account"                        \
  " AND a.reference = op.reference AND a.number = op.attempts"                \
  " AND a.outcome IN ('', " PAYMENTS_SQL_STATE(UNKNOWN) ")"
// Adds the attempt MarkSent opened (numbered by the new `attempts`, sent
// at the new `sent_at`). A leftover row with that number (none is
// expected) is replaced rather than blocking every future attempt.
#define PAYMENTS_SQL_OPEN_ATTEMPT(SOURCE)                                     \
  "INSERT INTO operation_attempts"                                            \
  " (kind, account, reference, number, sent_at, ended_at, outcome)"           \
  " SELECT kind, account, reference, attempts, sent_at, " PAYMENTS_SQL_PAST   \
  ", '' FROM " SOURCE                                                         \
  " ON CONFLICT (kind, account, reference, number) DO UPDATE SET"             \
  " sent_at = excluded.sent_at, ended_at = excluded.ended_at,"                \
  " outcome = excluded.outcome"

// Reschedule: $4 expected version, $5 next_check_at. Without a clock it
// cannot tell an abandoned kPending/kSent from a live one; the version
// does (a lease never moves without the version moving).
#define PAYMENTS_SQL_RESCHEDULE                                               \
  "UPDATE operations SET next_check_at = $5, version = version + 1,"          \
  " claimed_by = '', claim_expires_at = " PAYMENTS_SQL_PAST " WHERE "         \
  PAYMENTS_SQL_KEY " AND version = $4 AND " PAYMENTS_SQL_OPEN_STATES
// Rebind: $4 expected version, $5 key_id. Any state; the claim stays.
#define PAYMENTS_SQL_REBIND                                                   \
  "UPDATE operations SET key_id = $5, version = version + 1"                  \
  " WHERE " PAYMENTS_SQL_KEY " AND version = $4"

// ---------------------------------------------------------------------------
// Statements over all operations: $1 now.

// Due for reconciliation and not claimed (see ClaimDue).
#define PAYMENTS_SQL_DUE                                                      \
  PAYMENTS_SQL_OPEN_STATES " AND next_check_at <= $1 AND (state = "           \
  PAYMENTS_SQL_STATE(UNKNOWN) " OR lease_expires_at <= $1)"                   \
  " AND expires_at > $1 AND claim_expires_at <= $1"
// ClaimDue: $2 claimer, $3 claim expiry, $4 limit. LOCK: how the dialect
// makes concurrent claimers skip each other's rows. The candidates are
// chosen once (MATERIALIZED: PostgreSQL would otherwise run an IN subquery
// again for each row, and a row locked by this very statement does not
// count against its LIMIT, so it claimed more than `limit`); the UPDATE
// checks again what a concurrent change may have altered.
#define PAYMENTS_SQL_CLAIM_DUE(LOCK)                                          \
  "WITH due AS MATERIALIZED (SELECT kind, account, reference"                 \
  " FROM operations WHERE " PAYMENTS_SQL_DUE                                  \
  " ORDER BY next_check_at, lease_expires_at, kind, account, reference"       \
  " LIMIT $4" LOCK ")"                                                        \
  " UPDATE operations SET claimed_by = $2, claim_expires_at = $3"             \
  " WHERE (kind, account, reference) IN"                                      \
  " (SELECT kind, account, reference FROM due) AND " PAYMENTS_SQL_DUE         \
  " RETURNING " PAYMENTS_RECORD_COLUMNS
// SummarizeUnknown: per kind, the count and oldest end of kUnknown and
// abandoned kSent records.
#define PAYMENTS_SQL_SUMMARIZE_UNKNOWN                                        \
  "SELECT kind, count(*), min(CASE WHEN state = " PAYMENTS_SQL_STATE(         \
      UNKNOWN) " THEN ended_at ELSE lease_expires_at END) FROM operations"    \
  " WHERE " PAYMENTS_SQL_OPEN_STATES " AND (state = "                         \
  PAYMENTS_SQL_STATE(UNKNOWN) " OR (state = " PAYMENTS_SQL_STATE(SENT)        \
  " AND lease_expires_at <= $1)) AND expires_at > $1 GROUP BY kind"

// clang-format on

#endif  // LIB_IDEMPOTENCY_STORE_SQL_H_
