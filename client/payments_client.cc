#include "client/payments_client.h"

#include <utility>

#include "client/channel_factory.h"
#include "client/rpc_error.h"
#include "google/protobuf/wrappers.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/impl/rpc_method.h"
#include "payments/v1/payments_service.grpc.pb.h"

namespace payments::client {

struct PaymentsClient::Channel {
  explicit Channel(std::shared_ptr<grpc::Channel> c)
      : channel(std::move(c)),
        stub(v1::PaymentsService::NewStub(channel)),
        health_check("/grpc.health.v1.Health/Check",
                     grpc::internal::RpcMethod::NORMAL_RPC, channel) {}

  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::PaymentsService::Stub> stub;
  // Registered on the channel like a generated stub's methods.
  grpc::internal::RpcMethod health_check;
};

namespace {

void Prepare(const ClientOptions& options, const CallOptions& call,
             grpc::ClientContext& context) {
  const absl::Duration timeout = call.deadline > absl::ZeroDuration()
                                     ? call.deadline
                                     : options.default_deadline;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!call.request_id.empty()) {
    context.AddMetadata("x-request-id", call.request_id);
  }
}

// Runs one unary call through a generated stub method.
template <typename Request, typename Response, typename Method>
absl::StatusOr<Response> Unary(const ClientOptions& options,
                               const CallOptions& call, Method method,
                               v1::PaymentsService::Stub& stub,
                               const Request& request) {
  grpc::ClientContext context;
  Prepare(options, call, context);
  Response response;
  grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) return ToAbslStatus(status);
  return response;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PaymentsClient>> PaymentsClient::Create(
    ClientOptions options) {
  if (absl::Status valid = ValidateClientOptions(options); !valid.ok()) {
    return valid;
  }
  auto channel = CreateChannel(options);
  if (!channel.ok()) return channel.status();
  auto state = std::make_unique<Channel>(*std::move(channel));
  return std::unique_ptr<PaymentsClient>(
      new PaymentsClient(std::move(options), std::move(state)));
}

PaymentsClient::PaymentsClient(ClientOptions options,
                               std::unique_ptr<Channel> channel)
    : options_(std::move(options)), channel_(std::move(channel)) {}

PaymentsClient::~PaymentsClient() = default;

absl::StatusOr<v1::CreateIntentResponse> PaymentsClient::CreateIntent(
    const v1::CreateIntentRequest& request, const CallOptions& call) {
  return Unary<v1::CreateIntentRequest, v1::CreateIntentResponse>(
      options_, call, &v1::PaymentsService::Stub::CreateIntent, *channel_->stub,
      request);
}

absl::StatusOr<v1::CreatePaymentLinkResponse> PaymentsClient::CreatePaymentLink(
    const v1::CreatePaymentLinkRequest& request, const CallOptions& call) {
  return Unary<v1::CreatePaymentLinkRequest, v1::CreatePaymentLinkResponse>(
      options_, call, &v1::PaymentsService::Stub::CreatePaymentLink,
      *channel_->stub, request);
}

absl::StatusOr<v1::GetIntentResponse> PaymentsClient::GetIntent(
    const v1::GetIntentRequest& request, const CallOptions& call) {
  return Unary<v1::GetIntentRequest, v1::GetIntentResponse>(
      options_, call, &v1::PaymentsService::Stub::GetIntent, *channel_->stub,
      request);
}

absl::StatusOr<v1::RefreshClientSessionSecretResponse>
PaymentsClient::RefreshClientSessionSecret(
    const v1::RefreshClientSessionSecretRequest& request,
    const CallOptions& call) {
  return Unary<v1::RefreshClientSessionSecretRequest,
               v1::RefreshClientSessionSecretResponse>(
      options_, call, &v1::PaymentsService::Stub::RefreshClientSessionSecret,
      *channel_->stub, request);
}

absl::StatusOr<v1::VerifyWebhookResponse> PaymentsClient::VerifyWebhook(
    const v1::VerifyWebhookRequest& request, const CallOptions& call) {
  return Unary<v1::VerifyWebhookRequest, v1::VerifyWebhookResponse>(
      options_, call, &v1::PaymentsService::Stub::VerifyWebhook,
      *channel_->stub, request);
}

absl::StatusOr<v1::CancelIntentResponse> PaymentsClient::CancelIntent(
    const v1::CancelIntentRequest& request, const CallOptions& call) {
  return Unary<v1::CancelIntentRequest, v1::CancelIntentResponse>(
      options_, call, &v1::PaymentsService::Stub::CancelIntent, *channel_->stub,
      request);
}

absl::StatusOr<v1::CaptureIntentResponse> PaymentsClient::CaptureIntent(
    const v1::CaptureIntentRequest& request, const CallOptions& call) {
  return Unary<v1::CaptureIntentRequest, v1::CaptureIntentResponse>(
      options_, call, &v1::PaymentsService::Stub::CaptureIntent,
      *channel_->stub, request);
}

absl::StatusOr<v1::ReverseIntentResponse> PaymentsClient::ReverseIntent(
    const v1::ReverseIntentRequest& request, const CallOptions& call) {
  return Unary<v1::ReverseIntentRequest, v1::ReverseIntentResponse>(
      options_, call, &v1::PaymentsService::Stub::ReverseIntent,
      *channel_->stub, request);
}

absl::StatusOr<v1::RefundIntentResponse> PaymentsClient::RefundIntent(
    const v1::RefundIntentRequest& request, const CallOptions& call) {
  return Unary<v1::RefundIntentRequest, v1::RefundIntentResponse>(
      options_, call, &v1::PaymentsService::Stub::RefundIntent, *channel_->stub,
      request);
}

absl::StatusOr<v1::GetRefundResponse> PaymentsClient::GetRefund(
    const v1::GetRefundRequest& request, const CallOptions& call) {
  return Unary<v1::GetRefundRequest, v1::GetRefundResponse>(
      options_, call, &v1::PaymentsService::Stub::GetRefund, *channel_->stub,
      request);
}

absl::StatusOr<v1::ListIntentsResponse> PaymentsClient::ListIntents(
    const v1::ListIntentsRequest& request, const CallOptions& call) {
  return Unary<v1::ListIntentsRequest, v1::ListIntentsResponse>(
      options_, call, &v1::PaymentsService::Stub::ListIntents, *channel_->stub,
      request);
}

absl::StatusOr<ServingStatus> PaymentsClient::CheckHealth(
    absl::string_view service, const CallOptions& call) {
  // grpc.health.v1's HealthCheckRequest is {string service = 1;} and its
  // HealthCheckResponse {ServingStatus status = 1;}: on the wire exactly a
  // StringValue and an Int32Value (an enum is a varint). Using those well-
  // known types keeps a second copy of health.proto's descriptors out of
  // this library, which would clash with the server's copy in one process.
  grpc::ClientContext context;
  Prepare(options_, call, context);
  google::protobuf::StringValue request;
  request.set_value(std::string(service));
  google::protobuf::Int32Value response;
  grpc::Status status = grpc::internal::BlockingUnaryCall<
      google::protobuf::StringValue, google::protobuf::Int32Value,
      google::protobuf::MessageLite, google::protobuf::MessageLite>(
      channel_->channel.get(), channel_->health_check, &context, request,
      &response);
  if (!status.ok()) return ToAbslStatus(status);
  switch (response.value()) {
    case 1:
      return ServingStatus::kServing;
    case 2:
      return ServingStatus::kNotServing;
    default:
      return ServingStatus::kUnknown;
  }
}

}  // namespace payments::client
