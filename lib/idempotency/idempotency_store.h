#ifndef LIB_IDEMPOTENCY_IDEMPOTENCY_STORE_H_
#define LIB_IDEMPOTENCY_IDEMPOTENCY_STORE_H_

// The operation journal: the single source of truth for the outcome of
// every money-moving call to Dojo (a create today; capture, refund, reversal
// and cancel fit the same rows), plus the memory of webhook events. Shared
// by every replica that uses the same store and durable across restarts.
// Two backends with identical behaviour: SQLite (embedded default, one
// replica) and PostgreSQL (several replicas).
//
// An operation, keyed by (kind, account, reference), moves through:
//
//   (absent | kFailed | kSettledNotCreated | expired)
//        --Reserve--> kPending --MarkSent--> kSent --Succeed--> kSucceeded
//                        |                    |  \--Fail-----> kFailed
//                        |                    \--MarkUnknown--> kUnknown
//                        \--Fail--> kFailed
//   kUnknown, or kPending/kSent whose owner's lease lapsed ("abandoned"):
//        --Resolve--> kSucceeded   (Dojo holds the effect: found)
//        --SettleNotCreated--> kSettledNotCreated
//                    (complete negative evidence after the settle period;
//                     or an abandoned kPending, which was never sent)
//        --Reschedule--> same state, later next_check_at
//
// The owner's transitions (MarkSent, Succeed, MarkUnknown, Fail) require the
// owner to hold the kPending/kSent record; settlement transitions (Resolve,
// SettleNotCreated, Reschedule, Rebind) compare the record's version, so a
// settlement never overwrites a change it did not see. MarkSent is committed
// before a request is sent: an operation that is not kSent was never sent
// in its current attempt.
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
//   INVALID_ARGUMENT     a kind outside OperationKind; empty reference,
//                        owner, fingerprint or claimer, or an empty key_id
//                        given to Rebind; text that is not UTF-8 or holds
//                        NUL; non-positive lease, retention or claim lease;
//                        limit < 1.
//   INTERNAL             the schema is missing or older than this release's
//                        (Migrate was not run) or the store holds something
//                        this code cannot read.
//
// Retrying after UNAVAILABLE is safe for the owner's transitions: each one
// is idempotent for its owner (a repeated Reserve by the owner that already
// holds the fresh record acquires again; a repeated MarkSent, Succeed,
// MarkUnknown or Fail by the owner that already did it succeeds, as long as
// the record still shows it: a settlement clears the owner). A settlement
// transition repeated after an UNAVAILABLE that hid its success
// reports FAILED_PRECONDITION (the version moved): re-read the record.
// RememberEvent is not idempotent: a repeat after an unknown outcome may
// report the event as already seen.
//
// Times are the caller's `now` (the store never reads a clock), stored with
// microsecond precision; both backends store the same values.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace payments::idempotency {

// What a journaled operation does at Dojo. Stored as text ("create", ...).
// kIntentLock is not a Dojo call: it serialises the money-moving operations
// on one intent (held from before its precondition check until the
// operation it guards is settled; its params name that operation).
enum class OperationKind {
  kCreate,
  kCapture,
  kRefund,
  kReversal,
  kCancel,
  kIntentLock,
};

struct Key {
  OperationKind kind = OperationKind::kCreate;
  // The configured account name ("" is the default account).
  std::string account;
  // The operation's idempotency key: the merchant reference of a create;
  // "<intent id>/<capture or refund key>" of a capture or refund; the intent
  // id of a cancel, reversal or intent lock.
  std::string reference;
};

enum class RecordState {
  kPending,            // reserved by its owner; nothing sent in this attempt
  kSent,               // the owner is sending (or sent) the current attempt
  kUnknown,            // the attempt may have reached Dojo: to be reconciled
  kSucceeded,          // Dojo holds the effect; `result` has it
  kFailed,             // Dojo refused it, or it was never sent: key is free
  kSettledNotCreated,  // reconciled as absent after the settle period: free
};

struct Record {
  Key key;
  // Versioned hash of the canonical business parameters ("v1:<hex>", see
  // fingerprint.h).
  std::string fingerprint;
  // What the reconciler matches Dojo's state against, as text, set by
  // Reserve (a create: "<amount value> <currency>", e.g. "1000 GBP"). Never
  // a secret. Empty for a record migrated from schema 1, which kept only the
  // fingerprint: such a record can be matched by its reference alone.
  std::string params;
  RecordState state = RecordState::kPending;
  // Who holds a kPending/kSent record (replica instance + call id). Kept
  // through the owner's own transitions (so that their repeats are
  // recognised); cleared ("") by Resolve and SettleNotCreated, after which
  // the old owner's transitions fail.
  std::string owner;
  // Bumped on every change except claims; settlement transitions compare it.
  // A fresh record starts at 1; a record that replaces a free or expired one
  // continues from the old version, so a stale version never matches again.
  int64_t version = 0;
  // kPending/kSent: when the owner's claim lapses. Set by Reserve only: it
  // never moves without the version moving.
  absl::Time lease_expires_at = absl::InfinitePast();
  // Identifies the API key (a hash, never the key) the current attempt used:
  // binds the record to the Dojo account behind that key (see Rebind).
  std::string key_id;
  // Attempts sent over the record's life (each MarkSent adds one; kept when
  // Reserve replaces the record, reset only when it is reaped).
  int64_t attempts = 0;
  // The current attempt: when MarkSent was recorded, and when it ended
  // (Succeed, MarkUnknown, Fail; InfinitePast while kPending/kSent). The
  // reconciliation window is [sent_at - skew, ended_at + skew] and never
  // grows; for an abandoned kSent the end is lease_expires_at.
  absl::Time sent_at = absl::InfinitePast();
  absl::Time ended_at = absl::InfinitePast();
  // Dojo's id of the effect once known (the payment intent id of a create).
  std::string dojo_id;
  // kSucceeded: the serialized result (a payments.v1.PaymentIntent for a
  // create).
  std::string result;
  // When Reserve made the current record (also when it replaced one).
  absl::Time created_at = absl::InfinitePast();
  // Reaped after this (see Reserve).
  absl::Time expires_at = absl::InfiniteFuture();
  // When the reconciler should look again: set by MarkUnknown (to `now`)
  // and Reschedule (also of an abandoned kPending/kSent record), cleared
  // (InfinitePast) by Reserve.
  absl::Time next_check_at = absl::InfinitePast();
  // The reconciler holding a claim on the record (ClaimDue), until when
  // ("" and InfinitePast: none). Cleared by Reserve, Resolve,
  // SettleNotCreated and Reschedule; kept by the owner's transitions (the
  // claimer's settlement then fails on the version) and by Rebind.
  std::string claimed_by;
  absl::Time claim_expires_at = absl::InfinitePast();
};

// One attempt of an operation, as the journal keeps it (ListAttempts).
struct Attempt {
  int64_t number = 0;  // 1-based, over the record's life
  absl::Time sent_at = absl::InfinitePast();
  absl::Time ended_at = absl::InfinitePast();  // InfinitePast: not ended
  // The state the attempt ended in ("succeeded", "failed", "unknown", and
  // later "succeeded"/"settled_not_created" once reconciled); empty while
  // the attempt is in flight. A settlement sets ended_at if it was not.
  std::string outcome;
};

struct ReserveResult {
  // True: the caller now owns a fresh kPending record and may MarkSent.
  bool acquired = false;
  // When not acquired: the record as it stands (compare its fingerprint and
  // state). When acquired: the caller's fresh record.
  Record existing;
};

// Unknown operations of one kind, for gauges.
struct UnknownSummary {
  OperationKind kind = OperationKind::kCreate;
  int64_t count = 0;
  // The earliest ended_at (or, for abandoned kSent, lease_expires_at)
  // among them. Expired records are not counted.
  absl::Time oldest = absl::InfiniteFuture();
};

class IdempotencyStore {
 public:
  virtual ~IdempotencyStore() = default;

  // Creates the schema or migrates it to the current version, keeping every
  // record. Idempotent; safe to run from several replicas at once. A schema
  // newer than this release's is left alone. Schema 2 (this journal)
  // replaces schema 1's table: releases before it fail with INTERNAL on a
  // migrated store. Schema-1 records arrive as kind create, completed ->
  // kSucceeded, in_flight -> kSent (lease kept), unknown -> kUnknown (due
  // at once), each with attempts 1 (one Attempt from the first attempt's
  // start to its last change), key_id, params and dojo_id "".
  virtual absl::Status Migrate() = 0;

  // Makes `owner` the holder of a fresh kPending record for `key` (with
  // `fingerprint`, `params` and `key_id`; key_id may be "": not bound) if
  // there is none, or the one there is free (kFailed, kSettledNotCreated)
  // or expired (expires_at <= now). The record expires at
  // max(now + retention, now + lease). Atomic across replicas: of
  // concurrent callers exactly one acquires. Any other record is returned
  // as it is, whatever its state or fingerprint (a kPending/kSent record
  // whose lease lapsed too: the reconciler settles it). A replaced record
  // continues its version and attempt count; the Attempt rows of a free
  // record are kept, those of an expired one deleted. A repeat by the
  // owner of the fresh record, with the same fingerprint, params and
  // key_id, acquires again.
  virtual absl::StatusOr<ReserveResult> Reserve(
      const Key& key, const std::string& fingerprint, const std::string& params,
      const std::string& key_id, const std::string& owner, absl::Time now,
      absl::Duration lease, absl::Duration retention) = 0;

  // The record for `key`, if any (expired ones are absent).
  virtual absl::StatusOr<std::optional<Record>> Get(const Key& key,
                                                    absl::Time now) = 0;

  // Get, but only if it cannot wait, so that it may run on any thread
  // (gRPC's included): true with `*record` set as Get would set it, or false
  // with nothing read when the store would have to wait (its connection
  // busy with another call, another connection's lock) or its reads go
  // over the network, and on any error. The caller then takes the usual
  // way through its worker pool. The default never reads.
  virtual bool GetWithoutWaiting(const Key& key, absl::Time now,
                                 std::optional<Record>* record) {
    return false;
  }

  // Whether RememberEvent would call `event_id` seen, read as
  // GetWithoutWaiting reads: true with `*first_seen` set to when it was
  // first seen, or to nullopt if it was not (or is forgotten: only
  // RememberEvent then remembers it); false with nothing read. The default
  // never reads.
  virtual bool EventSeenWithoutWaiting(const std::string& event_id,
                                       absl::Time now,
                                       std::optional<absl::Time>* first_seen) {
    return false;
  }

  // kPending -> kSent: a new attempt (attempts + 1, sent_at = now, ended_at
  // cleared, an Attempt row added). Call it, and wait for OK, before
  // sending. FAILED_PRECONDITION unless `owner` holds the kPending record
  // (its lease may have lapsed, as long as nobody settled it) and the
  // record has not expired (it could be replaced or reaped while sent).
  virtual absl::Status MarkSent(const Key& key, const std::string& owner,
                                absl::Time now) = 0;

  // kSent -> kSucceeded with Dojo's id and the result; ended_at = now.
  // FAILED_PRECONDITION unless `owner` holds the kSent record.
  virtual absl::Status Succeed(const Key& key, const std::string& owner,
                               const std::string& dojo_id,
                               const std::string& result, absl::Time now) = 0;

  // kSent -> kUnknown (the attempt may have reached Dojo); ended_at and
  // next_check_at = now. FAILED_PRECONDITION unless `owner` holds the kSent
  // record.
  virtual absl::Status MarkUnknown(const Key& key, const std::string& owner,
                                   absl::Time now) = 0;

  // kPending or kSent -> kFailed: Dojo provably holds nothing from the
  // current attempt (refused, or never sent); the key is free again.
  // ended_at = now. FAILED_PRECONDITION unless `owner` holds the record.
  virtual absl::Status Fail(const Key& key, const std::string& owner,
                            absl::Time now) = 0;

  // Settlement of a kUnknown or abandoned (kPending/kSent with a lapsed
  // lease) record at `expected_version`: Dojo holds the effect. -> kSucceeded
  // with `dojo_id` and `result`; ended_at is set to now if it was not (so is
  // the current Attempt's, whose outcome becomes "succeeded"); the owner
  // and the claim are cleared. FAILED_PRECONDITION if the record changed,
  // is gone or expired, or is in another state.
  virtual absl::Status Resolve(const Key& key, int64_t expected_version,
                               const std::string& dojo_id,
                               const std::string& result, absl::Time now) = 0;

  // Settlement as above: Dojo holds nothing and no longer can (complete
  // negative evidence after the settle period, or an abandoned kPending).
  // -> kSettledNotCreated (the current Attempt's outcome too); the key is
  // free for a new attempt.
  virtual absl::Status SettleNotCreated(const Key& key,
                                        int64_t expected_version,
                                        absl::Time now) = 0;

  // A kUnknown or abandoned record at `expected_version` stays as it is but
  // is looked at again at `next_check_at` (its claim is dropped; the
  // version moves). Without a clock the store cannot tell an abandoned
  // kPending/kSent record from a live one: it takes the version's word (a
  // lease never moves without the version moving), and a live one is only
  // looked at once its lease lapses anyway. FAILED_PRECONDITION if the
  // record changed, is gone, or is finished or free.
  virtual absl::Status Reschedule(const Key& key, int64_t expected_version,
                                  absl::Time next_check_at) = 0;

  // Records that the key `key_id` (not empty) was shown to reach the same
  // Dojo account as the record's (key rotation). Any state; the version
  // moves, a claim stays. FAILED_PRECONDITION if the record changed or is
  // gone.
  virtual absl::Status Rebind(const Key& key, int64_t expected_version,
                              const std::string& key_id) = 0;

  // Claims up to `limit` records due for reconciliation: kUnknown with
  // next_check_at <= now, and kPending/kSent with lease_expires_at <= now
  // and next_check_at <= now (a Reschedule defers them too); not expired,
  // and not claimed by anyone (claim_expires_at <= now, the claimer itself
  // included). Sets claimed_by = claimer until now + claim_lease (the
  // version does not move) and returns them in the order they are picked:
  // oldest next_check_at first (abandoned records, never rescheduled,
  // before any kUnknown), then lease_expires_at, then kind name, account
  // and reference, bytewise. Atomic across replicas: concurrent claimers
  // never get the same record while a claim is live (PostgreSQL: FOR
  // UPDATE SKIP LOCKED).
  virtual absl::StatusOr<std::vector<Record>> ClaimDue(
      absl::Time now, const std::string& claimer, absl::Duration claim_lease,
      int limit) = 0;

  // The attempts of the record for `key`, oldest first (empty if none),
  // whatever its expiry.
  virtual absl::StatusOr<std::vector<Attempt>> ListAttempts(const Key& key) = 0;

  // Per kind with any, in OperationKind's order: the kUnknown and abandoned
  // kSent records (not expired).
  virtual absl::StatusOr<std::vector<UnknownSummary>> SummarizeUnknown(
      absl::Time now) = 0;

  // Deletes records (with their attempts) and remembered events whose
  // expiry has passed; returns how many records and events.
  virtual absl::StatusOr<int64_t> ReapExpired(absl::Time now) = 0;

  // Remembers a webhook event id. Returns nullopt if it is new (and is now
  // remembered until now + retention), else when it was first seen. An
  // expired event counts as new. Atomic across replicas: of concurrent
  // callers exactly one gets nullopt.
  virtual absl::StatusOr<std::optional<absl::Time>> RememberEvent(
      const std::string& event_id, absl::Time now,
      absl::Duration retention) = 0;

  // A cheap round trip, for readiness: OK when the store answers and the
  // schema is this release's (or newer); INTERNAL before Migrate.
  virtual absl::Status Ping() = 0;
};

// The stored name of a kind: "create", "capture", ..., "intent_lock".
const char* OperationKindName(OperationKind kind);

// True for the states in which the key may be reserved again.
inline bool IsFree(RecordState state) {
  return state == RecordState::kFailed ||
         state == RecordState::kSettledNotCreated;
}

// Opens the store named by PAYMENTS_STORE: "sqlite:<path>" or
// "postgresql://..." / "postgres://...". Does not migrate. A PostgreSQL
// store that cannot be reached yet still opens (it connects lazily and
// reports UNAVAILABLE until the server answers); a bad URL or an SQLite
// file that cannot be opened is INVALID_ARGUMENT.
absl::StatusOr<std::unique_ptr<IdempotencyStore>> OpenStore(
    const std::string& url);

}  // namespace payments::idempotency

#endif  // LIB_IDEMPOTENCY_IDEMPOTENCY_STORE_H_
