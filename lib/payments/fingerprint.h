#ifndef LIB_PAYMENTS_FINGERPRINT_H_
#define LIB_PAYMENTS_FINGERPRINT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "payments/v1/payments_service.pb.h"

namespace payments {

// The idempotency fingerprint of a create: "v1:" + SHA-256 (hex) of the
// canonical Dojo JSON of its stable business parameters, so that a retry with
// the same parameters replays and one with different parameters is refused.
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
// The version prefix changes whenever what is covered changes, so that a
// record made under other rules is recognised as such.
std::string CreateFingerprint(const v1::CreateIntentRequest& request);

// Whether a journaled fingerprint is `current`'s. Records written before
// fingerprints were versioned hold v1's bare hex.
bool SameFingerprint(absl::string_view recorded, absl::string_view current);

// What the journal keeps of a create to recognise its intent at Dojo
// (Record::params): "<amount value> <currency>".
std::string CreateParams(const v1::CreateIntentRequest& request);

// Whether `intent` is the one a create with `reference` and `params`
// (CreateParams) made: same reference, amount and currency (the reference
// alone when `params` is empty: records journaled before params existed).
// Checked on every create answer and every search match.
bool IsIntentOf(const v1::PaymentIntent& intent, absl::string_view reference,
                absl::string_view params);

}  // namespace payments

#endif  // LIB_PAYMENTS_FINGERPRINT_H_
