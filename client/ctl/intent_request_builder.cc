#include "client/ctl/intent_request_builder.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/ctl/exit_code.h"
#include "google/protobuf/util/json_util.h"

namespace payments::ctl {
namespace {

absl::StatusOr<v1::CaptureMode> ParseCaptureMode(absl::string_view text) {
  const std::string mode = absl::AsciiStrToLower(text);
  if (mode == "auto") return v1::CAPTURE_MODE_AUTO;
  if (mode == "manual") return v1::CAPTURE_MODE_MANUAL;
  return UsageError(
      absl::StrCat("--capture_mode=", text, ": want auto or manual"));
}

absl::StatusOr<v1::PaymentMethod> ParsePaymentMethod(absl::string_view text) {
  std::string method = absl::AsciiStrToLower(text);
  if (method == "card") return v1::PAYMENT_METHOD_CARD;
  if (method == "wallet") return v1::PAYMENT_METHOD_WALLET;
  if (method == "saved_card" || method == "saved-card") {
    return v1::PAYMENT_METHOD_SAVED_CARD;
  }
  return UsageError(absl::StrCat("--payment_methods: unknown method '", text,
                                 "' (card, wallet, saved_card)"));
}

}  // namespace

absl::StatusOr<v1::CreateIntentRequest> BuildCreateIntentRequest(
    const IntentParams& params, absl::Time now) {
  v1::CreateIntentRequest request;
  if (!params.request_json.empty()) {
    auto parsed = google::protobuf::util::JsonStringToMessage(
        params.request_json, &request);
    if (!parsed.ok()) {
      return UsageError(absl::StrCat(
          "--request_json: not a CreateIntentRequest: ", parsed.ToString()));
    }
  }
  if (!params.account.empty()) request.set_account(params.account);
  if (!params.reference.empty()) request.set_reference(params.reference);
  if (params.amount.has_value()) {
    request.mutable_amount()->set_value(*params.amount);
  }
  if (!params.currency.empty()) {
    request.mutable_amount()->set_currency_code(
        absl::AsciiStrToUpper(params.currency));
  } else if (request.has_amount() && request.amount().currency_code().empty()) {
    request.mutable_amount()->set_currency_code("GBP");
  }
  if (!params.description.empty()) {
    request.set_description(params.description);
  }
  if (!params.capture_mode.empty()) {
    auto mode = ParseCaptureMode(params.capture_mode);
    if (!mode.ok()) return mode.status();
    request.set_capture_mode(*mode);
  }
  if (!params.payment_methods.empty()) {
    request.clear_payment_methods();
    for (absl::string_view name :
         absl::StrSplit(params.payment_methods, ',', absl::SkipWhitespace())) {
      auto method = ParsePaymentMethod(absl::StripAsciiWhitespace(name));
      if (!method.ok()) return method.status();
      request.add_payment_methods(*method);
    }
  }
  if (params.include_client_session_secret) {
    request.set_include_client_session_secret(true);
  }
  if (params.card_holder_not_present) {
    request.set_card_holder_not_present(true);
  }
  if (!params.redirect_url.empty()) {
    request.mutable_config()->set_redirect_url(params.redirect_url);
  }
  if (!params.title.empty()) request.mutable_config()->set_title(params.title);
  if (!params.expire_in.empty()) {
    absl::Duration in;
    if (!absl::ParseDuration(params.expire_in, &in) ||
        in <= absl::ZeroDuration()) {
      return UsageError(absl::StrCat("--expire_in=", params.expire_in,
                                     ": want a positive duration, e.g. 24h"));
    }
    const absl::Time at = now + in;
    request.mutable_expire_at()->set_seconds(absl::ToUnixSeconds(at));
  }
  return request;
}

v1::CreatePaymentLinkRequest ToPaymentLinkRequest(
    const v1::CreateIntentRequest& request) {
  v1::CreateIntentRequest copy = request;
  copy.clear_include_client_session_secret();
  v1::CreatePaymentLinkRequest link;
  // The field numbers are the contract (see the proto): a byte-for-byte
  // reparse carries every field, including ones added later.
  link.ParseFromString(copy.SerializeAsString());
  return link;
}

}  // namespace payments::ctl
