#include "lib/dojo/dojo_client.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/common/status_details.h"
#include "lib/dojo/dojo_errors.h"
#include "lib/dojo/dojo_json.h"

namespace payments::dojo {
namespace {

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

absl::StatusOr<v1::PaymentIntent> ParseIntent(const HttpResponse& response) {
  v1::PaymentIntent intent;
  absl::Status parsed = FromDojoJson(response.body, intent);
  if (!parsed.ok() || intent.id().empty()) {
    absl::Status status = absl::UnavailableError(
        "Dojo answered with a payment intent that cannot be read");
    SetErrorInfo(status, reason::kDojoBadResponse,
                 {{"http_status", absl::StrCat(response.status_code)}});
    return status;
  }
  return intent;
}

// A transport failure as the caller sees it: UNAVAILABLE with a retry hint,
// unless the caller's own deadline is what ran out.
absl::Status UpstreamFailure(const absl::Status& transport_status,
                             absl::Time deadline) {
  if (transport_status.code() == absl::StatusCode::kDeadlineExceeded &&
      absl::Now() >= deadline) {
    return absl::DeadlineExceededError("deadline passed waiting for Dojo");
  }
  if (transport_status.code() == absl::StatusCode::kCancelled) {
    return transport_status;
  }
  absl::Status status = absl::UnavailableError(
      absl::StrCat("Dojo unreachable: ", transport_status.message()));
  SetTransportStage(status, GetTransportStage(transport_status));
  SetErrorInfo(status, reason::kDojoUnavailable);
  SetRetryInfo(status, absl::Seconds(1));
  return status;
}

}  // namespace

bool IsValidIntentId(absl::string_view id) {
  if (id.empty() || id.size() > 100) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

DojoClient::DojoClient(HttpTransport& transport, DojoClientOptions options,
                       metrics::Metrics* metrics)
    : transport_(transport), options_(std::move(options)), metrics_(metrics) {}

void DojoClient::CreatePaymentIntent(absl::string_view api_key,
                                     const v1::CreateIntentRequest& request,
                                     absl::Time deadline, IntentCallback done) {
  Call("create_payment_intent", "POST", "/payment-intents",
       CreatePaymentIntentBody(request), api_key, deadline, std::move(done));
}

void DojoClient::GetPaymentIntent(absl::string_view api_key,
                                  absl::string_view id, bool return_canceled,
                                  absl::Time deadline, IntentCallback done) {
  std::string path = absl::StrCat("/payment-intents/", id);
  if (return_canceled) path += "?returnCanceled=true";
  Call("get_payment_intent", "GET", std::move(path), "", api_key, deadline,
       std::move(done));
}

void DojoClient::RefreshClientSessionSecret(absl::string_view api_key,
                                            absl::string_view id,
                                            absl::Time deadline,
                                            IntentCallback done) {
  Call("refresh_client_session_secret", "POST",
       absl::StrCat("/payment-intents/", id, "/refresh-client-session-secret"),
       "", api_key, deadline, std::move(done));
}

void DojoClient::Call(absl::string_view operation, std::string method,
                      std::string path, std::string body,
                      absl::string_view api_key, absl::Time deadline,
                      IntentCallback done) {
  const absl::Time start = absl::Now();
  const absl::Duration remaining = deadline - start;
  if (remaining <= absl::ZeroDuration()) {
    std::move(done)(absl::DeadlineExceededError(
        "deadline passed before calling Dojo"));
    return;
  }
  HttpRequest request;
  request.method = method;
  request.url = options_.base_url + path;
  request.headers = {
      {"Authorization", absl::StrCat("Basic ", api_key)},
      {"version", options_.api_version},
      {"Accept", "application/json"},
  };
  if (request.method == "POST") {
    request.headers.emplace_back("Content-Type", "application/json");
  }
  request.body = std::move(body);
  request.timeout = std::min(remaining, options_.attempt_timeout);

  if (metrics_ != nullptr) metrics_->upstream_active_requests().Increment();
  transport_.Send(
      std::move(request),
      [this, operation, method = std::move(method), start, deadline,
       done = std::move(done)](
          absl::StatusOr<HttpResponse> response) mutable {
        const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
        if (!response.ok()) {
          if (metrics_ != nullptr) {
            metrics_->upstream_active_requests().Decrement();
            metrics_->UpstreamRequest(operation, method, "",
                                      TransportErrorType(response.status()),
                                      seconds);
          }
          std::move(done)(UpstreamFailure(response.status(), deadline));
          return;
        }
        const int code = response->status_code;
        const bool success = code >= 200 && code < 300;
        if (metrics_ != nullptr) {
          metrics_->upstream_active_requests().Decrement();
          metrics_->UpstreamRequest(operation, method, absl::StrCat(code),
                                    success ? "" : absl::StrCat(code),
                                    seconds);
        }
        if (!success) {
          std::move(done)(StatusFromHttpError(*response));
          return;
        }
        std::move(done)(ParseIntent(*response));
      });
}

}  // namespace payments::dojo
