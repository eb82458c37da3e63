#include "client/ctl/commands.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "client/ctl/exit_code.h"
#include "client/ctl/input_reader.h"

namespace payments::ctl {
namespace {

const std::vector<std::string> kIntentFlags = {"reference",
                                               "amount",
                                               "currency",
                                               "description",
                                               "capture_mode",
                                               "payment_methods",
                                               "include_client_session_secret",
                                               "card_holder_not_present",
                                               "redirect_url",
                                               "title",
                                               "expire_in",
                                               "request_json"};

absl::Status Require(const std::string& value, absl::string_view flag) {
  if (value.empty()) return UsageError(absl::StrCat("missing --", flag));
  return absl::OkStatus();
}

client::CallOptions Call(const CtlSettings& s) {
  return {.request_id = s.request_id};
}

absl::StatusOr<v1::CreateIntentRequest> IntentRequest(const CtlSettings& s) {
  IntentParams params = s.intent;
  params.account = s.account;
  if (!s.request_json_file.empty()) {
    auto json = ReadInput(s.request_json_file);
    if (!json.ok()) return json.status();
    params.request_json = *std::move(json);
  }
  return BuildCreateIntentRequest(params, absl::Now());
}

absl::StatusOr<std::string> CreateIntent(const CtlSettings& s,
                                         client::PaymentsClient& client) {
  auto request = IntentRequest(s);
  if (!request.ok()) return request.status();
  auto response = client.CreateIntent(*request, Call(s));
  if (!response.ok()) return response.status();
  return PrintCreateIntent(*response, s.print);
}

absl::StatusOr<std::string> CreateLink(const CtlSettings& s,
                                       client::PaymentsClient& client) {
  if (s.intent.include_client_session_secret) {
    return UsageError(
        "create-link: --include_client_session_secret is for create-intent "
        "(hosted checkout needs no secret)");
  }
  auto request = IntentRequest(s);
  if (!request.ok()) return request.status();
  auto response =
      client.CreatePaymentLink(ToPaymentLinkRequest(*request), Call(s));
  if (!response.ok()) return response.status();
  return PrintPaymentLink(*response, s.print);
}

absl::StatusOr<std::string> GetIntent(const CtlSettings& s,
                                      client::PaymentsClient& client) {
  if (absl::Status st = Require(s.id, "id"); !st.ok()) return st;
  v1::GetIntentRequest request;
  request.set_id(s.id);
  request.set_account(s.account);
  request.set_return_canceled(s.return_canceled);
  auto response = client.GetIntent(request, Call(s));
  if (!response.ok()) return response.status();
  return PrintGetIntent(*response, s.print);
}

absl::StatusOr<std::string> RefreshSecret(const CtlSettings& s,
                                          client::PaymentsClient& client) {
  if (absl::Status st = Require(s.id, "id"); !st.ok()) return st;
  v1::RefreshClientSessionSecretRequest request;
  request.set_id(s.id);
  request.set_account(s.account);
  auto response = client.RefreshClientSessionSecret(request, Call(s));
  if (!response.ok()) return response.status();
  return PrintRefreshSecret(*response, s.print);
}

absl::StatusOr<std::string> VerifyWebhook(const CtlSettings& s,
                                          client::PaymentsClient& client) {
  if (absl::Status st = Require(s.body_file,
                                "body_file (a file, or - for "
                                "standard input)");
      !st.ok()) {
    return st;
  }
  auto body = ReadInput(s.body_file);
  if (!body.ok()) return body.status();
  v1::VerifyWebhookRequest request;
  request.set_body(*std::move(body));
  // An empty signature is sent as is: the server answers UNAUTHENTICATED
  // SIGNATURE_MISSING, exactly what a receiver must learn.
  request.set_signature(s.signature);
  auto response = client.VerifyWebhook(request, Call(s));
  if (!response.ok()) return response.status();
  return PrintVerifyWebhook(*response, s.print);
}

v1::Money Amount(const CtlSettings& s, int64_t value) {
  v1::Money money;
  money.set_value(value);
  money.set_currency_code(s.intent.currency.empty() ? "GBP"
                                                    : s.intent.currency);
  return money;
}

absl::Status RequireAmount(const CtlSettings& s) {
  if (!s.intent.amount.has_value()) {
    return UsageError("missing --amount (minor units, e.g. 1000 = 10.00)");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> CancelIntent(const CtlSettings& s,
                                         client::PaymentsClient& client) {
  if (absl::Status st = Require(s.id, "id"); !st.ok()) return st;
  v1::CancelIntentRequest request;
  request.set_id(s.id);
  request.set_account(s.account);
  auto response = client.CancelIntent(request, Call(s));
  if (!response.ok()) return response.status();
  return PrintCancel(*response, s.print);
}

absl::StatusOr<std::string> Capture(const CtlSettings& s,
                                    client::PaymentsClient& client) {
  if (absl::Status st = Require(s.id, "id"); !st.ok()) return st;
  if (absl::Status st = Require(s.lifecycle.capture_key, "capture_key");
      !st.ok()) {
    return st;
  }
  if (absl::Status st = RequireAmount(s); !st.ok()) return st;
  v1::CaptureIntentRequest request;
  request.set_id(s.id);
  request.set_account(s.account);
  request.set_capture_key(s.lifecycle.capture_key);
  *request.mutable_amount() = Amount(s, *s.intent.amount);
  if (s.lifecycle.tips.has_value()) {
    *request.mutable_tips_amount() = Amount(s, *s.lifecycle.tips);
  }
  auto response = client.CaptureIntent(request, Call(s));
  if (!response.ok()) return response.status();
  return PrintCapture(*response, s.print);
}

absl::StatusOr<std::string> Reverse(const CtlSettings& s,
                                    client::PaymentsClient& client) {
  if (absl::Status st = Require(s.id, "id"); !st.ok()) return st;
  v1::ReverseIntentRequest request;
  request.set_id(s.id);
  request.set_account(s.account);
  auto response = client.ReverseIntent(request, Call(s));
  if (!response.ok()) return response.status();
  return PrintReverse(*response, s.print);
}

absl::StatusOr<std::string> Refund(const CtlSettings& s,
                                   client::PaymentsClient& client) {
  if (absl::Status st = Require(s.id, "id"); !st.ok()) return st;
  if (absl::Status st = Require(s.lifecycle.refund_key, "refund_key");
      !st.ok()) {
    return st;
  }
  if (absl::Status st = RequireAmount(s); !st.ok()) return st;
  v1::RefundIntentRequest request;
  request.set_id(s.id);
  request.set_account(s.account);
  request.set_refund_key(s.lifecycle.refund_key);
  *request.mutable_amount() = Amount(s, *s.intent.amount);
  request.set_reason(s.lifecycle.reason);
  request.set_notes(s.lifecycle.notes);
  auto response = client.RefundIntent(request, Call(s));
  if (!response.ok()) return response.status();
  return PrintRefund(*response, s.print);
}

absl::StatusOr<std::string> GetRefund(const CtlSettings& s,
                                      client::PaymentsClient& client) {
  if (absl::Status st = Require(s.lifecycle.refund_id, "refund_id"); !st.ok()) {
    return st;
  }
  v1::GetRefundRequest request;
  request.set_refund_id(s.lifecycle.refund_id);
  request.set_account(s.account);
  auto response = client.GetRefund(request, Call(s));
  if (!response.ok()) return response.status();
  return PrintGetRefund(*response, s.print);
}

absl::StatusOr<google::protobuf::Timestamp> TimeFlag(absl::string_view flag,
                                                     absl::string_view text) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &time, &error)) {
    return UsageError(absl::StrCat(
        "--", flag, " must be an RFC 3339 time, e.g. 2026-11-29T10:00:00Z"));
  }
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(absl::ToUnixSeconds(time));
  return timestamp;
}

absl::StatusOr<std::string> ListIntents(const CtlSettings& s,
                                        client::PaymentsClient& client) {
  v1::ListIntentsRequest request;
  request.set_account(s.account);
  request.set_reference(s.intent.reference);
  request.set_page_size(s.lifecycle.page_size);
  request.set_page_token(s.lifecycle.page_token);
  for (absl::string_view name :
       absl::StrSplit(s.lifecycle.statuses, ',', absl::SkipEmpty())) {
    v1::PaymentIntentStatus status;
    if (!v1::PaymentIntentStatus_Parse(
            absl::StrCat("PAYMENT_INTENT_STATUS_", absl::AsciiStrToUpper(name)),
            &status)) {
      return UsageError(absl::StrCat("--statuses: unknown status '", name,
                                     "' (created, authorized, captured, "
                                     "reversed, refunded, canceled)"));
    }
    request.add_statuses(status);
  }
  if (!s.lifecycle.created_after.empty()) {
    auto time = TimeFlag("created_after", s.lifecycle.created_after);
    if (!time.ok()) return time.status();
    *request.mutable_created_after() = *time;
  }
  if (!s.lifecycle.created_before.empty()) {
    auto time = TimeFlag("created_before", s.lifecycle.created_before);
    if (!time.ok()) return time.status();
    *request.mutable_created_before() = *time;
  }
  auto response = client.ListIntents(request, Call(s));
  if (!response.ok()) return response.status();
  return PrintListIntents(*response, s.print);
}

absl::StatusOr<std::string> Health(const CtlSettings& s,
                                   client::PaymentsClient& client) {
  auto status = client.CheckHealth(s.service, Call(s));
  if (!status.ok()) return status.status();
  const char* name = *status == client::ServingStatus::kServing ? "SERVING"
                     : *status == client::ServingStatus::kNotServing
                         ? "NOT_SERVING"
                         : "UNKNOWN";
  if (*status != client::ServingStatus::kServing) {
    return absl::UnavailableError(
        absl::StrCat(s.service.empty() ? "server" : s.service, " is ", name));
  }
  if (s.print.json) return absl::StrCat("{\n  \"status\": \"", name, "\"\n}\n");
  return absl::StrCat(name, "\n");
}

}  // namespace

const std::vector<std::string>& GlobalFlags() {
  static const auto* flags = new std::vector<std::string>{
      "target",   "tls",     "ca_file", "cert_file",   "key_file",
      "deadline", "account", "json",    "show_secret", "request_id"};
  return *flags;
}

const std::vector<CommandSpec>& Commands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"create-intent", "--reference=R --amount=MINOR [--currency=GBP] [...]",
       "create a payment intent (CreateIntent)", kIntentFlags},
      {"get-intent",
       "--id=ID [--return_canceled]",
       "read an intent as Dojo holds it now (GetIntent)",
       {"id", "return_canceled"}},
      {"create-link", "--reference=R --amount=MINOR [...]",
       "create an intent and print its hosted checkout link "
       "(CreatePaymentLink)",
       kIntentFlags},
      {"refresh-secret",
       "--id=ID",
       "issue a new one-time client session secret "
       "(RefreshClientSessionSecret)",
       {"id"}},
      {"verify-webhook",
       "--body_file=FILE|- --signature=S",
       "verify a webhook delivery's dojo-signature and parse the event "
       "(VerifyWebhook)",
       {"body_file", "signature"}},
      {"cancel-intent",
       "--id=ID",
       "cancel an intent nobody has paid (CancelIntent)",
       {"id"}},
      {"capture",
       "--id=ID --capture_key=K --amount=MINOR [--currency=GBP] [--tips=MINOR]",
       "capture all or part of an authorised manual intent (CaptureIntent)",
       {"id", "capture_key", "amount", "currency", "tips"}},
      {"reverse",
       "--id=ID",
       "release an authorisation (ReverseIntent)",
       {"id"}},
      {"refund",
       "--id=ID --refund_key=K --amount=MINOR [--currency=GBP] [--reason=R] "
       "[--notes=N]",
       "refund all or part of what was captured (RefundIntent)",
       {"id", "refund_key", "amount", "currency", "reason", "notes"}},
      {"get-refund",
       "--refund_id=ID",
       "read a refund (GetRefund)",
       {"refund_id"}},
      {"list-intents",
       "[--statuses=created,authorized] [--created_after=T] "
       "[--created_before=T] [--page_size=N] [--page_token=T] "
       "[--reference=R]",
       "list intents newest first (ListIntents)",
       {"statuses", "created_after", "created_before", "page_size",
        "page_token", "reference"}},
      {"health",
       "[--service=payments.v1.PaymentsService]",
       "grpc.health.v1 Check; exit 0 only when SERVING",
       {"service"}},
  };
  return *commands;
}

const CommandSpec* FindCommand(absl::string_view name) {
  for (const CommandSpec& command : Commands()) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

absl::StatusOr<std::string> RunCommand(const CommandSpec& command,
                                       const CtlSettings& settings,
                                       client::PaymentsClient& client) {
  using Runner = absl::StatusOr<std::string> (*)(const CtlSettings&,
                                                 client::PaymentsClient&);
  static const std::pair<const char*, Runner> kRunners[] = {
      {"create-intent", &CreateIntent},
      {"get-intent", &GetIntent},
      {"create-link", &CreateLink},
      {"refresh-secret", &RefreshSecret},
      {"verify-webhook", &VerifyWebhook},
      {"cancel-intent", &CancelIntent},
      {"capture", &Capture},
      {"reverse", &Reverse},
      {"refund", &Refund},
      {"get-refund", &GetRefund},
      {"list-intents", &ListIntents},
      {"health", &Health}};
  for (const auto& [name, run] : kRunners) {
    if (command.name == name) return run(settings, client);
  }
  return UsageError(absl::StrCat("unknown command ", command.name));
}

}  // namespace payments::ctl
