#ifndef CLIENT_PAYMENTS_CLIENT_H_
#define CLIENT_PAYMENTS_CLIENT_H_

// A typed client for payments.v1.PaymentsService (and the standard health
// check), over one gRPC channel.
//
//   auto client = payments::client::PaymentsClient::Create(
//       {.target = "payments.internal:50051"});
//   if (!client.ok()) ...;
//   absl::StatusOr<payments::v1::GetIntentResponse> got =
//       (*client)->GetIntent(request);
//   if (!got.ok()) std::cerr << got.status().message();  // readable details
//
// What the channel does for every call:
//   - a deadline, always: CallOptions::deadline, else
//     ClientOptions::default_deadline;
//   - proto/service_config.json: waiting for a connection up to the
//     deadline, retries of the read RPCs only, on UNAVAILABLE and CANCELLED
//     (a stopping server's), with gRPC's
//     retry throttling (see client/service_config.h for which and why);
//   - keepalive pings (ClientOptions::keepalive).
// Errors are absl::Status with the gRPC code; the message is a one-line
// summary of the server's message and its google.rpc details, and the
// details stay attached (ParseRpcError() in client/rpc_error.h decodes them,
// FormatRpcError() prints them).
//
// Thread safety: a PaymentsClient is safe to use from many threads at once;
// share one per process and target (it owns one HTTP/2 connection pool).
// This header keeps gRPC's channel and stub headers out of its includers.

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/client_options.h"
#include "payments/v1/payments_service.pb.h"

namespace payments::client {

struct CallOptions {
  // Time the call may take, from now; zero means the client's default.
  absl::Duration deadline = absl::ZeroDuration();
  // Sent as `x-request-id` metadata; the server logs it with a failure.
  // Empty: the server generates one.
  std::string request_id;
};

enum class ServingStatus { kUnknown, kServing, kNotServing };

class PaymentsClient final {
 public:
  // Builds the channel (it connects lazily, on the first call). Fails with
  // INVALID_ARGUMENT on bad options or unreadable TLS files.
  static absl::StatusOr<std::unique_ptr<PaymentsClient>> Create(
      ClientOptions options);
  ~PaymentsClient();

  PaymentsClient(const PaymentsClient&) = delete;
  PaymentsClient& operator=(const PaymentsClient&) = delete;

  // Not retried by the channel: repeat deliberately with the same
  // `reference`, which the server deduplicates.
  absl::StatusOr<v1::CreateIntentResponse> CreateIntent(
      const v1::CreateIntentRequest& request, const CallOptions& call = {});
  absl::StatusOr<v1::CreatePaymentLinkResponse> CreatePaymentLink(
      const v1::CreatePaymentLinkRequest& request,
      const CallOptions& call = {});
  // Retried on UNAVAILABLE and CANCELLED (proto/service_config.json).
  absl::StatusOr<v1::GetIntentResponse> GetIntent(
      const v1::GetIntentRequest& request, const CallOptions& call = {});
  // Not retried: each call invalidates the previous secret.
  absl::StatusOr<v1::RefreshClientSessionSecretResponse>
  RefreshClientSessionSecret(
      const v1::RefreshClientSessionSecretRequest& request,
      const CallOptions& call = {});
  // The lifecycle. Not retried by the channel; each is idempotent on the
  // server (captures and refunds by their key, cancels and reversals by the
  // intent), so repeat deliberately with the same parameters after
  // UNAVAILABLE or DEADLINE_EXCEEDED.
  absl::StatusOr<v1::CancelIntentResponse> CancelIntent(
      const v1::CancelIntentRequest& request, const CallOptions& call = {});
  absl::StatusOr<v1::CaptureIntentResponse> CaptureIntent(
      const v1::CaptureIntentRequest& request, const CallOptions& call = {});
  absl::StatusOr<v1::ReverseIntentResponse> ReverseIntent(
      const v1::ReverseIntentRequest& request, const CallOptions& call = {});
  absl::StatusOr<v1::RefundIntentResponse> RefundIntent(
      const v1::RefundIntentRequest& request, const CallOptions& call = {});
  // Reads; retried by the channel (proto/service_config.json).
  absl::StatusOr<v1::GetRefundResponse> GetRefund(
      const v1::GetRefundRequest& request, const CallOptions& call = {});
  absl::StatusOr<v1::ListIntentsResponse> ListIntents(
      const v1::ListIntentsRequest& request, const CallOptions& call = {});
  // Not retried: the server remembers the event id, so a repeat after a
  // lost answer would report a duplicate.
  absl::StatusOr<v1::VerifyWebhookResponse> VerifyWebhook(
      const v1::VerifyWebhookRequest& request, const CallOptions& call = {});

  // grpc.health.v1.Health/Check for `service` ("" = the whole server).
  // NOT_FOUND when the server does not know the service.
  absl::StatusOr<ServingStatus> CheckHealth(absl::string_view service,
                                            const CallOptions& call = {});

  const ClientOptions& options() const { return options_; }

 private:
  struct Channel;  // the gRPC channel and stub, defined in the .cc
  PaymentsClient(ClientOptions options, std::unique_ptr<Channel> channel);

  const ClientOptions options_;
  const std::unique_ptr<Channel> channel_;
};

}  // namespace payments::client

#endif  // CLIENT_PAYMENTS_CLIENT_H_
