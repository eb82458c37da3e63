#ifndef LIB_PAYMENTS_LIFECYCLE_RULES_H_
#define LIB_PAYMENTS_LIFECYCLE_RULES_H_

// What an intent's state at Dojo allows and shows, for the lifecycle
// operations (capture, refund, reversal, cancel). Pure functions: the one
// place these rules live, used before sending (preconditions) and when
// settling an ambiguous answer (evidence).
//
// Amounts: the authorised total is `total_amount`; captured is the sum of
// the Successful or Created `captures`, or, for an intent captured without
// a capture list (auto capture), its total; refundable is captured minus
// `refunded_amount`.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "lib/idempotency/idempotency_store.h"
#include "lib/payments/operation_params.h"
#include "payments/v1/payments_service.pb.h"

namespace payments {

int64_t CapturedAmount(const v1::PaymentIntent& intent);
int64_t CapturableAmount(const v1::PaymentIntent& intent);
int64_t RefundableAmount(const v1::PaymentIntent& intent);

enum class Verdict {
  kProceed,      // send the operation
  kAlreadyDone,  // a cancel or reversal already in effect: answer OK
  kRefused,      // FAILED_PRECONDITION in `refusal`; nothing is sent
};

struct Precondition {
  Verdict verdict = Verdict::kProceed;
  absl::Status refusal;
};

// Whether `kind` with `params` (amounts in `currency`) may be sent for
// `intent` as Dojo holds it now. Refusals carry ErrorInfo reasons
// INTENT_NOT_CANCELABLE, INTENT_NOT_CAPTURABLE, CAPTURE_EXCEEDS_CAPTURABLE,
// INTENT_NOT_REVERSIBLE, INTENT_NOT_REFUNDABLE, REFUND_EXCEEDS_REFUNDABLE or
// CURRENCY_MISMATCH, with the status and the limit in their metadata.
Precondition CheckOperation(idempotency::OperationKind kind,
                            const OperationParams& params,
                            const std::string& currency,
                            const v1::PaymentIntent& intent);

// What `intent` shows of a capture, reversal or cancel that may have
// reached Dojo: that it happened (with Dojo's id of it where there is one),
// or that it can no longer happen (the intent moved on), or neither yet.
struct OperationEvidence {
  bool happened = false;
  std::string dojo_id;
  bool impossible = false;
};
OperationEvidence EvidenceOf(idempotency::OperationKind kind,
                             const OperationParams& params,
                             const v1::PaymentIntent& intent);

}  // namespace payments

#endif  // LIB_PAYMENTS_LIFECYCLE_RULES_H_
