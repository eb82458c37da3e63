#ifndef LIB_IDEMPOTENCY_STORE_ENCODING_H_
#define LIB_IDEMPOTENCY_STORE_ENCODING_H_

// Internal to lib/idempotency: how both backends encode records, so that
// SQLite and PostgreSQL store exactly the same values, what both report
// when a change finds its record changed, and how ValidatingStore checks
// arguments for both.
//
// Times are stored as int64 Unix microseconds; absl::InfinitePast() and
// absl::InfiniteFuture() map to the int64 minimum and maximum. States are
// stored as short text ("in_flight", "completed", "unknown") so that an
// operator reading the table understands it.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/idempotency/idempotency_store.h"

// The columns of a Record, in the order both backends read them. A macro so
// that statements can splice it into string literals at compile time.
#define PAYMENTS_RECORD_COLUMNS                              \
  "account, reference, fingerprint, state, owner, version, " \
  "lease_expires_at, attempt_started_at, result, created_at, expires_at"

namespace payments::idempotency::internal {

// The schema version this code creates and understands.
inline constexpr int kSchemaVersion = 1;

int64_t TimeToMicros(absl::Time t);
absl::Time MicrosToTime(int64_t micros);

const char* StateName(RecordState state);
std::optional<RecordState> ParseState(const std::string& name);

// INVALID_ARGUMENT unless `text` is valid UTF-8 without NUL bytes (what a
// PostgreSQL text column accepts; SQLite is held to the same rule so that
// both backends behave alike) and, unless `allow_empty`, not empty.
absl::Status ValidateText(const std::string& text, const char* what,
                          bool allow_empty = false);
// INVALID_ARGUMENT unless the key has a reference (the account may be empty:
// the default account) and both are valid text.
absl::Status ValidateKey(const Key& key);
// INVALID_ARGUMENT for an empty or invalid owner.
absl::Status ValidateOwner(const std::string& owner);
// INVALID_ARGUMENT unless `d` is positive (infinite is allowed).
absl::Status ValidatePositive(absl::Duration d, const char* what);
// All of the above for Reserve.
absl::Status ValidateReserve(const Key& key, const std::string& fingerprint,
                             const std::string& owner, absl::Duration lease,
                             absl::Duration retention);

// When a record reserved or taken over at `now` expires: never before its
// lease ends, so a record is not reaped while someone works on it.
absl::Time ExpiryFor(absl::Time now, absl::Duration lease,
                     absl::Duration retention);

// FAILED_PRECONDITION for an `operation` ("complete", ...) whose record
// changed, is gone or has another owner.
absl::Status Conflict(const char* operation);

// For a change by `owner` that matched no row: `reread` is the record read
// again afterwards. Returns its error if the read failed; OK if the record
// shows the change already made, as when an UNAVAILABLE hid a change that
// did happen (the record is in `state`, held by `owner` and, when
// `version` is set, at that version; or, when `state` is not set, the
// record is gone); otherwise Conflict(operation).
absl::Status AlreadyDoneOrConflict(
    const absl::StatusOr<std::optional<Record>>& reread, const char* operation,
    const std::string& owner, std::optional<RecordState> state,
    std::optional<int64_t> version = std::nullopt);

}  // namespace payments::idempotency::internal

#endif  // LIB_IDEMPOTENCY_STORE_ENCODING_H_
