#include "server/caller_guard.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "lib/common/logger.h"
#include "lib/common/status_details.h"
#include "payments/v1/payments_service.pb.h"
#include "server/caller_identity.h"
#include "server/grpc_status.h"

namespace payments::server {

std::set<std::string> PaymentsRpcNames() {
  std::set<std::string> names;
  const google::protobuf::ServiceDescriptor& service =
      *v1::CreateIntentRequest::descriptor()->file()->service(0);
  for (int i = 0; i < service.method_count(); ++i) {
    names.insert(service.method(i)->name());
  }
  return names;
}

absl::StatusOr<std::unique_ptr<CallerGuard>> CallerGuard::Create(
    std::string policy_file, absl::Duration reload_interval,
    metrics::Metrics& metrics) {
  std::unique_ptr<CallerGuard> guard(
      new CallerGuard(std::move(policy_file), metrics));
  if (guard->policy_file_.empty()) return guard;
  if (absl::Status s = guard->Load(); !s.ok()) return s;
  CallerGuard* self = guard.get();
  guard->thread_ = std::thread([self, reload_interval] {
    while (!self->stop_.WaitForNotificationWithTimeout(reload_interval)) {
      (void)self->Load();
    }
  });
  return guard;
}

CallerGuard::CallerGuard(std::string policy_file, metrics::Metrics& metrics)
    : policy_file_(std::move(policy_file)), metrics_(metrics) {}

CallerGuard::~CallerGuard() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

absl::Status CallerGuard::Load() {
  std::ifstream in(policy_file_, std::ios::binary);
  std::ostringstream text;
  absl::Status status;
  if (!in) {
    status = absl::InvalidArgumentError(
        absl::StrCat("PAYMENTS_POLICY_FILE: cannot read ", policy_file_));
  } else {
    text << in.rdbuf();
    if (text.str() == current_text_) return absl::OkStatus();
  }
  absl::StatusOr<auth::CallerPolicy> policy =
      status.ok() ? auth::ParseCallerPolicy(text.str(), PaymentsRpcNames())
                  : absl::StatusOr<auth::CallerPolicy>(status);
  if (!policy.ok()) {
    const std::string error(policy.status().message());
    if (error != last_error_) {
      // The policy holds no secrets: its error may quote it.
      Log(LogLevel::kError, "policy_reload_failed",
          {{"file", policy_file_}, {"error", error}});
      metrics_.PolicyReload("rejected");
      last_error_ = error;
    }
    return absl::InvalidArgumentError(
        absl::StrCat("PAYMENTS_POLICY_FILE: ", error));
  }
  last_error_.clear();
  const bool first = current_text_.empty();
  current_text_ = text.str();
  const size_t callers = policy->callers.size();
  access_.SetPolicy(*std::move(policy));
  metrics_.PolicyReload("loaded");
  Log(LogLevel::kInfo, first ? "policy_loaded" : "policy_reloaded",
      {{"file", policy_file_}, {"callers", static_cast<int>(callers)}});
  return absl::OkStatus();
}

std::optional<grpc::Status> CallerGuard::Admit(
    const grpc::CallbackServerContext& context,
    const google::protobuf::Message& request, absl::string_view method) {
  const std::string caller = CallerIdentity(context.auth_context().get());
  const std::string account = RequestAccount(request);
  const auth::Decision decision =
      access_.Check(caller, method, account, absl::Now());
  const std::string label = access_.CallerLabel(caller);
  switch (decision.verdict) {
    case auth::Decision::Verdict::kAllowed:
      metrics_.CallerCall(label, method,
                          metrics::Metrics::CallerResult::kAllowed);
      return std::nullopt;
    case auth::Decision::Verdict::kDenied: {
      metrics_.CallerCall(label, method,
                          metrics::Metrics::CallerResult::kDenied);
      return ToGrpcStatus(
          ErrorWithReason(absl::StatusCode::kPermissionDenied,
                          absl::StrCat("caller ", caller, " may not call ",
                                       method, " on account ", account),
                          "CALLER_NOT_ALLOWED",
                          {{"caller", caller},
                           {"rpc", std::string(method)},
                           {"account", account}}));
    }
    case auth::Decision::Verdict::kRateLimited: {
      metrics_.CallerCall(label, method,
                          metrics::Metrics::CallerResult::kRateLimited);
      absl::Status status = ErrorWithReason(
          absl::StatusCode::kResourceExhausted,
          absl::StrCat("rate limit ", decision.limit, " exceeded for caller ",
                       caller, " on account ", account),
          "CALLER_RATE_LIMITED",
          {{"caller", caller},
           {"rpc", std::string(method)},
           {"account", account},
           {"limit", decision.limit}});
      // Whole milliseconds, at least one.
      SetRetryInfo(status, std::max(absl::Milliseconds(1),
                                    absl::Ceil(decision.retry_after,
                                               absl::Milliseconds(1))));
      return ToGrpcStatus(status);
    }
  }
  return std::nullopt;
}

}  // namespace payments::server
