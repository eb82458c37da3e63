#include "lib/dojo/dojo_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/common/status_details.h"
#include "lib/dojo/dojo_errors.h"
#include "lib/dojo/dojo_json.h"

namespace payments::dojo {
namespace {

constexpr int kSearchPageSize = 100;

// Label for metrics when no HTTP status came back.
absl::string_view TransportErrorType(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    case absl::StatusCode::kCancelled:
      return "cancelled";
    default:
      return GetTransportStage(status) == TransportStage::kNotSent
                 ? "connect"
                 : "transport";
  }
}

bool IsSuccess(const absl::StatusOr<HttpResponse>& result) {
  return result.ok() && result->status_code >= 200 && result->status_code < 300;
}

absl::Status BadResponse(const HttpResponse& response,
                         absl::string_view what =
                             "a body that cannot be "
                             "read") {
  absl::Status status =
      absl::UnavailableError(absl::StrCat("Dojo answered with ", what));
  SetErrorInfo(status, reason::kDojoBadResponse,
               {{"http_status", absl::StrCat(response.status_code)}});
  return status;
}

// A 2xx body as a PaymentIntent. An answer we cannot trust is a bad
// response (UNAVAILABLE DOJO_BAD_RESPONSE): unreadable, without an id,
// amounts our arithmetic cannot take (CheckIntentAmounts), or, when
// `expected_id` is set (a request about one intent), another intent than
// the one asked for. Nothing downstream may record or act on it.
absl::StatusOr<v1::PaymentIntent> ParseIntent(const HttpResponse& response,
                                              absl::string_view expected_id) {
  v1::PaymentIntent intent;
  absl::Status parsed = FromDojoJson(response.body, intent);
  if (parsed.ok()) parsed = CheckIntentAmounts(intent);
  if (!parsed.ok() || intent.id().empty()) {
    return BadResponse(response, "a payment intent that cannot be read");
  }
  if (!expected_id.empty() && intent.id() != expected_id) {
    return BadResponse(response,
                       "another payment intent than the one asked for");
  }
  return intent;
}

// ParseIntent for the answer to a request about intent `id`.
auto ParseIntentOf(std::string id) {
  return [id = std::move(id)](const HttpResponse& response) {
    return ParseIntent(response, id);
  };
}

// Parses the id field `field` of a 2xx answer.
auto ParseIdOf(absl::string_view field) {
  return [field](const HttpResponse& response) -> absl::StatusOr<std::string> {
    absl::StatusOr<std::string> id = ParseIdField(response.body, field);
    if (!id.ok()) return BadResponse(response);
    return id;
  };
}

// A refund answer: readable, and about the intent (when it names one) and
// the refund (when one was asked for) of the request.
absl::StatusOr<v1::Refund> ParseRefundAnswer(const HttpResponse& response,
                                             absl::string_view intent_id,
                                             absl::string_view refund_id) {
  absl::StatusOr<v1::Refund> refund = ParseRefund(response.body);
  if (!refund.ok()) return BadResponse(response);
  if ((!intent_id.empty() && !refund->payment_intent_id().empty() &&
       refund->payment_intent_id() != intent_id) ||
      (!refund_id.empty() && refund->id() != refund_id)) {
    return BadResponse(response, "another refund than the one asked for");
  }
  return refund;
}

}  // namespace

absl::Status ExchangeFailure(const absl::StatusOr<HttpResponse>& result,
                             absl::Time deadline) {
  if (result.ok()) return StatusFromHttpError(*result);
  const absl::Status& transport = result.status();
  if (transport.code() == absl::StatusCode::kCancelled) return transport;
  if (transport.code() == absl::StatusCode::kDeadlineExceeded &&
      absl::Now() >= deadline) {
    return absl::DeadlineExceededError("deadline passed waiting for Dojo");
  }
  absl::Status status = absl::UnavailableError(
      absl::StrCat("Dojo unreachable: ", transport.message()));
  SetTransportStage(status, GetTransportStage(transport));
  SetErrorInfo(status, reason::kDojoUnavailable);
  SetRetryInfo(status, absl::Seconds(1));
  return status;
}

bool IsValidIntentId(absl::string_view id) {
  if (id.empty() || id.size() > 100) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

// One HTTP request to Dojo as the retry loop repeats it.
struct DojoClient::Exchange {
  absl::string_view operation;  // Metrics label; a string literal.
  std::string method;
  std::string path;
  std::string body;
  std::string api_key;
  Idempotency idempotency;
  HttpHeaders extra_headers = {};
};

// The attempts of one exchange. Owned by the callbacks in flight (a
// shared_ptr travels with each Send and timer), so it lives exactly as long
// as there is something left to do.
class DojoClient::Attempts final
    : public std::enable_shared_from_this<Attempts> {
 public:
  Attempts(DojoClient& client, Exchange exchange, CallContext context,
           ExchangeCallback done)
      : client_(client),
        exchange_(std::move(exchange)),
        context_(std::move(context)),
        done_(std::move(done)) {}

  void Start() {
    const absl::Time now = absl::Now();
    if (context_.IsCancelled()) {
      return FinishUnsent(context_.StoppedStatus(now));
    }
    const absl::Duration remaining = context_.deadline - now;
    if (remaining <= absl::ZeroDuration()) {
      return FinishUnsent(
          absl::DeadlineExceededError("deadline passed before calling Dojo"));
    }
    HttpRequest request;
    request.method = exchange_.method;
    request.url = client_.options_.base_url + exchange_.path;
    request.headers = {
        {"Authorization", absl::StrCat("Basic ", exchange_.api_key)},
        {"version", client_.options_.api_version},
        {"Accept", "application/json"},
    };
    if (request.method == "POST") {
      request.headers.emplace_back("Content-Type", "application/json");
    }
    for (const auto& header : exchange_.extra_headers) {
      request.headers.push_back(header);
    }
    request.body = exchange_.body;
    request.timeout = std::min(remaining, client_.options_.attempt_timeout);
    request.reuse_connection = exchange_.idempotency == Idempotency::kSafe;
    attempt_start_ = now;
    ++attempts_;
    if (client_.metrics_ != nullptr) {
      client_.metrics_->upstream_active_requests().Increment();
    }
    client_.transport_.Send(
        std::move(request),
        [self = shared_from_this()](absl::StatusOr<HttpResponse> result) {
          self->OnResult(std::move(result));
        });
  }

 private:
  void OnResult(absl::StatusOr<HttpResponse> result) {
    Record(result);
    if (IsSuccess(result)) {
      client_.budget_->RecordSuccess();
      return Finish(std::move(result));
    }
    const std::optional<std::string> reason =
        RetryReason(result, exchange_.idempotency);
    // Answers that say "your request is wrong" are not Dojo failing.
    if (!result.ok() || result->status_code == 429 ||
        result->status_code >= 500) {
      client_.budget_->RecordFailure();
    }
    if (!reason.has_value() ||
        attempts_ >= client_.options_.retry.max_attempts ||
        context_.IsCancelled()) {
      return Finish(std::move(result));
    }
    absl::Duration delay = BackoffDelay(client_.options_.retry, attempts_);
    if (result.ok()) {
      if (std::optional<absl::Duration> after = RetryAfterOf(*result)) {
        if (*after > client_.options_.retry.max_retry_after) {
          return Finish(std::move(result));  // RetryInfo tells the caller.
        }
        delay = *after;
      }
    }
    if (absl::Now() + delay >= context_.deadline) {
      return Finish(std::move(result));  // No time left for another try.
    }
    if (!client_.budget_->CanRetry()) {
      if (client_.metrics_ != nullptr) {
        client_.metrics_->RetryBudgetExhausted(exchange_.operation);
      }
      return Finish(std::move(result));
    }
    if (client_.metrics_ != nullptr) {
      client_.metrics_->UpstreamRetry(exchange_.operation, *reason);
    }
    // Shutting down before the retry: the last attempt's result stands.
    client_.transport_.RunAfter(
        delay, [self = shared_from_this(),
                last = std::move(result)](absl::Status fired) mutable {
          if (!fired.ok()) return self->Finish(std::move(last));
          self->Start();
        });
  }

  void Record(const absl::StatusOr<HttpResponse>& result) {
    metrics::Metrics* metrics = client_.metrics_;
    if (metrics == nullptr) return;
    metrics->upstream_active_requests().Decrement();
    const double seconds = absl::ToDoubleSeconds(absl::Now() - attempt_start_);
    if (!result.ok()) {
      metrics->UpstreamRequest(exchange_.operation, exchange_.method, "",
                               TransportErrorType(result.status()), seconds);
      return;
    }
    const std::string code = absl::StrCat(result->status_code);
    metrics->UpstreamRequest(exchange_.operation, exchange_.method, code,
                             IsSuccess(result) ? "" : code, seconds);
  }

  void Finish(absl::StatusOr<HttpResponse> result) {
    std::move(done_)(std::move(result));
  }

  // Ends the exchange without sending this attempt.
  void FinishUnsent(absl::Status status) {
    SetTransportStage(status, TransportStage::kNotSent);
    Finish(std::move(status));
  }

  DojoClient& client_;
  const Exchange exchange_;
  const CallContext context_;
  ExchangeCallback done_;
  int attempts_ = 0;
  absl::Time attempt_start_;
};

// Pages through every search result in a window, keeping the intents with
// one reference.
class DojoClient::SearchCall final
    : public std::enable_shared_from_this<SearchCall> {
 public:
  SearchCall(DojoClient& client, std::string api_key, std::string reference,
             absl::Time start, absl::Time end, CallContext context,
             IntentsCallback done)
      : client_(client),
        api_key_(std::move(api_key)),
        reference_(std::move(reference)),
        start_(start),
        end_(end),
        context_(std::move(context)),
        done_(std::move(done)) {}

  void NextPage(const std::string& after) {
    client_.Send(
        {.operation = "search_payment_intents",
         .method = "POST",
         .path = "/payment-intents/search",
         .body = SearchPaymentIntentsBody(start_, end_, kSearchPageSize, after),
         .api_key = api_key_,
         .idempotency = Idempotency::kSafe},
        context_,
        [self = shared_from_this(),
         after](absl::StatusOr<HttpResponse> result) {
          self->OnPage(after, std::move(result));
        });
  }

 private:
  void OnPage(const std::string& after, absl::StatusOr<HttpResponse> result) {
    if (!IsSuccess(result)) {
      return std::move(done_)(ExchangeFailure(result, context_.deadline));
    }
    absl::StatusOr<SearchPage> page = ParseSearchPage(result->body);
    if (!page.ok()) {
      return std::move(done_)(
          absl::UnavailableError("Dojo's search answer cannot be read"));
    }
    for (v1::PaymentIntent& intent : page->intents) {
      if (intent.reference() == reference_) {
        found_.push_back(std::move(intent));
      }
    }
    if (page->after.empty() || page->intents.empty()) {
      // Pages run newest first.
      std::reverse(found_.begin(), found_.end());
      return std::move(done_)(std::move(found_));
    }
    if (page->after == after) {
      return std::move(done_)(
          absl::UnavailableError("Dojo's search cursor did not advance"));
    }
    NextPage(page->after);
  }

  DojoClient& client_;
  const std::string api_key_;
  const std::string reference_;
  const absl::Time start_;
  const absl::Time end_;
  const CallContext context_;
  IntentsCallback done_;
  std::vector<v1::PaymentIntent> found_;
};

DojoClient::DojoClient(HttpTransport& transport, DojoClientOptions options,
                       metrics::Metrics* metrics)
    : transport_(transport),
      options_(std::move(options)),
      metrics_(metrics),
      budget_(std::make_unique<RetryBudget>(options_.retry)) {}

DojoClient::~DojoClient() = default;

void DojoClient::Send(Exchange exchange, const CallContext& context,
                      ExchangeCallback done) {
  std::make_shared<Attempts>(*this, std::move(exchange), context,
                             std::move(done))
      ->Start();
}

void DojoClient::SendForIntent(Exchange exchange, std::string intent_id,
                               const CallContext& context,
                               IntentCallback done) {
  Send(std::move(exchange), context,
       [deadline = context.deadline, intent_id = std::move(intent_id),
        done = std::move(done)](absl::StatusOr<HttpResponse> result) mutable {
         if (!IsSuccess(result)) {
           return std::move(done)(ExchangeFailure(result, deadline));
         }
         std::move(done)(ParseIntent(*result, intent_id));
       });
}

template <typename T, typename Parse>
void DojoClient::SendOperation(Exchange exchange, const CallContext& context,
                               Parse parse, OperationCallback<T> done) {
  Send(std::move(exchange), context,
       [deadline = context.deadline, parse = std::move(parse),
        done = std::move(done)](absl::StatusOr<HttpResponse> result) mutable {
         const Effect effect = EffectOf(result);
         if (!IsSuccess(result)) {
           return std::move(done)({ExchangeFailure(result, deadline), effect});
         }
         std::move(done)({parse(*result), effect});
       });
}

void DojoClient::CreatePaymentIntent(absl::string_view api_key,
                                     const v1::CreateIntentRequest& request,
                                     const CallContext& context,
                                     CreateCallback done) {
  SendOperation<v1::PaymentIntent>(
      {.operation = "create_payment_intent",
       .method = "POST",
       .path = "/payment-intents",
       .body = CreatePaymentIntentBody(request),
       .api_key = std::string(api_key),
       .idempotency = Idempotency::kUnsafe},
      context,
      [](const HttpResponse& response) { return ParseIntent(response, ""); },
      std::move(done));
}

void DojoClient::GetPaymentIntent(absl::string_view api_key,
                                  absl::string_view id, bool return_canceled,
                                  const CallContext& context,
                                  IntentCallback done) {
  std::string path = absl::StrCat("/payment-intents/", id);
  if (return_canceled) path += "?returnCanceled=true";
  SendForIntent({.operation = "get_payment_intent",
                 .method = "GET",
                 .path = std::move(path),
                 .api_key = std::string(api_key),
                 .idempotency = Idempotency::kSafe},
                std::string(id), context, std::move(done));
}

void DojoClient::RefreshClientSessionSecret(absl::string_view api_key,
                                            absl::string_view id,
                                            const CallContext& context,
                                            IntentCallback done) {
  SendForIntent({.operation = "refresh_client_session_secret",
                 .method = "POST",
                 .path = absl::StrCat("/payment-intents/", id,
                                      "/refresh-client-session-secret"),
                 .api_key = std::string(api_key),
                 .idempotency = Idempotency::kSafe},
                std::string(id), context, std::move(done));
}

void DojoClient::FindIntentsByReference(absl::string_view api_key,
                                        absl::string_view reference,
                                        absl::Time start, absl::Time end,
                                        const CallContext& context,
                                        IntentsCallback done) {
  std::make_shared<SearchCall>(*this, std::string(api_key),
                               std::string(reference), start, end, context,
                               std::move(done))
      ->NextPage("");
}

void DojoClient::CancelPaymentIntent(
    absl::string_view api_key, absl::string_view id, const CallContext& context,
    OperationCallback<v1::PaymentIntent> done) {
  SendOperation<v1::PaymentIntent>(
      {.operation = "cancel_payment_intent",
       .method = "DELETE",
       .path = absl::StrCat("/payment-intents/", id),
       .api_key = std::string(api_key),
       .idempotency = Idempotency::kSafe},
      context, ParseIntentOf(std::string(id)), std::move(done));
}

void DojoClient::CapturePaymentIntent(absl::string_view api_key,
                                      absl::string_view id, int64_t amount,
                                      int64_t tips_amount,
                                      const CallContext& context,
                                      OperationCallback<std::string> done) {
  SendOperation<std::string>(
      {.operation = "capture_payment_intent",
       .method = "POST",
       .path = absl::StrCat("/payment-intents/", id, "/captures"),
       .body = CaptureBody(amount, tips_amount),
       .api_key = std::string(api_key),
       .idempotency = Idempotency::kUnsafe},
      context, ParseIdOf("captureId"), std::move(done));
}

void DojoClient::ReversePaymentIntent(absl::string_view api_key,
                                      absl::string_view id,
                                      const CallContext& context,
                                      OperationCallback<std::string> done) {
  SendOperation<std::string>(
      {.operation = "reverse_payment_intent",
       .method = "POST",
       .path = absl::StrCat("/payment-intents/", id, "/reversal"),
       .api_key = std::string(api_key),
       .idempotency = Idempotency::kUnsafe},
      context, ParseIdOf("reversalId"), std::move(done));
}

void DojoClient::RefundPaymentIntent(absl::string_view api_key,
                                     absl::string_view id,
                                     absl::string_view idempotency_key,
                                     int64_t amount, absl::string_view reason,
                                     absl::string_view notes,
                                     const CallContext& context,
                                     OperationCallback<v1::Refund> done) {
  SendOperation<v1::Refund>(
      {.operation = "refund_payment_intent",
       .method = "POST",
       .path = absl::StrCat("/payment-intents/", id, "/refunds"),
       .body = RefundBody(amount, reason, notes),
       .api_key = std::string(api_key),
       .idempotency = Idempotency::kSafe,
       .extra_headers = {{"idempotencyKey", std::string(idempotency_key)}}},
      context,
      [id = std::string(id)](const HttpResponse& response) {
        return ParseRefundAnswer(response, id, "");
      },
      std::move(done));
}

void DojoClient::GetRefund(absl::string_view api_key,
                           absl::string_view refund_id,
                           const CallContext& context, RefundCallback done) {
  Send({.operation = "get_refund",
        .method = "GET",
        .path = absl::StrCat("/payment-intents/refunds/", refund_id),
        .api_key = std::string(api_key),
        .idempotency = Idempotency::kSafe},
       context,
       [deadline = context.deadline, refund_id = std::string(refund_id),
        done = std::move(done)](absl::StatusOr<HttpResponse> result) mutable {
         if (!IsSuccess(result)) {
           return std::move(done)(ExchangeFailure(result, deadline));
         }
         std::move(done)(ParseRefundAnswer(*result, "", refund_id));
       });
}

void DojoClient::SearchIntents(
    absl::string_view api_key, absl::Time start, absl::Time end,
    const std::vector<v1::PaymentIntentStatus>& statuses, int limit,
    absl::string_view cursor, const CallContext& context, PageCallback done) {
  Send({.operation = "search_payment_intents",
        .method = "POST",
        .path = "/payment-intents/search",
        .body = SearchPaymentIntentsBody(start, end, limit, cursor, statuses),
        .api_key = std::string(api_key),
        .idempotency = Idempotency::kSafe},
       context,
       [deadline = context.deadline,
        done = std::move(done)](absl::StatusOr<HttpResponse> result) mutable {
         if (!IsSuccess(result)) {
           return std::move(done)(ExchangeFailure(result, deadline));
         }
         absl::StatusOr<dojo::SearchPage> page = ParseSearchPage(result->body);
         if (!page.ok()) return std::move(done)(BadResponse(*result));
         std::move(done)(std::move(page));
       });
}

}  // namespace payments::dojo
