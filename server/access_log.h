#ifndef SERVER_ACCESS_LOG_H_
#define SERVER_ACCESS_LOG_H_

// The access log and the request id of every call, as a server interceptor:
//   - The request id is the caller's `x-request-id` when it is valid (1 to
//     64 visible ASCII characters, 0x21-0x7E: no spaces or control
//     characters), else a generated one. Either way it goes back in the
//     response's initial metadata (`x-request-id`), so the caller has it on
//     errors too. A rejected id is said so: `x-request-id-rejected: REASON`
//     in the response and `request_id_rejected` in the log line.
//   - One JSON line per call (lib/common/logger.h): event `rpc` for OK,
//     sampled by `sample_ratio`; `rpc_failed` for any other code, always.
//     Fields: service, method, code, duration_ms, request_id, caller (the
//     identity of the client certificate, server/caller_identity.h), account
//     (the request's `account`, `default` when empty), the caller's W3C
//     `traceparent` when valid; on failure also message, and the ErrorInfo
//     `reason` and Dojo's trace id (`dojo_trace_id`) when the status has
//     them. Nothing from the request body but the account name is logged.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"
#include "grpcpp/support/status.h"
#include "lib/common/logger.h"

namespace payments::server {

inline constexpr size_t kMaxRequestIdLength = 64;

struct RequestId {
  std::string id;
  // Why the caller's id was not used ("empty", "too_long",
  // "invalid_characters"); empty when it was, or when none was sent.
  std::string rejected;
};

// The request id of a call whose `x-request-id` is `sent` (nullopt: none).
RequestId ResolveRequestId(std::optional<absl::string_view> sent);

// True for a W3C trace context `traceparent` header value of version 00 (or
// a later version, whose first four fields keep that shape).
bool IsValidTraceparent(absl::string_view value);

// The failure fields of a status: message, and from the google.rpc.Status
// in its details, the ErrorInfo reason and the `trace_id` metadata as
// dojo_trace_id.
LogFields FailureFields(const grpc::Status& status);

class AccessLogInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `sample_ratio` (0..1): the share of OK calls logged.
  explicit AccessLogInterceptorFactory(double sample_ratio)
      : sample_ratio_(sample_ratio) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  const double sample_ratio_;
};

}  // namespace payments::server

#endif  // SERVER_ACCESS_LOG_H_
