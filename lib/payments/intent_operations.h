#ifndef LIB_PAYMENTS_INTENT_OPERATIONS_H_
#define LIB_PAYMENTS_INTENT_OPERATIONS_H_

// The money-moving operations on an existing intent (capture, refund,
// reversal, cancel), exactly once through the operation journal:
//  - idempotent by their key (capture and refund keys; cancel and reversal
//    by the intent): a succeeded key is replayed, the same key with other
//    parameters is ALREADY_EXISTS (reason CAPTURE_KEY_REUSED,
//    REFUND_KEY_REUSED);
//  - serialised per intent, across replicas, by an intent lock in the
//    journal, held from before the precondition check until the operation
//    is settled: two partial captures or refunds can never together exceed
//    the limit, and none starts while an earlier one is unknown;
//  - preconditions checked against the intent as Dojo holds it just before
//    sending (lifecycle_rules.h): a refusal is FAILED_PRECONDITION and
//    nothing is sent;
//  - an answer that may hide an effect is never re-sent blindly: captures,
//    reversals and cancels are settled from the intent's state, refunds by
//    re-sending with the same Dojo idempotencyKey (the Reconciler);
//    meanwhile callers get UNAVAILABLE, reason OUTCOME_UNKNOWN, RetryInfo.
// A caller queued behind another operation on the intent waits, and gets
// ABORTED with reason OPERATION_IN_PROGRESS and RetryInfo before its
// deadline if it cannot go first.

#include <atomic>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "lib/common/call_context.h"
#include "lib/common/clock.h"
#include "lib/common/timer.h"
#include "lib/dojo/dojo_client.h"
#include "lib/idempotency/idempotency_store.h"
#include "lib/idempotency/worker_pool.h"
#include "lib/metrics/metrics.h"
#include "lib/payments/idempotent_creator.h"
#include "lib/payments/operation_params.h"
#include "lib/payments/reconciler.h"
#include "payments/v1/payments_service.pb.h"

namespace payments {

struct OperationRequest {
  idempotency::OperationKind kind = idempotency::OperationKind::kCancel;
  // The configured account (never empty) and its key.
  std::string account;
  std::string api_key;
  // The caller's capture or refund key; empty for a cancel or reversal.
  std::string key;
  // intent_id, amount, tips_amount, reason, notes as asked.
  OperationParams params;
  // Of `params.amount` (captures and refunds).
  std::string currency;
};

struct OperationOutcome {
  // Dojo's id of the effect (capture, reversal or refund id; the intent id
  // for a cancel); may be empty when the effect was seen only in the
  // intent's state.
  std::string dojo_id;
  // A refund: the refund (with the amount asked for).
  v1::Refund refund;
  // The intent as Dojo holds it after the operation (read back).
  v1::PaymentIntent intent;
  // Done by an earlier call (or already in effect): nothing was sent.
  bool replay = false;
};

using OperationDone =
    absl::AnyInvocable<void(absl::StatusOr<OperationOutcome>) &&>;

// Thread-safe. Journal I/O on `pool`, Dojo calls on the DojoClient's
// transport, waits on `timer`; `done` runs on one of those threads.
class IntentOperations final {
 public:
  // All references must outlive this; `metrics` may be null. `options` as
  // for creates (retention, lease margin, polling, reply margin).
  IntentOperations(idempotency::IdempotencyStore& store,
                   idempotency::WorkerPool& pool, dojo::DojoClient& dojo,
                   Reconciler& reconciler, const Clock& clock, Timer& timer,
                   IdempotencyOptions options, metrics::Metrics* metrics);

  // `request` must be valid (validation.h: ValidateCapture, ValidateRefund,
  // ValidateIntentId), name its account (never empty) and carry its key.
  void Run(OperationRequest request, const CallContext& context,
           OperationDone done);

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

#endif  // LIB_PAYMENTS_INTENT_OPERATIONS_H_
