#include "server/grpc_status.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/status.pb.h"
#include "lib/common/status_details.h"
#include "lib/common/utf8.h"

namespace payments::server {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;
using grpc::experimental::ServerRpcInfo;

class MalformedRequestInterceptor final
    : public grpc::experimental::Interceptor {
 public:
  explicit MalformedRequestInterceptor(const ServerRpcInfo& info)
      : method_(info.method() == nullptr ? "" : info.method()),
        unary_(info.type() == ServerRpcInfo::Type::UNARY) {}

  void Intercept(InterceptorBatchMethods* methods) override {
    // Only a unary call always carries exactly one message: for streams, a
    // null message is the end of the stream.
    if (unary_ && methods->QueryInterceptionHookPoint(
                      InterceptionHookPoints::POST_RECV_MESSAGE)) {
      malformed_ = methods->GetRecvMessage() == nullptr;
    }
    if (malformed_ && methods->QueryInterceptionHookPoint(
                          InterceptionHookPoints::PRE_SEND_STATUS)) {
      // gRPC's own answer to a request it could not deserialize.
      if (methods->GetSendStatus().error_code() ==
          grpc::StatusCode::UNIMPLEMENTED) {
        methods->ModifySendStatus(MalformedRequestStatus(method_));
      }
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  const bool unary_;
  bool malformed_ = false;
};

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  // Library messages may quote upstream text: keep it a valid proto3 string.
  const std::string message =
      utf8::Truncate(status.message(), kMaxStatusMessageBytes);
  google::rpc::Status rich;
  rich.set_code(static_cast<int>(status.code()));
  rich.set_message(message);
  status.ForEachPayload(
      [&rich](absl::string_view type_url, const absl::Cord& payload) {
        if (!absl::StartsWith(type_url, "type.googleapis.com/google.rpc.")) {
          return;  // Internal payloads stay internal.
        }
        auto* any = rich.add_details();
        any->set_type_url(std::string(type_url));
        any->set_value(std::string(payload));
      });
  if (rich.details_size() == 0) return grpc::Status(code, message);
  return grpc::Status(code, message, rich.SerializeAsString());
}

grpc::Status MalformedRequestStatus(absl::string_view method) {
  // "/payments.v1.PaymentsService/CreateIntent" -> "CreateIntent".
  const absl::string_view name = method.substr(method.rfind('/') + 1);
  return ToGrpcStatus(ErrorWithReason(
      absl::StatusCode::kInvalidArgument,
      absl::StrCat("invalid request: the message is not a valid ", name,
                   " request (malformed protobuf, or a string field that is "
                   "not valid UTF-8)"),
      reason::kMalformedRequest, {{"method", std::string(method)}}));
}

grpc::experimental::Interceptor*
MalformedRequestInterceptorFactory::CreateServerInterceptor(
    ServerRpcInfo* info) {
  return new MalformedRequestInterceptor(*info);
}

}  // namespace payments::server
