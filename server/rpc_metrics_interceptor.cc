#include "server/rpc_metrics_interceptor.h"

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
  // The path ("/payments.v1.PaymentsService/CreateIntent") is the caller's:
  // Metrics counts any method main() did not initialise, and a malformed
  // path, under one "unknown" label. The series are resolved once here.
  RpcMetricsInterceptor(metrics::Metrics& metrics, ServerRpcInfo& info)
      : series_(metrics.RpcSeriesFor(
            TypeName(info.type()),
            info.method() == nullptr ? "" : info.method())),
        start_(absl::Now()) {
    series_.Started();
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      series_.Handled(methods->GetSendStatus().error_code(),
                      absl::ToDoubleSeconds(absl::Now() - start_));
    }
    methods->Proceed();
  }

 private:
  const metrics::Metrics::RpcSeries& series_;
  const absl::Time start_;
};

}  // namespace

grpc::experimental::Interceptor*
RpcMetricsInterceptorFactory::CreateServerInterceptor(ServerRpcInfo* info) {
  return new RpcMetricsInterceptor(metrics_, *info);
}

}  // namespace payments::server
