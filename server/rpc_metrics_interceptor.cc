#include "server/rpc_metrics_interceptor.h"

#include <string>

#include "absl/time/clock.h"

namespace payments::server {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

absl::string_view TypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unary";
}

class RpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(metrics::Metrics& metrics, ServerRpcInfo& info)
      : metrics_(metrics), type_(TypeName(info.type())), start_(absl::Now()) {
    // "/payments.v1.PaymentsService/CreateIntent". The path is the
    // caller's: Metrics counts any method main() did not initialise under
    // one "unknown" label, and a malformed path is left empty (unknown).
    const absl::string_view full =
        info.method() == nullptr ? "" : info.method();
    const size_t slash = full.rfind('/');
    if (!full.empty() && full.front() == '/' && slash != 0 &&
        slash != absl::string_view::npos) {
      service_ = std::string(full.substr(1, slash - 1));
      method_ = std::string(full.substr(slash + 1));
    }
    metrics_.RpcStarted(type_, service_, method_);
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_.RpcHandled(
          type_, service_, method_,
          metrics::GrpcCodeName(methods->GetSendStatus().error_code()),
          absl::ToDoubleSeconds(absl::Now() - start_));
    }
    methods->Proceed();
  }

 private:
  metrics::Metrics& metrics_;
  const absl::string_view type_;
  const absl::Time start_;
  std::string service_;
  std::string method_;
};

}  // namespace

grpc::experimental::Interceptor*
RpcMetricsInterceptorFactory::CreateServerInterceptor(ServerRpcInfo* info) {
  return new RpcMetricsInterceptor(metrics_, *info);
}

}  // namespace payments::server
