#ifndef LIB_PAYMENTS_IDEMPOTENT_CREATOR_H_
#define LIB_PAYMENTS_IDEMPOTENT_CREATOR_H_

// One Dojo payment intent per (account, reference), across retries,
// restarts and replicas, through the operation journal
// (idempotency_store.h):
//  - the first call reserves the key, journals the attempt as sent, sends
//    the create once, checks the answer (reference, amount, currency) and
//    journals the result;
//  - same key and fingerprint, succeeded: the journaled intent, with no
//    create sent (after a key rotation, once Dojo shows the new key reaches
//    the same account); same key, other fingerprint: ALREADY_EXISTS,
//    reason REFERENCE_REUSED;
//  - same key in flight (here or on another replica): wait for it, and give
//    up with ABORTED, reason OPERATION_IN_PROGRESS and RetryInfo, before the
//    caller's deadline;
//  - a definite failure frees the key; an attempt that may have reached
//    Dojo (Effect kPossible, or an answer that is not this create's intent)
//    is never re-sent: the call settles it through the Reconciler (search)
//    and, if the intent is not found yet, answers UNAVAILABLE with reason
//    OUTCOME_UNKNOWN and RetryInfo; the background reconciler settles it
//    for good, and a later call gets the intent, or creates anew only after
//    the operation was settled as not created.
// The journal being down fails creates with UNAVAILABLE (reason
// STORE_UNAVAILABLE) before anything is sent to Dojo.

#include <atomic>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "lib/common/call_context.h"
#include "lib/common/clock.h"
#include "lib/common/timer.h"
#include "lib/dojo/dojo_client.h"
#include "lib/idempotency/idempotency_store.h"
#include "lib/idempotency/worker_pool.h"
#include "lib/metrics/metrics.h"
#include "lib/payments/reconciler.h"
#include "payments/v1/payments_service.pb.h"

namespace payments {

struct IdempotencyOptions {
  // How long a journaled create is kept: at least an intent's whole life
  // (the configuration refuses less); longer for an intent that expires
  // later.
  absl::Duration retention = absl::Hours(24 * 30);
  // Added to a call's remaining time to form its lease on a key.
  absl::Duration lease_margin = absl::Seconds(5);
  // Polling of a key another call holds.
  absl::Duration poll_initial = absl::Milliseconds(50);
  absl::Duration poll_max = absl::Seconds(1);
  // Every answer leaves at least this much of the caller's deadline, so
  // that it arrives before the caller gives up.
  absl::Duration reply_margin = absl::Milliseconds(250);
  // Of a create's remaining time, a quarter, but at most this, is kept for
  // settling an ambiguous answer (the search) instead of waiting for Dojo.
  absl::Duration settle_reserve = absl::Seconds(2);
  // Identifies this process in record owners, e.g. host name + random.
  std::string instance_id;
};

struct CreateOutcome {
  v1::PaymentIntent intent;
  // True when the intent was created by an earlier call.
  bool replay = false;
};

using CreateDone = absl::AnyInvocable<void(absl::StatusOr<CreateOutcome>) &&>;

// Thread-safe. Journal I/O runs on `pool`, Dojo calls on the DojoClient's
// transport, waits on `timer`; `done` runs on one of those threads, or on
// the caller's before Create returns: a replay the store could read without
// waiting (IdempotencyStore::GetWithoutWaiting) skips the pool.
class IdempotentCreator final {
 public:
  // All references must outlive the creator; `metrics` may be null.
  IdempotentCreator(idempotency::IdempotencyStore& store,
                    idempotency::WorkerPool& pool, dojo::DojoClient& dojo,
                    Reconciler& reconciler, const Clock& clock, Timer& timer,
                    IdempotencyOptions options, metrics::Metrics* metrics);

  // `request` must be valid (ValidateCreateIntent), name its account
  // (never empty), and `api_key` be that account's key. The journaled
  // intent never holds a client session secret: secrets are one-time and
  // are not stored.
  void Create(const v1::CreateIntentRequest& request, std::string api_key,
              const CallContext& context, CreateDone done);

 private:
  class Call;

  idempotency::IdempotencyStore& store_;
  idempotency::WorkerPool& pool_;
  dojo::DojoClient& dojo_;
  Reconciler& reconciler_;
  const Clock& clock_;
  Timer& timer_;
  const IdempotencyOptions options_;
  metrics::Metrics* const metrics_;
  std::atomic<int64_t> next_call_id_{0};
};

}  // namespace payments

#endif  // LIB_PAYMENTS_IDEMPOTENT_CREATOR_H_
