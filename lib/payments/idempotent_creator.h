#ifndef LIB_PAYMENTS_IDEMPOTENT_CREATOR_H_
#define LIB_PAYMENTS_IDEMPOTENT_CREATOR_H_

// One Dojo payment intent per (account, reference), across retries,
// restarts and replicas (DESIGN.md, "Idempotency by reference"):
//  - the first call reserves the key, creates at Dojo, records the result;
//  - same key and fingerprint, finished: the recorded intent, no Dojo call;
//  - same key, other fingerprint: ALREADY_EXISTS, reason REFERENCE_REUSED;
//  - same key in flight (here or on another replica): wait for it, polling
//    the store, bounded by the deadline;
//  - a definite failure releases the key; an unknown outcome keeps it, and
//    the next call reconciles with Dojo (search) before creating anything;
//    so does the next call after an owner died mid-create (lease expiry).
// The store being down fails creates with UNAVAILABLE before anything is
// sent to Dojo.

#include <atomic>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "lib/common/call_context.h"
#include "lib/common/timer.h"
#include "lib/dojo/dojo_client.h"
#include "lib/idempotency/idempotency_store.h"
#include "lib/idempotency/worker_pool.h"
#include "lib/metrics/metrics.h"
#include "payments/v1/payments_service.pb.h"

namespace payments {

struct IdempotencyOptions {
  // How long a finished record is kept (at least an intent's lifetime).
  absl::Duration retention = absl::Hours(24 * 30);
  // Added to a call's remaining time to form its lease on a key.
  absl::Duration lease_margin = absl::Seconds(5);
  // Polling of a key another call holds.
  absl::Duration poll_initial = absl::Milliseconds(50);
  absl::Duration poll_max = absl::Seconds(1);
  // Widening of the reconciliation window for clock skew with Dojo.
  absl::Duration reconcile_margin = absl::Minutes(2);
  // Identifies this process in record owners, e.g. host name + random.
  std::string instance_id;
};

struct CreateOutcome {
  v1::PaymentIntent intent;
  // True when the intent was created by an earlier call.
  bool replay = false;
};

using CreateDone = absl::AnyInvocable<void(absl::StatusOr<CreateOutcome>) &&>;

// Thread-safe. Store I/O runs on `pool`, Dojo calls on the DojoClient's
// transport, waits on `timer`; `done` runs on one of those threads.
class IdempotentCreator final {
 public:
  // All references must outlive the creator; `metrics` may be null.
  IdempotentCreator(idempotency::IdempotencyStore& store,
                    idempotency::WorkerPool& pool, dojo::DojoClient& dojo,
                    Timer& timer, IdempotencyOptions options,
                    metrics::Metrics* metrics);

  // `request` must be valid (ValidateCreateIntent) and `api_key` the key of
  // `request.account()`. The recorded intent never holds a client session
  // secret: secrets are one-time and are not stored.
  void Create(const v1::CreateIntentRequest& request, std::string api_key,
              const CallContext& context, CreateDone done);

 private:
  class Call;

  idempotency::IdempotencyStore& store_;
  idempotency::WorkerPool& pool_;
  dojo::DojoClient& dojo_;
  Timer& timer_;
  const IdempotencyOptions options_;
  metrics::Metrics* const metrics_;
  std::atomic<int64_t> next_call_id_{0};
};

}  // namespace payments

#endif  // LIB_PAYMENTS_IDEMPOTENT_CREATOR_H_
