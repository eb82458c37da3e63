#include "lib/common/status_details.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/duration.pb.h"
#include "lib/common/utf8.h"

namespace payments {
namespace {

constexpr absl::string_view kTypeUrlPrefix = "type.googleapis.com/";

// Proto3 strings must be valid UTF-8, or the receiver cannot decode the
// google.rpc.Status at all (and loses the trace id and the violations).
std::string Truncated(absl::string_view text) {
  return utf8::Truncate(text, kMaxDetailText);
}

template <typename Message>
std::string TypeUrl() {
  return std::string(kTypeUrlPrefix) + Message::descriptor()->full_name();
}

template <typename Message>
void SetDetail(absl::Status& status, const Message& message) {
  if (status.ok()) return;  // OK statuses carry no payloads.
  status.SetPayload(TypeUrl<Message>(),
                    absl::Cord(message.SerializeAsString()));
}

template <typename Message>
std::optional<Message> GetDetail(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(TypeUrl<Message>());
  if (!payload.has_value()) return std::nullopt;
  Message message;
  if (!message.ParseFromString(std::string(*payload))) return std::nullopt;
  return message;
}

}  // namespace

void SetErrorInfo(absl::Status& status, absl::string_view reason,
                  const std::map<std::string, std::string>& metadata) {
  google::rpc::ErrorInfo info;
  info.set_reason(Truncated(reason));
  info.set_domain(std::string(kErrorDomain));
  for (const auto& [key, value] : metadata) {
    (*info.mutable_metadata())[Truncated(key)] = Truncated(value);
  }
  SetDetail(status, info);
}

void SetRetryInfo(absl::Status& status, absl::Duration delay) {
  google::rpc::RetryInfo info;
  const int64_t millis = absl::ToInt64Milliseconds(delay);
  info.mutable_retry_delay()->set_seconds(millis / 1000);
  info.mutable_retry_delay()->set_nanos(static_cast<int32_t>(millis % 1000) *
                                        1000000);
  SetDetail(status, info);
}

void SetBadRequest(absl::Status& status,
                   const std::vector<FieldViolation>& violations) {
  google::rpc::BadRequest bad_request;
  const size_t shown = std::min(violations.size(), kMaxFieldViolations);
  for (size_t i = 0; i < shown; ++i) {
    auto* added = bad_request.add_field_violations();
    added->set_field(Truncated(violations[i].field));
    added->set_description(Truncated(violations[i].description));
  }
  if (violations.size() > shown) {
    auto* more = bad_request.add_field_violations();
    more->set_description(absl::StrCat("... ", violations.size() - shown,
                                       " more violations not shown (at most ",
                                       kMaxFieldViolations, " are listed)"));
  }
  SetDetail(status, bad_request);
}

std::optional<google::rpc::ErrorInfo> GetErrorInfo(const absl::Status& status) {
  return GetDetail<google::rpc::ErrorInfo>(status);
}

std::optional<google::rpc::RetryInfo> GetRetryInfo(const absl::Status& status) {
  return GetDetail<google::rpc::RetryInfo>(status);
}

std::optional<google::rpc::BadRequest> GetBadRequest(
    const absl::Status& status) {
  return GetDetail<google::rpc::BadRequest>(status);
}

absl::Status InvalidArgumentError(
    absl::string_view message, const std::vector<FieldViolation>& violations) {
  absl::Status status = absl::InvalidArgumentError(message);
  SetBadRequest(status, violations);
  return status;
}

absl::Status ErrorWithReason(
    absl::StatusCode code, absl::string_view message, absl::string_view reason,
    const std::map<std::string, std::string>& metadata) {
  absl::Status status(code, message);
  SetErrorInfo(status, reason, metadata);
  return status;
}

}  // namespace payments
