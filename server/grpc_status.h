#ifndef SERVER_GRPC_STATUS_H_
#define SERVER_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"
#include "grpcpp/support/status.h"

namespace payments::server {

// The longest status message sent, in bytes (it travels in a trailer).
inline constexpr size_t kMaxStatusMessageBytes = 1024;

// absl::Status -> grpc::Status. Details stored as payloads (see
// lib/common/status_details.h) become google.rpc.Status details in the
// `grpc-status-details-bin` trailer. The message is made valid UTF-8 and cut
// to kMaxStatusMessageBytes at a character boundary, so google.rpc.Status
// always decodes.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The status of a unary call whose request could not be deserialized as
// the method's message (`method`: "/package.Service/Method"):
// INVALID_ARGUMENT with ErrorInfo reason MALFORMED_REQUEST.
grpc::Status MalformedRequestStatus(absl::string_view method);

// gRPC 1.51's callback API answers a unary request whose bytes do not parse
// as the method's message (malformed protobuf, or a proto3 string field that
// is not valid UTF-8) with UNIMPLEMENTED and an empty message, without ever
// calling the handler (CallbackUnaryHandler::RunHandler in
// grpcpp/impl/codegen/server_callback_handlers.h hard-codes it). This
// interceptor sees the failure (the received message is null after
// POST_RECV_MESSAGE) and replaces that status with MalformedRequestStatus()
// before it is sent (PRE_SEND_STATUS). Register it FIRST among the server's
// interceptors: send hooks run in registration order, so the metrics and
// access-log interceptors after it count and log INVALID_ARGUMENT.
class MalformedRequestInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace payments::server

#endif  // SERVER_GRPC_STATUS_H_
