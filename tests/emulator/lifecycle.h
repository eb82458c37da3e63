// The payment lifecycle on PaymentIntent documents: authorisation, captures,
// reversal, refunds and auto-expiry. Pure operations on the served JSON (and
// the refund records kept beside it); the callers check who may do what.
#ifndef TESTS_EMULATOR_LIFECYCLE_H_
#define TESTS_EMULATOR_LIFECYCLE_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "tests/emulator/http_types.h"
#include "tests/emulator/intent_store.h"
#include "tests/emulator/timestamps.h"

namespace dojo_emulator {

// What a paying customer authorises: totalAmount.value (amount plus tips,
// cashback and service charge).
int64_t AuthorizedAmount(const Json& intent);

// The sum of the `amount` of the intent's Successful captures.
int64_t CapturedAmount(const Json& intent);

// refundedAmount (0 when absent or null).
int64_t RefundedAmount(const Json& intent);

// captureMode == "Manual".
bool IsManualCapture(const Json& intent);

// Whether config.payment.customAmountAllowed is true.
bool CustomAmountAllowed(const Json& intent);

// Adds paymentDetails (masked test card, authCode) unless already there.
void AddPaymentDetails(Json& intent, TimePoint now);

// A customer pays a Created intent: Manual -> Authorized; Auto -> Captured
// with one Successful capture of the whole authorised amount.
void Authorize(Json& intent, TimePoint now);

// Appends a Successful capture of `amount` (CaptureDetails) and returns it.
// The status becomes Captured when the captured total reaches the authorised
// amount (partial captures leave it Authorized).
Json AppendCapture(Json& intent, int64_t amount,
                   std::optional<int64_t> tips_amount, TimePoint now);

// A new Successful capture item (with a fresh id), not yet added.
Json NewCapture(int64_t amount, std::optional<int64_t> tips_amount,
                TimePoint now);

// Appends `capture` (from NewCapture); the status becomes Captured when the
// captured total reaches the authorised amount.
void AddCapture(Json& intent, Json capture, TimePoint now);

// Changes a Created intent's amount (SetAmountRequest): `requestedAmount`
// keeps the amount it was created with, totalAmount is recomputed (amount +
// tips + cashback + service charge), itemLines/taxLines are replaced when
// given (not null).
void ChangeAmount(Json& intent, const Json& request, TimePoint now);

// Authorized -> Reversed.
void Reverse(Json& intent, TimePoint now);

// Records a refund and adds it to refundedAmount; the status becomes
// Refunded when refundedAmount reaches the captured total.
void ApplyRefund(StoredIntent& intent, RefundRecord refund, TimePoint now);

// The spec's Refund object for `refund`.
Json RefundBody(const std::string& payment_intent_id,
                const RefundRecord& refund);

// autoExpireAction, "Release" when absent (Dojo documents that an uncaptured
// Manual intent is reversed after 7 days).
std::string AutoExpireActionOf(const Json& intent);

// autoExpireIn, 7 days when absent.
std::chrono::seconds AutoExpireInOf(const Json& intent);

// What auto-expiry does to an Authorized Manual intent: Capture captures the
// rest of the authorised amount (-> Captured); Release reverses it when
// nothing was captured (-> Reversed) and otherwise releases the rest and
// keeps what was captured (-> Captured). Returns false (and changes nothing)
// for any other intent.
bool ApplyAutoExpiry(Json& intent, TimePoint now);

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_LIFECYCLE_H_
