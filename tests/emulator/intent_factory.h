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

// Moves `intent` to `status` at `now`, filling in what Dojo adds on the way
// (paymentDetails once authorized, refundedAmount once refunded).
void ApplyStatus(Json& intent, const std::string& status, TimePoint now);

// True for the six PaymentIntentStatus values.
bool IsPaymentIntentStatus(const std::string& status);

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_INTENT_FACTORY_H_
