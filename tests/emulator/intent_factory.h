// Builds PaymentIntent documents the way Dojo serves them.
#ifndef TESTS_EMULATOR_INTENT_FACTORY_H_
#define TESTS_EMULATOR_INTENT_FACTORY_H_

#include <string>

#include "tests/emulator/http_types.h"
#include "tests/emulator/timestamps.h"

namespace dojo_emulator {

// A new intent (status Created, no client session secret) from a request that
// ValidateCreatePaymentIntent accepted.
Json BuildPaymentIntent(const std::string& id, const Json& request,
                        TimePoint now);

// Forces `intent` to `status` at `now` (the control API's status endpoint),
// keeping the document consistent: paymentDetails from Authorized on; a full
// capture in `captures` for Captured and Refunded when nothing was captured;
// refundedAmount = the captured total for Refunded. No state checks.
void ApplyStatus(Json& intent, const std::string& status, TimePoint now);

// True for the six PaymentIntentStatus values.
bool IsPaymentIntentStatus(const std::string& status);

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_INTENT_FACTORY_H_
