#ifndef LIB_IDEMPOTENCY_IDEMPOTENCY_STORE_H_
#define LIB_IDEMPOTENCY_IDEMPOTENCY_STORE_H_

// Durable memory of creates by (account, reference) and of webhook events,
// shared by every replica that uses the same store. Two backends with
// identical behaviour: SQLite (embedded default, one replica) and PostgreSQL
// (several replicas).
//
// A record moves through these states:
//   (absent) --Reserve--> kInFlight --Complete--> kCompleted
//                             |  \--MarkUnknown--> kUnknown --TakeOver-->
//                             kInFlight
//                             \--Release--> (absent)
// A kInFlight record whose lease has expired (its owner died or hung) may be
// taken over like a kUnknown one: whoever takes it over must reconcile with
// Dojo before creating anything.
//
// Every method is blocking (disk or network I/O): call it from a worker
// pool (worker_pool.h), never from a gRPC or event-loop thread.
// Implementations are thread-safe and bound every call in time (PostgreSQL:
// connect and statement timeouts), so a hung server cannot park a worker.
//
// Errors:
//   UNAVAILABLE          the store cannot be reached or failed (nothing was
//                        changed, or the change is unknown and the caller
//                        must not assume it happened). Messages are short and
//                        never contain credentials.
//   FAILED_PRECONDITION  a conditional update lost a race: the record is
//                        gone, changed, or held by another owner.
//   INVALID_ARGUMENT     empty reference, owner or fingerprint; non-positive
//                        lease or retention.
//   INTERNAL             the schema is missing (Migrate was not run) or the
//                        store holds something this code cannot read.
//
// Retrying after UNAVAILABLE is safe for the record methods: each one is
// idempotent for its owner (a repeated Reserve by the owner that already
// holds the fresh record acquires again; repeated Complete, MarkUnknown,
// Release and TakeOver by the owner that already did them succeed).
// RememberEvent is not: a repeat after an unknown outcome may report the
// event as already seen.
//
// Times are the caller's `now` (the store never reads a clock), stored with
// microsecond precision; both backends store the same values.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace payments::idempotency {

struct Key {
  std::string account;
  std::string reference;
};

enum class RecordState { kInFlight, kCompleted, kUnknown };

struct Record {
  Key key;
  // Hash of the canonical business parameters (see fingerprint.h).
  std::string fingerprint;
  RecordState state = RecordState::kInFlight;
  // Who holds a kInFlight record (replica instance + call id).
  std::string owner;
  // Bumped on every change; conditional updates compare it. A fresh record
  // starts at 1; a record that replaces an expired one continues from the
  // old version, so a stale version never matches again.
  int64_t version = 0;
  // kInFlight: when the owner's claim lapses.
  absl::Time lease_expires_at = absl::InfinitePast();
  // When the record was first reserved, i.e. before the first attempt to
  // create at Dojo: the start of any reconciliation window. Never changes.
  absl::Time attempt_started_at = absl::InfinitePast();
  // kCompleted: the serialized result (a payments.v1.PaymentIntent).
  std::string result;
  absl::Time created_at = absl::InfinitePast();
  // Reaped after this: now + retention at Reserve (never before the lease
  // ends; TakeOver extends it to cover the new lease).
  absl::Time expires_at = absl::InfiniteFuture();
};

struct ReserveResult {
  // True: the caller now owns a fresh kInFlight record and may create.
  bool acquired = false;
  // When not acquired: the record as it stands (compare its fingerprint and
  // state). When acquired: the caller's fresh record (its version is what a
  // later TakeOver by someone else would compare).
  Record existing;
};

class IdempotencyStore {
 public:
  virtual ~IdempotencyStore() = default;

  // Creates the schema or migrates it to the current version. Idempotent;
  // safe to run from several replicas at once.
  virtual absl::Status Migrate() = 0;

  // Inserts a kInFlight record owned by `owner` if none exists for the key
  // (expired records, expires_at <= now, count as absent and are replaced).
  // Atomic across replicas: of concurrent callers exactly one acquires. A
  // live record is returned as it is, whatever its state or fingerprint; a
  // kInFlight one with an expired lease is not taken over here (see
  // TakeOver).
  virtual absl::StatusOr<ReserveResult> Reserve(
      const Key& key, const std::string& fingerprint, const std::string& owner,
      absl::Time now, absl::Duration lease, absl::Duration retention) = 0;

  // The record for `key`, if any (expired ones are absent).
  virtual absl::StatusOr<std::optional<Record>> Get(const Key& key,
                                                    absl::Time now) = 0;

  // Makes `owner` the holder of a record at `expected_version` that is
  // kUnknown or kInFlight with an expired lease: it becomes kInFlight with a
  // new lease and version; attempt_started_at is kept. FAILED_PRECONDITION
  // if the record changed meanwhile, is gone or expired, is kCompleted, or
  // is kInFlight with a live lease.
  virtual absl::Status TakeOver(const Key& key, int64_t expected_version,
                                const std::string& owner, absl::Time now,
                                absl::Duration lease) = 0;

  // Records the finished result (kInFlight -> kCompleted), even if the
  // owner's lease has lapsed, as long as nobody took the record over.
  // FAILED_PRECONDITION unless `owner` holds the kInFlight record.
  virtual absl::Status Complete(const Key& key, const std::string& owner,
                                const std::string& result, absl::Time now) = 0;

  // Keeps the record for reconciliation: the create may exist at Dojo
  // (kInFlight -> kUnknown). FAILED_PRECONDITION unless `owner` holds the
  // kInFlight record.
  virtual absl::Status MarkUnknown(const Key& key, const std::string& owner,
                                   absl::Time now) = 0;

  // Deletes the record after a definite failure (nothing was created).
  // FAILED_PRECONDITION unless `owner` holds the kInFlight record; OK if
  // the record is already gone.
  virtual absl::Status Release(const Key& key, const std::string& owner) = 0;

  // Deletes records and remembered events whose expiry has passed; returns
  // how many.
  virtual absl::StatusOr<int64_t> ReapExpired(absl::Time now) = 0;

  // Remembers a webhook event id. Returns nullopt if it is new (and is now
  // remembered until now + retention), else when it was first seen. An
  // expired event counts as new. Atomic across replicas: of concurrent
  // callers exactly one gets nullopt.
  virtual absl::StatusOr<std::optional<absl::Time>> RememberEvent(
      const std::string& event_id, absl::Time now,
      absl::Duration retention) = 0;

  // A cheap round trip, for readiness: OK when the store answers and the
  // schema exists.
  virtual absl::Status Ping() = 0;
};

// Opens the store named by PAYMENTS_STORE: "sqlite:<path>" or
// "postgresql://..." / "postgres://...". Does not migrate. A PostgreSQL
// store that cannot be reached yet still opens (it connects lazily and
// reports UNAVAILABLE until the server answers); a bad URL or an SQLite
// file that cannot be opened is INVALID_ARGUMENT.
absl::StatusOr<std::unique_ptr<IdempotencyStore>> OpenStore(
    const std::string& url);

}  // namespace payments::idempotency

#endif  // LIB_IDEMPOTENCY_IDEMPOTENCY_STORE_H_
