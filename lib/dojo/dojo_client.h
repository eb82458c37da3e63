#ifndef LIB_DOJO_DOJO_CLIENT_H_
#define LIB_DOJO_DOJO_CLIENT_H_

// Typed asynchronous calls to Dojo's payment-intents API over an
// HttpTransport. Builds exact requests (`Authorization: Basic <key>` with the
// key verbatim, `version`, JSON bodies per the official schema), retries
// where a repeat cannot move money (retry_policy.h), and maps answers to
// PaymentIntent or absl::Status (dojo_errors.h). It never settles an
// ambiguous money-moving request itself: it reports how far the request may
// have got (Effect), and the operation journal's reconciler decides.

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/common/call_context.h"
#include "lib/dojo/dojo_json.h"
#include "lib/dojo/http_transport.h"
#include "lib/dojo/retry_policy.h"
#include "lib/metrics/metrics.h"
#include "payments/v1/payments_service.pb.h"

namespace payments::dojo {

struct DojoClientOptions {
  std::string base_url;     // e.g. https://api.dojo.tech, no trailing slash.
  std::string api_version;  // `version` header, e.g. 2026-02-27.
  // Upper bound of one attempt; the caller's deadline may cut it shorter.
  absl::Duration attempt_timeout = absl::Seconds(20);
  RetryOptions retry;
};

using IntentCallback =
    absl::AnyInvocable<void(absl::StatusOr<v1::PaymentIntent>) &&>;
using IntentsCallback =
    absl::AnyInvocable<void(absl::StatusOr<std::vector<v1::PaymentIntent>>) &&>;

// The answer to a money-moving request: what Dojo returned (or why there is
// nothing) and whether Dojo may hold the request's effect anyway. `effect`
// is kHeld exactly when Dojo answered 2xx; `result` may still be an error
// then (DOJO_BAD_RESPONSE: the body could not be read).
template <typename T>
struct OperationAnswer {
  absl::StatusOr<T> result;
  Effect effect = Effect::kNone;
};
template <typename T>
using OperationCallback = absl::AnyInvocable<void(OperationAnswer<T>) &&>;
using CreateAnswer = OperationAnswer<v1::PaymentIntent>;
using CreateCallback = OperationCallback<v1::PaymentIntent>;
using PageCallback = absl::AnyInvocable<void(absl::StatusOr<SearchPage>) &&>;
using RefundCallback = absl::AnyInvocable<void(absl::StatusOr<v1::Refund>) &&>;

// Answers are checked before they are returned: an intent must be the one
// asked for (GET, refresh, cancel), a refund the refund and intent asked for,
// and amounts must pass CheckIntentAmounts; otherwise the result is
// UNAVAILABLE with ErrorInfo DOJO_BAD_RESPONSE.
//
// Thread-safe. Callbacks run on the transport's event-loop thread (or
// inline when nothing is sent) and must not block. Each call invokes its
// callback exactly once. An expired deadline fails with DEADLINE_EXCEEDED
// without sending anything; a cancelled context stops pending retries with
// CANCELLED.
class DojoClient final {
 public:
  // `transport` and `metrics` must outlive the client; `metrics` may be null.
  DojoClient(HttpTransport& transport, DojoClientOptions options,
             metrics::Metrics* metrics);
  ~DojoClient();

  // POST /payment-intents. Sent again only while it provably never left
  // (connect, DNS or TLS failure, per the retry policy); once it may have
  // reached Dojo it is never re-sent, and the answer says so (kPossible).
  void CreatePaymentIntent(absl::string_view api_key,
                           const v1::CreateIntentRequest& request,
                           const CallContext& context, CreateCallback done);

  // GET /payment-intents/{id}[?returnCanceled=true]; retried. `id` must be
  // valid (IsValidIntentId).
  void GetPaymentIntent(absl::string_view api_key, absl::string_view id,
                        bool return_canceled, const CallContext& context,
                        IntentCallback done);

  // POST /payment-intents/{id}/refresh-client-session-secret; retried.
  void RefreshClientSessionSecret(absl::string_view api_key,
                                  absl::string_view id,
                                  const CallContext& context,
                                  IntentCallback done);

  // Every intent whose reference is `reference`, created between `start`
  // and `end` inclusive (POST /payment-intents/search), oldest first. Reads
  // every page (each one retried); fails if any page cannot be read, so an
  // OK answer is complete evidence for the window.
  void FindIntentsByReference(absl::string_view api_key,
                              absl::string_view reference, absl::Time start,
                              absl::Time end, const CallContext& context,
                              IntentsCallback done);

  // DELETE /payment-intents/{id}: cancels a Created intent (409 otherwise);
  // retried, as a repeat cannot move money. `id` must be valid.
  void CancelPaymentIntent(absl::string_view api_key, absl::string_view id,
                           const CallContext& context,
                           OperationCallback<v1::PaymentIntent> done);

  // POST /payment-intents/{id}/captures; the capture id. Like a create:
  // never re-sent once it may have reached Dojo.
  void CapturePaymentIntent(absl::string_view api_key, absl::string_view id,
                            int64_t amount, int64_t tips_amount,
                            const CallContext& context,
                            OperationCallback<std::string> done);

  // POST /payment-intents/{id}/reversal; the reversal id. Never re-sent
  // once it may have reached Dojo.
  void ReversePaymentIntent(absl::string_view api_key, absl::string_view id,
                            const CallContext& context,
                            OperationCallback<std::string> done);

  // POST /payment-intents/{id}/refunds with header `idempotencyKey`
  // (<= 100 characters): Dojo answers a repeat with the first refund, so it
  // is retried like a read.
  void RefundPaymentIntent(absl::string_view api_key, absl::string_view id,
                           absl::string_view idempotency_key, int64_t amount,
                           absl::string_view reason, absl::string_view notes,
                           const CallContext& context,
                           OperationCallback<v1::Refund> done);

  // GET /payment-intents/refunds/{refundId}; retried.
  void GetRefund(absl::string_view api_key, absl::string_view refund_id,
                 const CallContext& context, RefundCallback done);

  // One page of POST /payment-intents/search (see SearchPaymentIntentsBody);
  // retried.
  void SearchIntents(absl::string_view api_key, absl::Time start,
                     absl::Time end,
                     const std::vector<v1::PaymentIntentStatus>& statuses,
                     int limit, absl::string_view cursor,
                     const CallContext& context, PageCallback done);

 private:
  struct Exchange;
  class Attempts;
  class SearchCall;

  using ExchangeCallback =
      absl::AnyInvocable<void(absl::StatusOr<HttpResponse>) &&>;

  // Sends `exchange`, retrying per policy; `done` gets the last result.
  void Send(Exchange exchange, const CallContext& context,
            ExchangeCallback done);
  // An exchange about intent `intent_id` whose 2xx body is that
  // PaymentIntent (another intent is a bad response).
  void SendForIntent(Exchange exchange, std::string intent_id,
                     const CallContext& context, IntentCallback done);
  // A money-moving exchange: the parsed 2xx body and the request's Effect.
  template <typename T, typename Parse>
  void SendOperation(Exchange exchange, const CallContext& context, Parse parse,
                     OperationCallback<T> done);

  HttpTransport& transport_;
  const DojoClientOptions options_;
  metrics::Metrics* const metrics_;
  std::unique_ptr<RetryBudget> budget_;
};

// Payment intent ids are safe to place in a URL path: 1..100 characters of
// [A-Za-z0-9_-].
bool IsValidIntentId(absl::string_view id);

// Maps a final exchange result to a status: Dojo's HTTP errors per
// dojo_errors.h; transport failures to UNAVAILABLE (with RetryInfo) unless
// the caller's deadline is what ran out (DEADLINE_EXCEEDED).
absl::Status ExchangeFailure(const absl::StatusOr<HttpResponse>& result,
                             absl::Time deadline);

}  // namespace payments::dojo

#endif  // LIB_DOJO_DOJO_CLIENT_H_
