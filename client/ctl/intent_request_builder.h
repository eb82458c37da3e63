#ifndef CLIENT_CTL_INTENT_REQUEST_BUILDER_H_
#define CLIENT_CTL_INTENT_REQUEST_BUILDER_H_

// Builds the CreateIntentRequest of `paymentsctl create-intent` and
// `create-link` from a proto JSON base (--request_json) and the flags, which
// override it. Pure: no I/O (the caller reads the JSON file).

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "payments/v1/payments_service.pb.h"

namespace payments::ctl {

// Each field left empty / unset keeps what the JSON base says.
struct IntentParams {
  std::string request_json;  // any CreateIntentRequest as proto JSON
  std::string account;
  std::string reference;
  std::optional<int64_t> amount;  // minor units
  std::string currency;           // default GBP when the amount has none
  std::string description;
  std::string capture_mode;     // auto | manual
  std::string payment_methods;  // comma-separated: card,wallet,saved_card
  bool include_client_session_secret = false;
  bool card_holder_not_present = false;
  std::string redirect_url;
  std::string title;
  std::string expire_in;  // a duration from now, e.g. 1h, 30m, 72h
};

// Usage errors (see client/ctl/exit_code.h) for malformed JSON or flag
// values. Business validation is the server's: it is not repeated here.
absl::StatusOr<v1::CreateIntentRequest> BuildCreateIntentRequest(
    const IntentParams& params, absl::Time now);

// The same parameters as a CreatePaymentLinkRequest (fields 1-24 and
// `account` share numbers and types; include_client_session_secret has no
// counterpart and is dropped).
v1::CreatePaymentLinkRequest ToPaymentLinkRequest(
    const v1::CreateIntentRequest& request);

}  // namespace payments::ctl

#endif  // CLIENT_CTL_INTENT_REQUEST_BUILDER_H_
