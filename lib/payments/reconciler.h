#ifndef LIB_PAYMENTS_RECONCILER_H_
#define LIB_PAYMENTS_RECONCILER_H_

// Settles journaled operations whose outcome at Dojo is unknown, from
// Dojo's own state and never by timing inside a call. The one
// reconciliation path: calls that meet an unknown operation and the
// background loop of every replica both use Settle().
//
// For a create, Settle searches Dojo over the operation's window
// [sent_at - clock_skew, end + clock_skew] (end: the attempt's end, or the
// lapse of its owner's lease), which never grows, reading every page:
//  - intents with the reference, amount and currency found: the oldest (or
//    the journaled one) is the operation's result; every other one is a
//    duplicate, canceled if still Created, reported either way;
//  - none found, and settle_period has passed since the end: complete
//    negative evidence, Dojo can no longer be processing the request and
//    its search has caught up: kSettledNotCreated (the key is free);
//  - none found earlier: looked at again later;
//  - a record that was never sent (abandoned kPending) is settled at once.
// Outcomes are written with version-conditional journal updates, so two
// settlers (a call and the loop, or two replicas) never overwrite each
// other; the loop claims its records (ClaimDue), so replicas share the work.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/common/call_context.h"
#include "lib/common/clock.h"
#include "lib/common/reloadable.h"
#include "lib/common/timer.h"
#include "lib/dojo/dojo_client.h"
#include "lib/idempotency/idempotency_store.h"
#include "lib/idempotency/worker_pool.h"
#include "lib/metrics/metrics.h"
#include "lib/payments/account_keys.h"
#include "payments/v1/payments_service.pb.h"

namespace payments {

struct ReconcilerOptions {
  // Time after an attempt's end beyond which Dojo can no longer create its
  // effect nor hide it from search: longer than Dojo's longest processing
  // time plus its search lag. Only then does "not found" mean "not created".
  absl::Duration settle_period = absl::Minutes(15);
  // Widening of the search window on both sides, for clock skew between
  // this host and Dojo.
  absl::Duration clock_skew = absl::Minutes(2);
  // How often the background loop claims due operations.
  absl::Duration poll_interval = absl::Seconds(2);
  // Delay before looking again at an operation not found yet (doubling up
  // to recheck_max, never past the end of the settle period).
  absl::Duration recheck_initial = absl::Seconds(5);
  absl::Duration recheck_max = absl::Minutes(1);
  // Bound of one background settlement (all pages of one search).
  absl::Duration settle_timeout = absl::Minutes(1);
  // Operations settled at once by the background loop.
  int concurrency = 4;
  // Names this replica in claims.
  std::string instance_id;
};

enum class Settlement {
  kFound,       // Dojo holds the effect: `intent` (now journaled)
  kNotCreated,  // settled as absent: the key is free for a new attempt
  kPending,     // not settled yet: looked at again at `next_check_at`
  kFailed,      // Dojo or the journal could not be asked: `error`
};

struct SettleResult {
  Settlement settlement = Settlement::kPending;
  // kFound: the intent (a create: the one created; a capture, reversal or
  // cancel: as read to settle it; a refund: unset), Dojo's id of the effect
  // and the journaled result (a refund: its serialized payments.v1.Refund).
  v1::PaymentIntent intent;
  std::string dojo_id;
  std::string result;
  absl::Time next_check_at = absl::InfinitePast();
  absl::Status error;
};

using SettleDone = absl::AnyInvocable<void(SettleResult) &&>;

// Whether a settlement failed only because someone else changed the record
// meanwhile (settled or rescheduled it): FAILED_PRECONDITION without an
// ErrorInfo. The record is worth reading again.
bool ChangedMeanwhile(const SettleResult& result);

// Thread-safe. Journal I/O runs on `pool`, Dojo calls on the DojoClient's
// transport, the loop's waits on `timer`.
class Reconciler final {
 public:
  // All references must outlive the reconciler; `metrics` may be null.
  Reconciler(idempotency::IdempotencyStore& store,
             idempotency::WorkerPool& pool, dojo::DojoClient& dojo,
             const Reloadable<AccountKeys>& accounts, const Clock& clock,
             Timer& timer, ReconcilerOptions options,
             metrics::Metrics* metrics);
  // Stops the loop (see Stop).
  ~Reconciler();

  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  // Settles `record`, a kUnknown or abandoned (kPending/kSent with a lapsed
  // lease) operation as just read from the journal, within `context`'s
  // deadline: a create from a search; a capture, reversal or cancel from the
  // intent's state (operation_evidence.h); a refund by sending it again with
  // its idempotencyKey; an intent lock by settling the operation it guards,
  // then releasing it (kNotCreated). `done` runs exactly once, on a pool
  // thread. A record changed meanwhile by someone else is kFailed as
  // ChangedMeanwhile says: re-read it.
  void Settle(const idempotency::Record& record, const CallContext& context,
              SettleDone done);

  // One round: refreshes the unknown-operation gauges, claims up to
  // `concurrency` due operations and settles them. `done(claimed)` runs
  // once every claimed operation is settled (or failed), on a pool thread.
  void RunRound(absl::AnyInvocable<void(int claimed) &&> done);

  // Starts the background loop: a round every poll_interval (at once after
  // a full one). Does nothing once stopped or while a round runs.
  void Start();
  // Stops claiming and waits for the round in flight to end. Idempotent.
  void Stop();

 private:
  class Settling;
  // How a pending timer reaches the reconciler, if it still exists.
  struct Life {
    absl::Mutex mu;
    Reconciler* reconciler ABSL_GUARDED_BY(mu) = nullptr;
  };

  // Ends the loop's round and times the next.
  void ScheduleRound(absl::Duration delay);
  void RefreshGauges(absl::Time now);

  idempotency::IdempotencyStore& store_;
  idempotency::WorkerPool& pool_;
  dojo::DojoClient& dojo_;
  const Reloadable<AccountKeys>& accounts_;
  const Clock& clock_;
  Timer& timer_;
  const ReconcilerOptions options_;
  metrics::Metrics* const metrics_;

  const std::shared_ptr<Life> life_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // A round is claiming or settling (not merely waiting for its timer).
  bool round_running_ ABSL_GUARDED_BY(mu_) = false;
};

// What the journal keeps of an intent: all of it but the one-time client
// session secret (secrets are never stored).
std::string RecordedIntent(const v1::PaymentIntent& intent);

}  // namespace payments

#endif  // LIB_PAYMENTS_RECONCILER_H_
