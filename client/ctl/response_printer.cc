#include "client/ctl/response_printer.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"

namespace payments::ctl {
namespace {

constexpr char kHiddenSecret[] = "(hidden; --show_secret or --json prints it)";

std::string Time(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  return absl::FormatTime(
      absl::RFC3339_sec,
      absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos()),
      absl::UTCTimeZone());
}

// Enum value name without its type prefix: PAYMENT_INTENT_STATUS_CREATED ->
// CREATED.
std::string Short(const std::string& name, absl::string_view prefix) {
  return std::string(absl::StripPrefix(name, prefix));
}

void Line(std::string& out, absl::string_view label, absl::string_view value) {
  absl::StrAppend(&out, absl::StrFormat("%-26s%s\n", label, value));
}

std::string Secret(const std::string& secret, const PrintOptions& options) {
  return options.show_secret ? secret : kHiddenSecret;
}

std::string IntentSummary(const v1::PaymentIntent& intent,
                          const PrintOptions& options) {
  std::string out;
  Line(out, "intent", intent.id());
  Line(out, "status",
       Short(v1::PaymentIntentStatus_Name(intent.status()),
             "PAYMENT_INTENT_STATUS_"));
  Line(out, "reference", intent.reference());
  Line(out, "amount", FormatMoney(intent.amount()));
  if (intent.has_total_amount() &&
      intent.total_amount().value() != intent.amount().value()) {
    Line(out, "total", FormatMoney(intent.total_amount()));
  }
  if (intent.capture_mode() != v1::CAPTURE_MODE_UNSPECIFIED) {
    Line(out, "capture mode",
         Short(v1::CaptureMode_Name(intent.capture_mode()), "CAPTURE_MODE_"));
  }
  if (intent.card_holder_not_present()) {
    Line(out, "card holder not present", "yes");
  }
  if (!intent.description().empty()) {
    Line(out, "description", intent.description());
  }
  if (!intent.payment_link().empty()) {
    Line(out, "payment link", intent.payment_link());
  }
  if (!intent.client_session_secret().empty()) {
    Line(out, "client session secret",
         Secret(intent.client_session_secret(), options));
    Line(out, "secret expires at",
         Time(intent.client_session_secret_expires_at()));
  }
  if (intent.has_payment_details() &&
      !intent.payment_details().auth_code().empty()) {
    Line(out, "auth code", intent.payment_details().auth_code());
  }
  if (intent.refunded_amount() > 0) {
    v1::Money refunded;
    refunded.set_value(intent.refunded_amount());
    refunded.set_currency_code(intent.amount().currency_code());
    Line(out, "refunded", FormatMoney(refunded));
  }
  Line(out, "created at", Time(intent.created_at()));
  if (intent.has_expire_at()) Line(out, "expires at", Time(intent.expire_at()));
  return out;
}

}  // namespace

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string json;
  auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) return absl::StrCat("{}  // ", status.ToString(), "\n");
  if (json.empty() || json.back() != '\n') json.push_back('\n');
  return json;
}

std::string FormatMoney(const v1::Money& money) {
  const int64_t value = money.value();
  return absl::StrFormat("%s%d.%02d %s", value < 0 ? "-" : "",
                         std::llabs(value) / 100, std::llabs(value) % 100,
                         money.currency_code());
}

std::string PrintCreateIntent(const v1::CreateIntentResponse& response,
                              const PrintOptions& options) {
  if (options.json) return ToJson(response);
  std::string out = IntentSummary(response.intent(), options);
  if (response.idempotent_replay()) {
    Line(out, "idempotent replay", "yes (created earlier; nothing new)");
  }
  return out;
}

std::string PrintGetIntent(const v1::GetIntentResponse& response,
                           const PrintOptions& options) {
  if (options.json) return ToJson(response);
  return IntentSummary(response.intent(), options);
}

std::string PrintPaymentLink(const v1::CreatePaymentLinkResponse& response,
                             const PrintOptions& options) {
  if (options.json) return ToJson(response);
  std::string out;
  Line(out, "payment link", response.payment_link());
  Line(out, "link expires at", Time(response.expires_at()));
  if (response.idempotent_replay()) {
    Line(out, "idempotent replay", "yes (created earlier; nothing new)");
  }
  v1::PaymentIntent intent = response.intent();
  intent.clear_payment_link();  // printed above
  return absl::StrCat(out, IntentSummary(intent, options));
}

std::string PrintRefreshSecret(
    const v1::RefreshClientSessionSecretResponse& response,
    const PrintOptions& options) {
  if (options.json) return ToJson(response);
  std::string out;
  Line(out, "client session secret",
       Secret(response.client_session_secret(), options));
  Line(out, "expires at", Time(response.expires_at()));
  return out;
}

std::string PrintVerifyWebhook(const v1::VerifyWebhookResponse& response,
                               const PrintOptions& options) {
  if (options.json) return ToJson(response);
  const v1::WebhookEvent& event = response.event();
  std::string out;
  Line(out, "signature",
       absl::StrCat("valid (secret '", response.matched_secret_id(), "')"));
  Line(out, "event", event.id());
  Line(out, "type", event.type());
  Line(out, "payment intent", event.payment_intent_id());
  Line(out, "payment status",
       Short(v1::PaymentIntentStatus_Name(event.payment_status()),
             "PAYMENT_INTENT_STATUS_"));
  Line(out, "account", event.account_id());
  Line(out, "created at", Time(event.created_at()));
  Line(out, "duplicate", response.duplicate() ? "yes (seen before)" : "no");
  return out;
}

namespace {

// A lifecycle answer: "<label> <id>" (when there is one), the intent after
// the operation, and whether it was a replay.
template <typename Response>
std::string OperationSummary(const Response& response, absl::string_view label,
                             absl::string_view id,
                             const PrintOptions& options) {
  if (options.json) return ToJson(response);
  std::string out;
  if (!id.empty()) Line(out, label, id);
  absl::StrAppend(&out, IntentSummary(response.intent(), options));
  if (response.idempotent_replay()) {
    Line(out, "idempotent replay", "yes (nothing new was sent to Dojo)");
  }
  return out;
}

}  // namespace

std::string PrintCancel(const v1::CancelIntentResponse& response,
                        const PrintOptions& options) {
  return OperationSummary(response, "", "", options);
}

std::string PrintCapture(const v1::CaptureIntentResponse& response,
                         const PrintOptions& options) {
  return OperationSummary(response, "capture", response.capture_id(), options);
}

std::string PrintReverse(const v1::ReverseIntentResponse& response,
                         const PrintOptions& options) {
  return OperationSummary(response, "reversal", response.reversal_id(),
                          options);
}

std::string PrintRefund(const v1::RefundIntentResponse& response,
                        const PrintOptions& options) {
  v1::Money amount;
  amount.set_value(response.refund().amount());
  amount.set_currency_code(response.intent().amount().currency_code());
  std::string out = OperationSummary(
      response, "refund",
      absl::StrCat(response.refund().id(), " (", FormatMoney(amount), ")"),
      options);
  return out;
}

std::string PrintGetRefund(const v1::GetRefundResponse& response,
                           const PrintOptions& options) {
  if (options.json) return ToJson(response);
  std::string out;
  Line(out, "refund", response.refund().id());
  Line(out, "intent", response.refund().payment_intent_id());
  if (!response.refund().reason().empty()) {
    Line(out, "reason", response.refund().reason());
  }
  if (!response.refund().notes().empty()) {
    Line(out, "notes", response.refund().notes());
  }
  return out;
}

std::string PrintListIntents(const v1::ListIntentsResponse& response,
                             const PrintOptions& options) {
  if (options.json) return ToJson(response);
  std::string out;
  for (const v1::PaymentIntent& intent : response.intents()) {
    absl::StrAppend(
        &out,
        absl::StrFormat("%-36s %-10s %-14s %s\n", intent.id(),
                        Short(v1::PaymentIntentStatus_Name(intent.status()),
                              "PAYMENT_INTENT_STATUS_"),
                        FormatMoney(intent.amount()), intent.reference()));
  }
  if (!response.next_page_token().empty()) {
    Line(out, "next page token", response.next_page_token());
  }
  return out;
}

}  // namespace payments::ctl
