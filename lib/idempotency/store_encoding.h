#ifndef LIB_IDEMPOTENCY_STORE_ENCODING_H_
#define LIB_IDEMPOTENCY_STORE_ENCODING_H_

// Internal to lib/idempotency: how both backends encode operations, so that
// SQLite and PostgreSQL store exactly the same values, what both report
// when a change finds its record changed, and how ValidatingStore checks
// arguments for both.
//
// Times are stored as int64 Unix microseconds; absl::InfinitePast() and
// absl::InfiniteFuture() map to the int64 minimum and maximum. Kinds and
// states are stored as short text ("create", "pending", ...) so that an
// operator reading the tables understands them; the names are defined once
// here, for the C++ code and for the SQL (store_sql.h).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/idempotency/idempotency_store.h"

// Stored names of the states (RecordState) and kinds (OperationKind).
// Macros so that SQL statements can splice them in at compile time.
#define PAYMENTS_STATE_NAME_PENDING "pending"
#define PAYMENTS_STATE_NAME_SENT "sent"
#define PAYMENTS_STATE_NAME_UNKNOWN "unknown"
#define PAYMENTS_STATE_NAME_SUCCEEDED "succeeded"
#define PAYMENTS_STATE_NAME_FAILED "failed"
#define PAYMENTS_STATE_NAME_SETTLED_NOT_CREATED "settled_not_created"
#define PAYMENTS_KIND_NAME_CREATE "create"
#define PAYMENTS_KIND_NAME_CAPTURE "capture"
#define PAYMENTS_KIND_NAME_REFUND "refund"
#define PAYMENTS_KIND_NAME_REVERSAL "reversal"
#define PAYMENTS_KIND_NAME_CANCEL "cancel"
#define PAYMENTS_KIND_NAME_INTENT_LOCK "intent_lock"

// The SQL literal of a state: PAYMENTS_SQL_STATE(PENDING) is 'pending'.
#define PAYMENTS_SQL_STATE(NAME) "'" PAYMENTS_STATE_NAME_##NAME "'"
// The SQL literal of a kind: PAYMENTS_SQL_KIND(CREATE) is 'create'.
#define PAYMENTS_SQL_KIND(NAME) "'" PAYMENTS_KIND_NAME_##NAME "'"

// The columns of a Record, in the order both backends read them
// (DecodeRecord). The tables also have updated_at (the `now` of the last
// change that had one), which Record does not carry.
#define PAYMENTS_RECORD_COLUMNS                                      \
  "kind, account, reference, fingerprint, params, state, owner, "    \
  "version, lease_expires_at, key_id, attempts, sent_at, ended_at, " \
  "dojo_id, result, created_at, expires_at, next_check_at, "         \
  "claimed_by, claim_expires_at"
// The columns of an Attempt as ListAttempts reads them (DecodeAttempt).
#define PAYMENTS_ATTEMPT_COLUMNS "number, sent_at, ended_at, outcome"

namespace payments::idempotency::internal {

// The schema version this code creates and understands.
inline constexpr int kSchemaVersion = 2;

int64_t TimeToMicros(absl::Time t);
absl::Time MicrosToTime(int64_t micros);

const char* StateName(RecordState state);
std::optional<RecordState> ParseState(const std::string& name);
// nullptr for a value outside the enum.
const char* KindName(OperationKind kind);
std::optional<OperationKind> ParseKind(const std::string& name);

// INVALID_ARGUMENT unless `text` is valid UTF-8 without NUL bytes (what a
// PostgreSQL text column accepts; SQLite is held to the same rule so that
// both backends behave alike) and, unless `allow_empty`, not empty.
absl::Status ValidateText(const std::string& text, const char* what,
                          bool allow_empty = false);
// INVALID_ARGUMENT unless the key has a known kind and a reference (the
// account may be empty: the default account) and both are valid text.
absl::Status ValidateKey(const Key& key);
// INVALID_ARGUMENT for an empty or invalid owner.
absl::Status ValidateOwner(const std::string& owner);
// INVALID_ARGUMENT for an invalid key id; empty (not yet bound) only when
// `allow_empty` (Reserve; Rebind binds to a real key).
absl::Status ValidateKeyId(const std::string& key_id, bool allow_empty);
// INVALID_ARGUMENT for an invalid Dojo id (empty is allowed: an effect
// without an id of its own).
absl::Status ValidateDojoId(const std::string& dojo_id);
// INVALID_ARGUMENT unless `d` is positive (infinite is allowed).
absl::Status ValidatePositive(absl::Duration d, const char* what);
// All of the above for Reserve.
absl::Status ValidateReserve(const Key& key, const std::string& fingerprint,
                             const std::string& params,
                             const std::string& key_id,
                             const std::string& owner, absl::Duration lease,
                             absl::Duration retention);
// For ClaimDue: a non-empty valid claimer, a positive claim lease and a
// limit of at least 1.
absl::Status ValidateClaim(const std::string& claimer,
                           absl::Duration claim_lease, int limit);

// When a record reserved at `now` expires: never before its lease ends, so
// a record is not reaped while its owner works on it.
absl::Time ExpiryFor(absl::Time now, absl::Duration lease,
                     absl::Duration retention);

// Whether `record` is the fresh kPending record that Reserve with these
// arguments makes: a Reserve repeated by its owner (after an UNAVAILABLE
// whose change did happen) acquires again.
bool IsOwnersFreshRecord(const Record& record, const std::string& fingerprint,
                         const std::string& params, const std::string& key_id,
                         const std::string& owner);

// FAILED_PRECONDITION for an `operation` ("mark sent", ...) whose record
// changed, is gone or has another owner.
absl::Status Conflict(const char* operation);

// For an owner's transition to `state` that matched no row: `reread` is the
// record read again afterwards. Returns its error if the read failed; OK if
// the record is in `state` and held by `owner`, i.e. the change was already
// made (as when an UNAVAILABLE hid a change that did happen; settlement
// clears the owner, so a record settled meanwhile does not pass);
// otherwise Conflict(operation).
absl::Status AlreadyDoneOrConflict(
    const absl::StatusOr<std::optional<Record>>& reread, const char* operation,
    const std::string& owner, RecordState state);

// Sorts claimed records into ClaimDue's order: next_check_at, then
// lease_expires_at, then kind name, account and reference (bytewise, as
// the SQL orders them).
void SortForClaim(std::vector<Record>& records);

// INTERNAL unless `version` (the schema_version row, if any) is at least
// kSchemaVersion: Migrate has not been run by this release yet.
absl::Status CheckSchemaVersion(std::optional<int64_t> version);

// Sorts SummarizeUnknown's entries by kind (in the enum's order).
void SortSummaries(std::vector<UnknownSummary>& summaries);

// A Record from a row of PAYMENTS_RECORD_COLUMNS. `Row` reads column i:
//   absl::StatusOr<std::string> Text(int i) const;
//   absl::StatusOr<int64_t> Int(int i) const;
//   absl::StatusOr<std::string> Bytes(int i) const;
template <typename Row>
absl::StatusOr<Record> DecodeRecord(const Row& row);
// An Attempt from a row of PAYMENTS_ATTEMPT_COLUMNS.
template <typename Row>
absl::StatusOr<Attempt> DecodeAttempt(const Row& row);

// An UnknownSummary from a row of (kind, count, oldest).
template <typename Row>
absl::StatusOr<UnknownSummary> DecodeUnknownSummary(const Row& row);

// Implementation details of the templates.
namespace decode {
template <typename Row>
absl::Status Text(const Row& row, int column, std::string& out) {
  absl::StatusOr<std::string> value = row.Text(column);
  if (!value.ok()) return value.status();
  out = *std::move(value);
  return absl::OkStatus();
}
template <typename Row>
absl::Status Int(const Row& row, int column, int64_t& out) {
  absl::StatusOr<int64_t> value = row.Int(column);
  if (!value.ok()) return value.status();
  out = *value;
  return absl::OkStatus();
}
template <typename Row>
absl::Status Time(const Row& row, int column, absl::Time& out) {
  int64_t micros = 0;
  if (absl::Status s = Int(row, column, micros); !s.ok()) return s;
  out = MicrosToTime(micros);
  return absl::OkStatus();
}
}  // namespace decode

template <typename Row>
absl::StatusOr<Record> DecodeRecord(const Row& row) {
  Record r;
  std::string kind, state;
  absl::StatusOr<std::string> result = row.Bytes(14);
  if (!result.ok()) return result.status();
  r.result = *std::move(result);
  for (absl::Status s : {
           decode::Text(row, 0, kind),
           decode::Text(row, 1, r.key.account),
           decode::Text(row, 2, r.key.reference),
           decode::Text(row, 3, r.fingerprint),
           decode::Text(row, 4, r.params),
           decode::Text(row, 5, state),
           decode::Text(row, 6, r.owner),
           decode::Int(row, 7, r.version),
           decode::Time(row, 8, r.lease_expires_at),
           decode::Text(row, 9, r.key_id),
           decode::Int(row, 10, r.attempts),
           decode::Time(row, 11, r.sent_at),
           decode::Time(row, 12, r.ended_at),
           decode::Text(row, 13, r.dojo_id),
           decode::Time(row, 15, r.created_at),
           decode::Time(row, 16, r.expires_at),
           decode::Time(row, 17, r.next_check_at),
           decode::Text(row, 18, r.claimed_by),
           decode::Time(row, 19, r.claim_expires_at),
       }) {
    if (!s.ok()) return s;
  }
  std::optional<OperationKind> parsed_kind = ParseKind(kind);
  std::optional<RecordState> parsed_state = ParseState(state);
  if (!parsed_kind.has_value() || !parsed_state.has_value()) {
    return absl::InternalError(
        "idempotency record has an unknown kind or state");
  }
  r.key.kind = *parsed_kind;
  r.state = *parsed_state;
  return r;
}

template <typename Row>
absl::StatusOr<Attempt> DecodeAttempt(const Row& row) {
  Attempt a;
  for (absl::Status s : {
           decode::Int(row, 0, a.number),
           decode::Time(row, 1, a.sent_at),
           decode::Time(row, 2, a.ended_at),
           decode::Text(row, 3, a.outcome),
       }) {
    if (!s.ok()) return s;
  }
  return a;
}

template <typename Row>
absl::StatusOr<UnknownSummary> DecodeUnknownSummary(const Row& row) {
  UnknownSummary summary;
  std::string kind;
  for (absl::Status s : {
           decode::Text(row, 0, kind),
           decode::Int(row, 1, summary.count),
           decode::Time(row, 2, summary.oldest),
       }) {
    if (!s.ok()) return s;
  }
  std::optional<OperationKind> parsed_kind = ParseKind(kind);
  if (!parsed_kind.has_value()) {
    return absl::InternalError("idempotency record has an unknown kind");
  }
  summary.kind = *parsed_kind;
  return summary;
}

}  // namespace payments::idempotency::internal

#endif  // LIB_IDEMPOTENCY_STORE_ENCODING_H_
