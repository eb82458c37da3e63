#include "lib/payments/payments_service.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "lib/common/status_details.h"
#include "lib/dojo/dojo_json.h"
#include "lib/payments/validation.h"
#include "lib/webhook/webhook_event.h"

namespace payments {
namespace {

// Dojo voids unpaid intents, and with them their links, after 30 days
// unless `expireAt` says otherwise.
constexpr absl::Duration kDefaultIntentLifetime = absl::Hours(24 * 30);

// Seconds and nanoseconds kept apart: a nanosecond count overflows int64
// after 2262, well inside the years a Timestamp (and Dojo) may carry.
google::protobuf::Timestamp ToProto(absl::Time time) {
  google::protobuf::Timestamp ts;
  const int64_t seconds = absl::ToUnixSeconds(time);  // Rounds down.
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return ts;
}

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// Page tokens are Dojo's cursor, versioned and web-safe base64 encoded:
// opaque to callers, checked when they come back.
constexpr absl::string_view kPageTokenPrefix = "p1:";

std::string EncodePageToken(absl::string_view cursor) {
  return absl::WebSafeBase64Escape(absl::StrCat(kPageTokenPrefix, cursor));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token) {
  if (token.empty()) return std::string();
  std::string unescaped;
  absl::string_view cursor;
  if (token.size() <= 1024 && absl::WebSafeBase64Unescape(token, &unescaped)) {
    cursor = unescaped;
  }
  if (!absl::ConsumePrefix(&cursor, kPageTokenPrefix) || cursor.empty() ||
      !std::all_of(cursor.begin(), cursor.end(),
                   [](char c) { return absl::ascii_isgraph(c); })) {
    return InvalidArgumentError(
        "invalid request: page_token is not one this service issued",
        {{"page_token", "must be a next_page_token from ListIntents"}});
  }
  return std::string(cursor);
}

}  // namespace

bool LinkFieldsMatchCreateFields() {
  using google::protobuf::Descriptor;
  using google::protobuf::FieldDescriptor;
  const Descriptor& link = *v1::CreatePaymentLinkRequest::descriptor();
  const Descriptor& create = *v1::CreateIntentRequest::descriptor();
  // Same wire meaning: type, label, presence, and the same message or enum
  // (a map's entry type is generated per message: compare its key/value).
  const auto same = [](const FieldDescriptor& a, const FieldDescriptor& b,
                       const auto& self) -> bool {
    if (a.type() != b.type() || a.label() != b.label() ||
        a.has_presence() != b.has_presence() ||
        a.enum_type() != b.enum_type() || a.is_map() != b.is_map()) {
      return false;
    }
    if (a.is_map()) {
      return self(*a.message_type()->map_key(), *b.message_type()->map_key(),
                  self) &&
             self(*a.message_type()->map_value(),
                  *b.message_type()->map_value(), self);
    }
    return a.message_type() == b.message_type();
  };
  for (int i = 0; i < link.field_count(); ++i) {
    const FieldDescriptor& from = *link.field(i);
    const FieldDescriptor* to = create.FindFieldByNumber(from.number());
    if (to == nullptr || to->name() != from.name() || !same(from, *to, same)) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<v1::CreateIntentRequest> CreateRequestForLink(
    const v1::CreatePaymentLinkRequest& link) {
  // Checked once: the wire conversion below is exact only while every link
  // field has its CreateIntentRequest twin (same number, name and type).
  static const bool kCompatible = LinkFieldsMatchCreateFields();
  if (!kCompatible) {
    return absl::InternalError(
        "CreatePaymentLinkRequest no longer matches CreateIntentRequest");
  }
  // Unknown fields must not cross over: a caller could otherwise set, by
  // number, a CreateIntentRequest field the link request does not have
  // (include_client_session_secret = 31) and get a secret in the answer.
  v1::CreatePaymentLinkRequest known = link;
  known.DiscardUnknownFields();  // Nested messages too.
  v1::CreateIntentRequest create;
  if (!create.ParseFromString(known.SerializeAsString())) {
    return absl::InternalError("cannot convert the link request");
  }
  return create;
}

std::string PaymentLinkOf(const v1::PaymentIntent& intent) {
  if (!intent.payment_link().empty()) return intent.payment_link();
  return absl::StrCat("https://pay.dojo.tech/checkout/", intent.id());
}

absl::StatusOr<PaymentsService::AccountKey> PaymentsService::ResolveAccount(
    absl::string_view account) const {
  const std::shared_ptr<const AccountKeys> accounts = accounts_.Get();
  absl::StatusOr<absl::string_view> key = accounts->KeyFor(account);
  if (!key.ok()) return key.status();
  return AccountKey{
      account.empty() ? accounts->default_account() : std::string(account),
      std::string(*key)};
}

PaymentsService::PaymentsService(
    dojo::DojoClient& dojo, IdempotentCreator& creator,
    IntentOperations& operations, idempotency::IdempotencyStore& store,
    idempotency::WorkerPool& pool, const Reloadable<AccountKeys>& accounts,
    const Reloadable<webhook::SignatureVerifier>& verifier,
    PaymentsServiceOptions options, metrics::Metrics* metrics)
    : dojo_(dojo),
      creator_(creator),
      operations_(operations),
      store_(store),
      pool_(pool),
      accounts_(accounts),
      verifier_(verifier),
      options_(options),
      metrics_(metrics) {}

void PaymentsService::CreateValidatedIntent(v1::CreateIntentRequest request,
                                            const CallContext& context,
                                            CreateDone done) {
  if (absl::Status valid = ValidateCreateIntent(request, absl::Now());
      !valid.ok()) {
    std::move(done)(std::move(valid));
    return;
  }
  absl::StatusOr<AccountKey> account = ResolveAccount(request.account());
  if (!account.ok()) return std::move(done)(account.status());
  // The idempotency key names the account even when the default is meant.
  request.set_account(account->account);
  const bool with_secret = request.include_client_session_secret();
  creator_.Create(
      request, account->key, context,
      [this, with_secret, key = account->key, context,
       done = std::move(done)](absl::StatusOr<CreateOutcome> outcome) mutable {
        // Replays are served from the record alone: no client session
        // secret (secrets are one-time and never stored).
        if (!outcome.ok() || !with_secret || outcome->replay) {
          std::move(done)(std::move(outcome));
          return;
        }
        // A create never returns a client session secret (API 2024-02-05
        // on): a refresh issues the first one.
        const std::string id = outcome->intent.id();
        dojo_.RefreshClientSessionSecret(
            key, id, context,
            [id, done = std::move(done)](
                absl::StatusOr<v1::PaymentIntent> refreshed) mutable {
              if (refreshed.ok()) {
                std::move(done)(CreateOutcome{*std::move(refreshed), false});
                return;
              }
              // The intent exists: say so, so that the caller refreshes
              // rather than creating again.
              absl::Status status(
                  refreshed.status().code(),
                  absl::StrCat("payment intent ", id,
                               " was created but no client session secret "
                               "was issued; call RefreshClientSessionSecret: ",
                               refreshed.status().message()));
              SetErrorInfo(status, reason::kClientSessionSecretNotIssued,
                           {{"payment_intent_id", id}});
              std::move(done)(std::move(status));
            });
      });
}

void PaymentsService::CreateIntent(const v1::CreateIntentRequest& request,
                                   const CallContext& context,
                                   Done<v1::CreateIntentResponse> done) {
  CreateValidatedIntent(
      request, context,
      [done = std::move(done)](absl::StatusOr<CreateOutcome> outcome) mutable {
        if (!outcome.ok()) {
          std::move(done)(outcome.status());
          return;
        }
        v1::CreateIntentResponse response;
        *response.mutable_intent() = std::move(outcome->intent);
        response.set_idempotent_replay(outcome->replay);
        std::move(done)(std::move(response));
      });
}

void PaymentsService::CreatePaymentLink(
    const v1::CreatePaymentLinkRequest& request, const CallContext& context,
    Done<v1::CreatePaymentLinkResponse> done) {
  absl::StatusOr<v1::CreateIntentRequest> create =
      CreateRequestForLink(request);
  if (!create.ok()) {
    std::move(done)(create.status());
    return;
  }
  CreateValidatedIntent(
      *std::move(create), context,
      [done = std::move(done)](absl::StatusOr<CreateOutcome> outcome) mutable {
        if (!outcome.ok()) {
          std::move(done)(outcome.status());
          return;
        }
        // A link is meant to be shared: its answer never carries a client
        // session secret, whatever Dojo sent.
        outcome->intent.clear_client_session_secret();
        outcome->intent.clear_client_session_secret_expires_at();
        const v1::PaymentIntent& intent = outcome->intent;
        v1::CreatePaymentLinkResponse response;
        response.set_payment_link(PaymentLinkOf(intent));
        if (intent.has_expire_at()) {
          *response.mutable_expires_at() = intent.expire_at();
        } else {
          const absl::Time created = intent.has_created_at()
                                         ? FromProto(intent.created_at())
                                         : absl::Now();
          *response.mutable_expires_at() =
              ToProto(created + kDefaultIntentLifetime);
        }
        *response.mutable_intent() = std::move(outcome->intent);
        response.set_idempotent_replay(outcome->replay);
        std::move(done)(std::move(response));
      });
}

void PaymentsService::GetIntent(const v1::GetIntentRequest& request,
                                const CallContext& context,
                                Done<v1::GetIntentResponse> done) {
  if (absl::Status valid = ValidateIntentId("id", request.id()); !valid.ok()) {
    std::move(done)(std::move(valid));
    return;
  }
  absl::StatusOr<AccountKey> account = ResolveAccount(request.account());
  if (!account.ok()) return std::move(done)(account.status());
  dojo_.GetPaymentIntent(
      account->key, request.id(), request.return_canceled(), context,
      [done =
           std::move(done)](absl::StatusOr<v1::PaymentIntent> intent) mutable {
        if (!intent.ok()) {
          std::move(done)(intent.status());
          return;
        }
        v1::GetIntentResponse response;
        *response.mutable_intent() = *std::move(intent);
        std::move(done)(std::move(response));
      });
}

void PaymentsService::RefreshClientSessionSecret(
    const v1::RefreshClientSessionSecretRequest& request,
    const CallContext& context,
    Done<v1::RefreshClientSessionSecretResponse> done) {
  if (absl::Status valid = ValidateIntentId("id", request.id()); !valid.ok()) {
    std::move(done)(std::move(valid));
    return;
  }
  absl::StatusOr<AccountKey> account = ResolveAccount(request.account());
  if (!account.ok()) return std::move(done)(account.status());
  dojo_.RefreshClientSessionSecret(
      account->key, request.id(), context,
      [this, key = account->key, id = request.id(), context,
       done =
           std::move(done)](absl::StatusOr<v1::PaymentIntent> intent) mutable {
        if (intent.status().code() == absl::StatusCode::kInvalidArgument) {
          // Dojo refuses a refresh once the intent has moved on from
          // Created: say so as the precondition it is.
          return ExplainRefusedRefresh(key, id, intent.status(), context,
                                       std::move(done));
        }
        if (!intent.ok()) {
          std::move(done)(intent.status());
          return;
        }
        if (intent->client_session_secret().empty()) {
          absl::Status status =
              absl::UnavailableError("Dojo issued no client session secret");
          SetErrorInfo(status, reason::kDojoBadResponse);
          std::move(done)(std::move(status));
          return;
        }
        v1::RefreshClientSessionSecretResponse response;
        response.set_client_session_secret(intent->client_session_secret());
        *response.mutable_expires_at() =
            intent->client_session_secret_expires_at();
        std::move(done)(std::move(response));
      });
}

void PaymentsService::RunOperation(OperationRequest request,
                                   const CallContext& context,
                                   OperationDone done) {
  absl::StatusOr<AccountKey> account = ResolveAccount(request.account);
  if (!account.ok()) return std::move(done)(account.status());
  // The journal names the account even when the default is meant.
  request.account = account->account;
  request.api_key = account->key;
  operations_.Run(std::move(request), context, std::move(done));
}

namespace {

// Fills `response` (any lifecycle response) from an outcome.
template <typename Response>
absl::StatusOr<Response> IntentResponse(
    absl::StatusOr<OperationOutcome> outcome) {
  if (!outcome.ok()) return outcome.status();
  Response response;
  *response.mutable_intent() = std::move(outcome->intent);
  response.set_idempotent_replay(outcome->replay);
  return response;
}

}  // namespace

void PaymentsService::CancelIntent(const v1::CancelIntentRequest& request,
                                   const CallContext& context,
                                   Done<v1::CancelIntentResponse> done) {
  if (absl::Status valid = ValidateIntentId("id", request.id()); !valid.ok()) {
    std::move(done)(std::move(valid));
    return;
  }
  OperationRequest operation;
  operation.kind = idempotency::OperationKind::kCancel;
  operation.account = request.account();
  operation.params.intent_id = request.id();
  RunOperation(std::move(operation), context,
               [done = std::move(done)](
                   absl::StatusOr<OperationOutcome> outcome) mutable {
                 std::move(done)(IntentResponse<v1::CancelIntentResponse>(
                     std::move(outcome)));
               });
}

void PaymentsService::CaptureIntent(const v1::CaptureIntentRequest& request,
                                    const CallContext& context,
                                    Done<v1::CaptureIntentResponse> done) {
  if (absl::Status valid = ValidateCapture(request); !valid.ok()) {
    std::move(done)(std::move(valid));
    return;
  }
  OperationRequest operation;
  operation.kind = idempotency::OperationKind::kCapture;
  operation.account = request.account();
  operation.key = request.capture_key();
  operation.params.intent_id = request.id();
  operation.params.amount = request.amount().value();
  operation.params.tips_amount = request.tips_amount().value();
  operation.currency = request.amount().currency_code();
  RunOperation(
      std::move(operation), context,
      [done =
           std::move(done)](absl::StatusOr<OperationOutcome> outcome) mutable {
        const std::string id = outcome.ok() ? outcome->dojo_id : "";
        absl::StatusOr<v1::CaptureIntentResponse> response =
            IntentResponse<v1::CaptureIntentResponse>(std::move(outcome));
        if (response.ok()) response->set_capture_id(id);
        std::move(done)(std::move(response));
      });
}

void PaymentsService::ReverseIntent(const v1::ReverseIntentRequest& request,
                                    const CallContext& context,
                                    Done<v1::ReverseIntentResponse> done) {
  if (absl::Status valid = ValidateIntentId("id", request.id()); !valid.ok()) {
    std::move(done)(std::move(valid));
    return;
  }
  OperationRequest operation;
  operation.kind = idempotency::OperationKind::kReversal;
  operation.account = request.account();
  operation.params.intent_id = request.id();
  RunOperation(
      std::move(operation), context,
      [done =
           std::move(done)](absl::StatusOr<OperationOutcome> outcome) mutable {
        const std::string id = outcome.ok() ? outcome->dojo_id : "";
        absl::StatusOr<v1::ReverseIntentResponse> response =
            IntentResponse<v1::ReverseIntentResponse>(std::move(outcome));
        if (response.ok()) response->set_reversal_id(id);
        std::move(done)(std::move(response));
      });
}

void PaymentsService::RefundIntent(const v1::RefundIntentRequest& request,
                                   const CallContext& context,
                                   Done<v1::RefundIntentResponse> done) {
  if (absl::Status valid = ValidateRefund(request); !valid.ok()) {
    std::move(done)(std::move(valid));
    return;
  }
  OperationRequest operation;
  operation.kind = idempotency::OperationKind::kRefund;
  operation.account = request.account();
  operation.key = request.refund_key();
  operation.params.intent_id = request.id();
  operation.params.amount = request.amount().value();
  operation.params.reason = request.reason();
  operation.params.notes = request.notes();
  operation.currency = request.amount().currency_code();
  RunOperation(
      std::move(operation), context,
      [done =
           std::move(done)](absl::StatusOr<OperationOutcome> outcome) mutable {
        v1::Refund refund = outcome.ok() ? outcome->refund : v1::Refund();
        absl::StatusOr<v1::RefundIntentResponse> response =
            IntentResponse<v1::RefundIntentResponse>(std::move(outcome));
        if (response.ok()) *response->mutable_refund() = std::move(refund);
        std::move(done)(std::move(response));
      });
}

void PaymentsService::GetRefund(const v1::GetRefundRequest& request,
                                const CallContext& context,
                                Done<v1::GetRefundResponse> done) {
  if (absl::Status valid = ValidateRefundId(request.refund_id()); !valid.ok()) {
    std::move(done)(std::move(valid));
    return;
  }
  absl::StatusOr<AccountKey> account = ResolveAccount(request.account());
  if (!account.ok()) return std::move(done)(account.status());
  dojo_.GetRefund(
      account->key, request.refund_id(), context,
      [done = std::move(done)](absl::StatusOr<v1::Refund> refund) mutable {
        if (!refund.ok()) return std::move(done)(refund.status());
        v1::GetRefundResponse response;
        *response.mutable_refund() = *std::move(refund);
        std::move(done)(std::move(response));
      });
}

void PaymentsService::ListIntents(const v1::ListIntentsRequest& request,
                                  const CallContext& context,
                                  Done<v1::ListIntentsResponse> done) {
  if (absl::Status valid = ValidateListIntents(request); !valid.ok()) {
    std::move(done)(std::move(valid));
    return;
  }
  absl::StatusOr<std::string> cursor = DecodePageToken(request.page_token());
  if (!cursor.ok()) {
    std::move(done)(cursor.status());
    return;
  }
  absl::StatusOr<AccountKey> account = ResolveAccount(request.account());
  if (!account.ok()) return std::move(done)(account.status());
  std::vector<v1::PaymentIntentStatus> statuses;
  for (int status : request.statuses()) {
    statuses.push_back(static_cast<v1::PaymentIntentStatus>(status));
  }
  dojo_.SearchIntents(
      account->key,
      request.has_created_after() ? FromProto(request.created_after())
                                  : absl::InfinitePast(),
      request.has_created_before() ? FromProto(request.created_before())
                                   : absl::InfiniteFuture(),
      statuses, request.page_size() == 0 ? 50 : request.page_size(), *cursor,
      context,
      [reference = request.reference(),
       done = std::move(done)](absl::StatusOr<dojo::SearchPage> page) mutable {
        if (!page.ok()) return std::move(done)(page.status());
        v1::ListIntentsResponse response;
        for (v1::PaymentIntent& intent : page->intents) {
          if (reference.empty() || intent.reference() == reference) {
            *response.add_intents() = std::move(intent);
          }
        }
        if (!page->after.empty()) {
          response.set_next_page_token(EncodePageToken(page->after));
        }
        std::move(done)(std::move(response));
      });
}

void PaymentsService::ExplainRefusedRefresh(
    const std::string& key, const std::string& id, absl::Status refused,
    const CallContext& context,
    Done<v1::RefreshClientSessionSecretResponse> done) {
  dojo_.GetPaymentIntent(
      key, id, /*return_canceled=*/true, context,
      [refused = std::move(refused), done = std::move(done)](
          absl::StatusOr<v1::PaymentIntent> intent) mutable {
        if (!intent.ok() ||
            intent->status() == v1::PAYMENT_INTENT_STATUS_CREATED) {
          return std::move(done)(std::move(refused));
        }
        std::move(done)(ErrorWithReason(
            absl::StatusCode::kFailedPrecondition,
            "a client session secret can only be issued while the intent is "
            "Created (nobody has paid it)",
            reason::kIntentNotCreated,
            {{"payment_intent_id", intent->id()},
             {"status", std::string(absl::StripPrefix(
                            v1::PaymentIntentStatus_Name(intent->status()),
                            "PAYMENT_INTENT_STATUS_"))}}));
      });
}

void PaymentsService::VerifyWebhook(const v1::VerifyWebhookRequest& request,
                                    Done<v1::VerifyWebhookResponse> done) {
  absl::StatusOr<v1::VerifyWebhookResponse> verified =
      VerifyWebhookSignature(request);
  if (!verified.ok()) {
    std::move(done)(std::move(verified));
    return;
  }
  // Dojo redelivers events; remember ids so that the caller can tell. A
  // redelivery the store can tell at once is answered here, without the hop
  // to the worker pool; a new event is remembered there.
  const absl::Time read_at = absl::Now();
  if (std::optional<absl::Time> seen;
      store_.EventSeenWithoutWaiting(verified->event().id(), read_at, &seen)) {
    if (metrics_ != nullptr) {
      metrics_->StoreOperation("event_seen_at_once",
                               absl::ToDoubleSeconds(absl::Now() - read_at),
                               true);
    }
    if (seen.has_value()) {
      verified->set_duplicate(true);
      *verified->mutable_first_seen_at() = ToProto(*seen);
      std::move(done)(*std::move(verified));
      return;
    }
  }
  pool_.Post([this, response = *std::move(verified),
              done = std::move(done)]() mutable {
    const absl::Time now = absl::Now();
    absl::StatusOr<std::optional<absl::Time>> first_seen = store_.RememberEvent(
        response.event().id(), now, options_.webhook_retention);
    if (metrics_ != nullptr) {
      metrics_->StoreOperation("remember_event",
                               absl::ToDoubleSeconds(absl::Now() - now),
                               first_seen.ok());
    }
    // Without the store the signature still stands: verification keeps
    // working and `duplicate` stays false.
    if (first_seen.ok() && first_seen->has_value()) {
      response.set_duplicate(true);
      *response.mutable_first_seen_at() = ToProto(**first_seen);
    }
    std::move(done)(std::move(response));
  });
}

absl::StatusOr<v1::VerifyWebhookResponse>
PaymentsService::VerifyWebhookSignature(
    const v1::VerifyWebhookRequest& request) const {
  auto record = [this](absl::string_view result) {
    if (metrics_ != nullptr) metrics_->WebhookVerification(result);
  };
  if (request.body().size() > options_.max_webhook_body_bytes) {
    record("too_large");
    return InvalidArgumentError(
        "invalid request: webhook body too large",
        {{"body", absl::StrCat("must be at most ",
                               options_.max_webhook_body_bytes, " bytes")}});
  }
  std::vector<std::pair<std::string, std::string>> headers;
  for (const v1::WebhookHeader& header : request.headers()) {
    headers.emplace_back(header.name(), header.value());
  }
  const std::string signature =
      webhook::SignatureFromHeaders(request.signature(), headers);
  absl::StatusOr<std::string> matched =
      verifier_.Get()->Verify(request.body(), signature);
  if (!matched.ok()) {
    std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(matched.status());
    record(info.has_value() ? absl::AsciiStrToLower(info->reason())
                            : "rejected");
    return matched.status();
  }
  absl::StatusOr<webhook::WebhookEvent> event =
      webhook::ParseWebhookEvent(request.body());
  if (!event.ok()) {
    record("invalid_event");
    return InvalidArgumentError(
        absl::StrCat("invalid request: signed body is not a Dojo event: ",
                     event.status().message()),
        {{"body", "must be a Dojo webhook event"}});
  }
  record("ok");
  v1::VerifyWebhookResponse response;
  v1::WebhookEvent& out = *response.mutable_event();
  out.set_id(event->id);
  out.set_type(event->type);
  out.set_account_id(event->account_id);
  if (event->created_at != absl::InfinitePast()) {
    *out.mutable_created_at() = ToProto(event->created_at);
  }
  out.set_payment_intent_id(event->payment_intent_id);
  out.set_payment_status(
      static_cast<v1::PaymentIntentStatus>(dojo::EnumFromDojoName(
          *v1::PaymentIntentStatus_descriptor(), event->payment_status)));
  out.set_capture_mode(static_cast<v1::CaptureMode>(dojo::EnumFromDojoName(
      *v1::CaptureMode_descriptor(), event->capture_mode)));
  response.set_matched_secret_id(*std::move(matched));
  return response;
}

}  // namespace payments
