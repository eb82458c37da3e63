#ifndef SERVER_RPC_METRICS_INTERCEPTOR_H_
#define SERVER_RPC_METRICS_INTERCEPTOR_H_

#include "grpcpp/support/server_interceptor.h"
#include "lib/metrics/metrics.h"

namespace payments::server {

// Records grpc_server_started_total, grpc_server_handled_total and
// grpc_server_handling_seconds for every RPC the server handles.
class RpcMetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `metrics` must outlive the server.
  explicit RpcMetricsInterceptorFactory(metrics::Metrics& metrics)
      : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  metrics::Metrics& metrics_;
};

}  // namespace payments::server

#endif  // SERVER_RPC_METRICS_INTERCEPTOR_H_
