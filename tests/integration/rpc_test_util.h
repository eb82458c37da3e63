#ifndef TESTS_INTEGRATION_RPC_TEST_UTIL_H_
#define TESTS_INTEGRATION_RPC_TEST_UTIL_H_

// Small helpers for tests that call payments-server through its stub.

#include <memory>
#include <optional>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "payments/v1/payments_service.pb.h"

namespace payments::testing {

inline std::unique_ptr<grpc::ClientContext> ContextWithDeadline(
    absl::Duration deadline = absl::Seconds(10)) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  return context;
}

// The first detail of type `Detail` in the status's google.rpc.Status.
template <typename Detail>
std::optional<Detail> FindDetail(const grpc::Status& status) {
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return std::nullopt;
  for (const auto& any : rich.details()) {
    Detail detail;
    if (any.UnpackTo(&detail)) return detail;
  }
  return std::nullopt;
}

inline std::string ReasonOf(const grpc::Status& status) {
  auto info = FindDetail<google::rpc::ErrorInfo>(status);
  return info.has_value() ? info->reason() : "";
}

inline v1::CreateIntentRequest MinimalCreate(const std::string& reference,
                                             int64_t value = 1250) {
  v1::CreateIntentRequest request;
  request.set_reference(reference);
  request.mutable_amount()->set_value(value);
  request.mutable_amount()->set_currency_code("GBP");
  return request;
}

}  // namespace payments::testing

#endif  // TESTS_INTEGRATION_RPC_TEST_UTIL_H_
