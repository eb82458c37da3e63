#include "server/payments_grpc_service.h"

#include <random>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "lib/common/call_context.h"
#include "lib/common/logger.h"
#include "lib/common/unknown_fields.h"
#include "lib/metrics/metrics.h"
#include "server/grpc_status.h"

namespace payments::server {
namespace {

// Whether a response may hold unknown fields (e.g. from a stored record
// written by another version) that must be dropped before it is sent.
enum class Unknown { kDiscard, kNoneBuiltFieldByField };

// Completes a unary RPC: copies the result into `response` and finishes the
// reactor exactly once. The access log (server/access_log.h) logs the call.
template <typename Response>
class Completion {
 public:
  Completion(grpc::CallbackServerContext* context,
             grpc::ServerUnaryReactor* reactor, Response* response,
             absl::string_view method, Unknown unknown)
      : reactor_(reactor), response_(response), unknown_(unknown) {}

  void operator()(absl::StatusOr<Response> result) && {
    if (result.ok()) {
      *response_ = *std::move(result);
      // A response carries only the fields its RPC defines. Even looking
      // for unknown ones walks the message by reflection, so it is skipped
      // where the service builds the response field by field (its header
      // says so).
      if (unknown_ == Unknown::kDiscard) DiscardUnknownFieldsIfAny(*response_);
      reactor_->Finish(grpc::Status::OK);
      return;
    }
    reactor_->Finish(ToGrpcStatus(result.status()));
  }

 private:
  grpc::ServerUnaryReactor* reactor_;
  Response* response_;
  Unknown unknown_;
};

// A unary reactor that tells the use case when the caller goes away, so
// that pending retries stop. Deletes itself once gRPC is done with it.
class CancellableReactor final : public grpc::ServerUnaryReactor {
 public:
  std::shared_ptr<const CancellationFlag> flag() const { return flag_; }
  void OnCancel() override { flag_->Cancel(); }
  void OnDone() override { delete this; }

 private:
  const std::shared_ptr<CancellationFlag> flag_ =
      std::make_shared<CancellationFlag>();
};

template <typename Response>
Completion<Response> Complete(grpc::CallbackServerContext* context,
                              grpc::ServerUnaryReactor* reactor,
                              Response* response, absl::string_view method,
                              Unknown unknown = Unknown::kDiscard) {
  return Completion<Response>(context, reactor, response, method, unknown);
}

// The deadline (the caller's, else the default) and cancellation of a call.
CallContext ContextOf(const grpc::CallbackServerContext& context,
                      const CancellableReactor& reactor,
                      absl::Duration default_deadline) {
  const auto deadline = context.deadline();
  return {.deadline = deadline == std::chrono::system_clock::time_point::max()
                          ? absl::Now() + default_deadline
                          : absl::FromChrono(deadline),
          .cancelled = reactor.flag()};
}

}  // namespace

PaymentsGrpcService::PaymentsGrpcService(PaymentsService& service,
                                         absl::Duration default_deadline,
                                         CallerGuard* guard)
    : service_(service), default_deadline_(default_deadline), guard_(guard) {}

std::optional<grpc::Status> PaymentsGrpcService::Refused(
    const grpc::CallbackServerContext& context,
    const google::protobuf::Message& request, absl::string_view name) {
  if (guard_ == nullptr) return std::nullopt;
  return guard_->Admit(context, request, name);
}

grpc::ServerUnaryReactor* PaymentsGrpcService::CreateIntent(
    grpc::CallbackServerContext* context,
    const v1::CreateIntentRequest* request,
    v1::CreateIntentResponse* response) {
  auto* reactor = new CancellableReactor();
  if (auto refused = Refused(*context, *request, "CreateIntent")) {
    reactor->Finish(*refused);
    return reactor;
  }
  service_.CreateIntent(*request,
                        ContextOf(*context, *reactor, default_deadline_),
                        Complete(context, reactor, response, "CreateIntent"));
  return reactor;
}

grpc::ServerUnaryReactor* PaymentsGrpcService::GetIntent(
    grpc::CallbackServerContext* context, const v1::GetIntentRequest* request,
    v1::GetIntentResponse* response) {
  auto* reactor = new CancellableReactor();
  if (auto refused = Refused(*context, *request, "GetIntent")) {
    reactor->Finish(*refused);
    return reactor;
  }
  service_.GetIntent(*request, ContextOf(*context, *reactor, default_deadline_),
                     Complete(context, reactor, response, "GetIntent",
                              Unknown::kNoneBuiltFieldByField));
  return reactor;
}

grpc::ServerUnaryReactor* PaymentsGrpcService::CreatePaymentLink(
    grpc::CallbackServerContext* context,
    const v1::CreatePaymentLinkRequest* request,
    v1::CreatePaymentLinkResponse* response) {
  auto* reactor = new CancellableReactor();
  if (auto refused = Refused(*context, *request, "CreatePaymentLink")) {
    reactor->Finish(*refused);
    return reactor;
  }
  service_.CreatePaymentLink(
      *request, ContextOf(*context, *reactor, default_deadline_),
      Complete(context, reactor, response, "CreatePaymentLink"));
  return reactor;
}

grpc::ServerUnaryReactor* PaymentsGrpcService::RefreshClientSessionSecret(
    grpc::CallbackServerContext* context,
    const v1::RefreshClientSessionSecretRequest* request,
    v1::RefreshClientSessionSecretResponse* response) {
  auto* reactor = new CancellableReactor();
  if (auto refused =
          Refused(*context, *request, "RefreshClientSessionSecret")) {
    reactor->Finish(*refused);
    return reactor;
  }
  service_.RefreshClientSessionSecret(
      *request, ContextOf(*context, *reactor, default_deadline_),
      Complete(context, reactor, response, "RefreshClientSessionSecret"));
  return reactor;
}

grpc::ServerUnaryReactor* PaymentsGrpcService::VerifyWebhook(
    grpc::CallbackServerContext* context,
    const v1::VerifyWebhookRequest* request,
    v1::VerifyWebhookResponse* response) {
  auto* reactor = new CancellableReactor();
  if (auto refused = Refused(*context, *request, "VerifyWebhook")) {
    reactor->Finish(*refused);
    return reactor;
  }
  service_.VerifyWebhook(*request,
                         Complete(context, reactor, response, "VerifyWebhook",
                                  Unknown::kNoneBuiltFieldByField));
  return reactor;
}

template <typename Request, typename Response>
grpc::ServerUnaryReactor* PaymentsGrpcService::Unary(
    grpc::CallbackServerContext* context, const Request* request,
    Response* response, absl::string_view name,
    void (PaymentsService::*method)(const Request&, const CallContext&,
                                    Done<Response>)) {
  auto* reactor = new CancellableReactor();
  if (auto refused = Refused(*context, *request, name)) {
    reactor->Finish(*refused);
    return reactor;
  }
  (service_.*method)(*request, ContextOf(*context, *reactor, default_deadline_),
                     Complete(context, reactor, response, name));
  return reactor;
}

grpc::ServerUnaryReactor* PaymentsGrpcService::CancelIntent(
    grpc::CallbackServerContext* context,
    const v1::CancelIntentRequest* request,
    v1::CancelIntentResponse* response) {
  return Unary(context, request, response, "CancelIntent",
               &PaymentsService::CancelIntent);
}

grpc::ServerUnaryReactor* PaymentsGrpcService::CaptureIntent(
    grpc::CallbackServerContext* context,
    const v1::CaptureIntentRequest* request,
    v1::CaptureIntentResponse* response) {
  return Unary(context, request, response, "CaptureIntent",
               &PaymentsService::CaptureIntent);
}

grpc::ServerUnaryReactor* PaymentsGrpcService::ReverseIntent(
    grpc::CallbackServerContext* context,
    const v1::ReverseIntentRequest* request,
    v1::ReverseIntentResponse* response) {
  return Unary(context, request, response, "ReverseIntent",
               &PaymentsService::ReverseIntent);
}

grpc::ServerUnaryReactor* PaymentsGrpcService::RefundIntent(
    grpc::CallbackServerContext* context,
    const v1::RefundIntentRequest* request,
    v1::RefundIntentResponse* response) {
  return Unary(context, request, response, "RefundIntent",
               &PaymentsService::RefundIntent);
}

grpc::ServerUnaryReactor* PaymentsGrpcService::GetRefund(
    grpc::CallbackServerContext* context, const v1::GetRefundRequest* request,
    v1::GetRefundResponse* response) {
  return Unary(context, request, response, "GetRefund",
               &PaymentsService::GetRefund);
}

grpc::ServerUnaryReactor* PaymentsGrpcService::ListIntents(
    grpc::CallbackServerContext* context, const v1::ListIntentsRequest* request,
    v1::ListIntentsResponse* response) {
  return Unary(context, request, response, "ListIntents",
               &PaymentsService::ListIntents);
}

}  // namespace payments::server
