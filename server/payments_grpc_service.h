#ifndef SERVER_PAYMENTS_GRPC_SERVICE_H_
#define SERVER_PAYMENTS_GRPC_SERVICE_H_

#include "absl/time/time.h"
#include "lib/payments/payments_service.h"
#include "payments/v1/payments_service.grpc.pb.h"
#include "server/caller_guard.h"

namespace payments::server {

// The gRPC face of PaymentsService: proto in, absl::Status -> grpc::Status
// out, one structured log line per failed RPC. Handlers never block: each
// returns its reactor at once and Finish() runs when the use case completes.
class PaymentsGrpcService final : public v1::PaymentsService::CallbackService {
 public:
  // `service` (and `guard`, when given) must outlive this object.
  // `default_deadline` applies when the caller sets none. `guard` checks
  // every call against the caller policy before its use case runs.
  PaymentsGrpcService(PaymentsService& service, absl::Duration default_deadline,
                      CallerGuard* guard = nullptr);

  grpc::ServerUnaryReactor* CreateIntent(
      grpc::CallbackServerContext* context,
      const v1::CreateIntentRequest* request,
      v1::CreateIntentResponse* response) override;
  grpc::ServerUnaryReactor* GetIntent(grpc::CallbackServerContext* context,
                                      const v1::GetIntentRequest* request,
                                      v1::GetIntentResponse* response) override;
  grpc::ServerUnaryReactor* CreatePaymentLink(
      grpc::CallbackServerContext* context,
      const v1::CreatePaymentLinkRequest* request,
      v1::CreatePaymentLinkResponse* response) override;
  grpc::ServerUnaryReactor* RefreshClientSessionSecret(
      grpc::CallbackServerContext* context,
      const v1::RefreshClientSessionSecretRequest* request,
      v1::RefreshClientSessionSecretResponse* response) override;
  grpc::ServerUnaryReactor* VerifyWebhook(
      grpc::CallbackServerContext* context,
      const v1::VerifyWebhookRequest* request,
      v1::VerifyWebhookResponse* response) override;
  grpc::ServerUnaryReactor* CancelIntent(
      grpc::CallbackServerContext* context,
      const v1::CancelIntentRequest* request,
      v1::CancelIntentResponse* response) override;
  grpc::ServerUnaryReactor* CaptureIntent(
      grpc::CallbackServerContext* context,
      const v1::CaptureIntentRequest* request,
      v1::CaptureIntentResponse* response) override;
  grpc::ServerUnaryReactor* ReverseIntent(
      grpc::CallbackServerContext* context,
      const v1::ReverseIntentRequest* request,
      v1::ReverseIntentResponse* response) override;
  grpc::ServerUnaryReactor* RefundIntent(
      grpc::CallbackServerContext* context,
      const v1::RefundIntentRequest* request,
      v1::RefundIntentResponse* response) override;
  grpc::ServerUnaryReactor* GetRefund(grpc::CallbackServerContext* context,
                                      const v1::GetRefundRequest* request,
                                      v1::GetRefundResponse* response) override;
  grpc::ServerUnaryReactor* ListIntents(
      grpc::CallbackServerContext* context,
      const v1::ListIntentsRequest* request,
      v1::ListIntentsResponse* response) override;

 private:
  // Runs `method` of the use cases for one unary call.
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* Unary(
      grpc::CallbackServerContext* context, const Request* request,
      Response* response, absl::string_view name,
      void (PaymentsService::*method)(const Request&, const CallContext&,
                                      Done<Response>));

  // The status a call refused by the caller policy ends with, or nullopt.
  std::optional<grpc::Status> Refused(
      const grpc::CallbackServerContext& context,
      const google::protobuf::Message& request, absl::string_view name);

  PaymentsService& service_;
  const absl::Duration default_deadline_;
  CallerGuard* const guard_;
};

}  // namespace payments::server

#endif  // SERVER_PAYMENTS_GRPC_SERVICE_H_
