#include "client/rpc_error.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace payments::client {
namespace {

// Adds one google.protobuf.Any detail to `error`.
void AddDetail(absl::string_view type_url, const std::string& value,
               RpcError& error) {
  absl::string_view type = type_url;
  // Any's type URL may use another host; only the last segment names it.
  if (size_t slash = type.rfind('/'); slash != absl::string_view::npos) {
    type.remove_prefix(slash + 1);
  }
  if (type == "google.rpc.BadRequest") {
    google::rpc::BadRequest bad_request;
    if (bad_request.ParseFromString(value)) {
      for (const auto& v : bad_request.field_violations()) {
        error.field_violations.push_back({v.field(), v.description()});
      }
      return;
    }
  } else if (type == "google.rpc.ErrorInfo") {
    google::rpc::ErrorInfo info;
    if (info.ParseFromString(value)) {
      error.reason = info.reason();
      error.domain = info.domain();
      error.metadata.insert(info.metadata().begin(), info.metadata().end());
      return;
    }
  } else if (type == "google.rpc.RetryInfo") {
    google::rpc::RetryInfo retry;
    if (retry.ParseFromString(value)) {
      error.retry_delay = absl::Seconds(retry.retry_delay().seconds()) +
                          absl::Nanoseconds(retry.retry_delay().nanos());
      return;
    }
  }
  error.other_details.emplace_back(type_url);
}

void AddDetails(const google::rpc::Status& rich, RpcError& error) {
  for (const auto& any : rich.details()) {
    AddDetail(any.type_url(), any.value(), error);
  }
}

}  // namespace

std::string CodeName(absl::StatusCode code) {
  return absl::StatusCodeToString(code);
}

RpcError ParseRpcError(const grpc::Status& status) {
  RpcError error;
  error.code = static_cast<absl::StatusCode>(status.error_code());
  error.message = status.error_message();
  if (!status.error_details().empty()) {
    google::rpc::Status rich;
    if (rich.ParseFromString(status.error_details())) {
      AddDetails(rich, error);
    } else {
      error.other_details.emplace_back("(undecodable grpc-status-details-bin)");
    }
  }
  return error;
}

RpcError ParseRpcError(const absl::Status& status) {
  RpcError error;
  error.code = status.code();
  error.message = std::string(status.message());
  if (auto whole = status.GetPayload(kRpcStatusPayload)) {
    google::rpc::Status rich;
    if (rich.ParseFromString(std::string(*whole))) {
      error.message = rich.message();
      AddDetails(rich, error);
      return error;
    }
  }
  status.ForEachPayload(
      [&error](absl::string_view type_url, const absl::Cord& payload) {
        AddDetail(type_url, std::string(payload), error);
      });
  return error;
}

absl::Status ToAbslStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  const RpcError error = ParseRpcError(status);
  absl::Status result(error.code, OneLineSummary(error));
  if (status.error_details().empty()) return result;
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return result;
  for (const auto& any : rich.details()) {
    result.SetPayload(any.type_url(), absl::Cord(any.value()));
  }
  result.SetPayload(kRpcStatusPayload, absl::Cord(status.error_details()));
  return result;
}

std::string OneLineSummary(const RpcError& error) {
  std::vector<std::string> parts;
  for (const auto& v : error.field_violations) {
    parts.push_back(absl::StrCat(v.field, ": ", v.description));
  }
  if (!error.reason.empty()) {
    std::string reason = absl::StrCat("reason ", error.reason);
    if (!error.metadata.empty()) {
      absl::StrAppend(
          &reason, " (",
          absl::StrJoin(error.metadata, ", ", absl::PairFormatter("=")), ")");
    }
    parts.push_back(std::move(reason));
  }
  if (error.retry_delay.has_value()) {
    parts.push_back(
        absl::StrCat("retry after ", absl::FormatDuration(*error.retry_delay)));
  }
  for (const auto& other : error.other_details) {
    parts.push_back(absl::StrCat("detail ", other));
  }
  if (parts.empty()) return error.message;
  return absl::StrCat(error.message, " [", absl::StrJoin(parts, "; "), "]");
}

std::string FormatRpcError(const RpcError& error) {
  std::string out =
      absl::StrCat(CodeName(error.code), " (", static_cast<int>(error.code),
                   "): ", error.message, "\n");
  for (const auto& v : error.field_violations) {
    absl::StrAppend(&out, "  field ", v.field, ": ", v.description, "\n");
  }
  if (!error.reason.empty()) {
    absl::StrAppend(&out, "  reason: ", error.reason);
    if (!error.domain.empty()) {
      absl::StrAppend(&out, " (domain ", error.domain, ")");
    }
    absl::StrAppend(&out, "\n");
    for (const auto& [key, value] : error.metadata) {
      absl::StrAppend(&out, "    ", key, ": ", value, "\n");
    }
  }
  if (error.retry_delay.has_value()) {
    absl::StrAppend(&out,
                    "  retry after: ", absl::FormatDuration(*error.retry_delay),
                    "\n");
  }
  for (const auto& other : error.other_details) {
    absl::StrAppend(&out, "  detail: ", other, "\n");
  }
  return out;
}

std::string FormatRpcError(const grpc::Status& status) {
  return FormatRpcError(ParseRpcError(status));
}

}  // namespace payments::client
