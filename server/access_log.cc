#include "server/access_log.h"

#include <cmath>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/server_context.h"
#include "lib/metrics/metrics.h"
#include "server/caller_identity.h"

namespace payments::server {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;
using grpc::experimental::ServerRpcInfo;

constexpr absl::string_view kPaymentsService = "payments.v1.PaymentsService";
constexpr size_t kMaxAccountLength = 64;

std::mt19937_64& Random() {
  thread_local std::mt19937_64 random(std::random_device{}());
  return random;
}

bool IsLowerHex(absl::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

class AccessLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  AccessLogInterceptor(ServerRpcInfo& info, double sample_ratio)
      : info_(info), sample_ratio_(sample_ratio), start_(absl::Now()) {
    // "/payments.v1.PaymentsService/CreateIntent"
    const absl::string_view full = info.method();
    const size_t slash = full.rfind('/');
    service_ = std::string(full.substr(1, slash - 1));
    method_ = std::string(full.substr(slash + 1));
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      ReadMetadata(*methods->GetRecvInitialMetadata());
      // Before the handler runs: ServerContext caches the auth context
      // without a lock, so it is first built here, on one thread.
      if (info_.server_context() != nullptr) {
        caller_ = CallerIdentity(info_.server_context()->auth_context().get());
      }
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE)) {
      ReadAccount(methods->GetRecvMessage());
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      auto* metadata = methods->GetSendInitialMetadata();
      metadata->emplace("x-request-id", request_id_.id);
      if (!request_id_.rejected.empty()) {
        metadata->emplace("x-request-id-rejected", request_id_.rejected);
      }
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      LogCall(methods->GetSendStatus());
    }
    methods->Proceed();
  }

 private:
  void ReadMetadata(
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
    std::optional<absl::string_view> sent;
    if (auto it = metadata.find("x-request-id"); it != metadata.end()) {
      sent = absl::string_view(it->second.data(), it->second.size());
    }
    request_id_ = ResolveRequestId(sent);
    if (auto it = metadata.find("traceparent"); it != metadata.end()) {
      const absl::string_view value(it->second.data(), it->second.size());
      if (IsValidTraceparent(value)) traceparent_ = std::string(value);
    }
  }

  // Only this service's messages are known to be protobuf messages (the
  // health service's are raw bytes); each names its account `account`.
  void ReadAccount(void* message) {
    if (message == nullptr || service_ != kPaymentsService) return;
    const auto* request =
        static_cast<const google::protobuf::Message*>(message);
    const auto* field = request->GetDescriptor()->FindFieldByName("account");
    if (field == nullptr ||
        field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
        field->is_repeated()) {
      return;
    }
    account_ = request->GetReflection()->GetString(*request, field);
    if (account_.empty()) account_ = "default";
    if (account_.size() > kMaxAccountLength) account_.resize(kMaxAccountLength);
  }

  void LogCall(const grpc::Status& status) {
    const bool ok = status.ok();
    if (ok && sample_ratio_ < 1.0 &&
        std::uniform_real_distribution<double>(0, 1)(Random()) >=
            sample_ratio_) {
      return;
    }
    const double millis = absl::ToDoubleMilliseconds(absl::Now() - start_);
    LogFields fields = {{"service", service_},
                        {"method", method_},
                        {"code", metrics::GrpcCodeName(status.error_code())},
                        {"duration_ms", std::round(millis * 1000) / 1000},
                        {"request_id", request_id_.id}};
    if (!request_id_.rejected.empty()) {
      fields.emplace_back("request_id_rejected", request_id_.rejected);
    }
    if (!caller_.empty()) fields.emplace_back("caller", caller_);
    if (!account_.empty()) fields.emplace_back("account", account_);
    if (!traceparent_.empty()) fields.emplace_back("traceparent", traceparent_);
    if (!ok) {
      for (LogField& field : FailureFields(status)) {
        fields.push_back(std::move(field));
      }
    }
    Log(ok ? LogLevel::kInfo : LogLevel::kWarning, ok ? "rpc" : "rpc_failed",
        fields);
  }

  ServerRpcInfo& info_;
  const double sample_ratio_;
  const absl::Time start_;
  std::string caller_;
  std::string service_;
  std::string method_;
  RequestId request_id_ = ResolveRequestId(std::nullopt);
  std::string account_;
  std::string traceparent_;
};

}  // namespace

RequestId ResolveRequestId(std::optional<absl::string_view> sent) {
  RequestId result;
  if (sent.has_value()) {
    if (sent->empty()) {
      result.rejected = "empty";
    } else if (sent->size() > kMaxRequestIdLength) {
      result.rejected = "too_long";
    } else {
      for (char c : *sent) {
        if (c <= 0x20 || c >= 0x7f) result.rejected = "invalid_characters";
      }
    }
    if (result.rejected.empty()) {
      result.id = std::string(*sent);
      return result;
    }
  }
  result.id = absl::StrFormat("%016x", Random()());
  return result;
}

bool IsValidTraceparent(absl::string_view value) {
  // version "-" trace-id "-" parent-id "-" flags, e.g.
  // 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
  const std::vector<absl::string_view> parts = absl::StrSplit(value, '-');
  if (parts.size() < 4 || parts[0].size() != 2 || parts[1].size() != 32 ||
      parts[2].size() != 16 || parts[3].size() != 2) {
    return false;
  }
  for (int i = 0; i < 4; ++i) {
    if (!IsLowerHex(parts[i])) return false;
  }
  if (parts[0] == "ff" || (parts[0] == "00" && parts.size() != 4)) {
    return false;
  }
  return parts[1] != std::string(32, '0') && parts[2] != std::string(16, '0');
}

LogFields FailureFields(const grpc::Status& status) {
  LogFields fields = {{"message", status.error_message()}};
  google::rpc::Status rich;
  if (status.error_details().empty() ||
      !rich.ParseFromString(status.error_details())) {
    return fields;
  }
  for (const google::protobuf::Any& detail : rich.details()) {
    google::rpc::ErrorInfo info;
    if (!detail.UnpackTo(&info)) continue;
    fields.emplace_back("reason", info.reason());
    if (auto it = info.metadata().find("trace_id");
        it != info.metadata().end()) {
      fields.emplace_back("dojo_trace_id", it->second);
    }
  }
  return fields;
}

grpc::experimental::Interceptor*
AccessLogInterceptorFactory::CreateServerInterceptor(ServerRpcInfo* info) {
  return new AccessLogInterceptor(*info, sample_ratio_);
}

}  // namespace payments::server
