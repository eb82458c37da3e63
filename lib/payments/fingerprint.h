#ifndef LIB_PAYMENTS_FINGERPRINT_H_
#define LIB_PAYMENTS_FINGERPRINT_H_

#include <string>

#include "payments/v1/payments_service.pb.h"

namespace payments {

// The idempotency fingerprint of a create: SHA-256 (hex) of the canonical
// Dojo JSON of its stable business parameters, so that a retry with the
// same parameters replays and one with different parameters is refused.
//
// Covered: every field Dojo receives (reference, amount, description,
// capture and payment methods, customer, addresses, lines, metadata,
// checkout config, ...), except the ones that legitimately change between
// retries of the same payment:
//  - `expire_at`: callers often compute it from the current time;
//  - `request_security`: the customer's device and IP of this attempt;
//  - `customer.secret`: a credential, not a parameter of the payment.
// Not covered either: `account` (part of the key) and
// `include_client_session_secret` (what to return, not what to create).
// CreateIntent and CreatePaymentLink with the same parameters match.
std::string CreateFingerprint(const v1::CreateIntentRequest& request);

}  // namespace payments

#endif  // LIB_PAYMENTS_FINGERPRINT_H_
