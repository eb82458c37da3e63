#ifndef SERVER_CALLER_GUARD_H_
#define SERVER_CALLER_GUARD_H_

// The caller policy at the gRPC layer: every PaymentsService call is checked
// (caller identity x RPC x account, then the rate limits) before its use
// case runs, so a refused call sends nothing upstream. The policy file is
// re-read every `reload_interval`; a changed valid policy replaces the old
// one (logged `policy_reloaded`), an invalid one is logged
// (`policy_reload_failed`) and the old one kept.

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"
#include "lib/auth/access_control.h"
#include "lib/metrics/metrics.h"

namespace payments::server {

class CallerGuard final {
 public:
  // `policy_file` empty: no policy (every call allowed, no limits, still
  // counted as caller "other"). Fails (INVALID_ARGUMENT) when the file
  // cannot be read or is invalid. `metrics` must outlive the guard.
  static absl::StatusOr<std::unique_ptr<CallerGuard>> Create(
      std::string policy_file, absl::Duration reload_interval,
      metrics::Metrics& metrics);
  ~CallerGuard();

  // nullopt: the call may proceed. Else the status to finish it with:
  // PERMISSION_DENIED (ErrorInfo CALLER_NOT_ALLOWED with caller, rpc,
  // account) or RESOURCE_EXHAUSTED (ErrorInfo CALLER_RATE_LIMITED,
  // RetryInfo).
  std::optional<grpc::Status> Admit(const grpc::CallbackServerContext& context,
                                    const google::protobuf::Message& request,
                                    absl::string_view method);

 private:
  CallerGuard(std::string policy_file, metrics::Metrics& metrics);
  // Reads and applies the file; an error leaves the current policy.
  absl::Status Load();

  const std::string policy_file_;
  metrics::Metrics& metrics_;
  auth::AccessControl access_;
  std::string current_text_;
  std::string last_error_;
  absl::Notification stop_;
  std::thread thread_;
};

// The RPC names of payments.v1.PaymentsService.
std::set<std::string> PaymentsRpcNames();

}  // namespace payments::server

#endif  // SERVER_CALLER_GUARD_H_
