#ifndef CLIENT_RPC_ERROR_H_
#define CLIENT_RPC_ERROR_H_

// A failed call's status with its google.rpc details decoded: the code, the
// server's message, BadRequest field violations, ErrorInfo reason and
// metadata, RetryInfo delay. Turns them into readable text and into an
// absl::Status that keeps every detail.
//
// Pure functions; no I/O. grpcpp/support/status.h is a small header (no
// channel or stub machinery).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"

namespace payments::client {

struct RpcError {
  struct FieldViolation {
    std::string field;  // proto path, e.g. "amount.currency_code"
    std::string description;
  };

  absl::StatusCode code = absl::StatusCode::kUnknown;
  std::string message;
  std::vector<FieldViolation> field_violations;
  // ErrorInfo; `reason` is empty when the server sent none.
  std::string reason;
  std::string domain;
  std::map<std::string, std::string> metadata;
  // RetryInfo: how long to wait before trying again.
  std::optional<absl::Duration> retry_delay;
  // Type URLs of details this client does not decode (kept, not dropped).
  std::vector<std::string> other_details;
};

// Decodes `status` and its `grpc-status-details-bin` (a serialized
// google.rpc.Status). Undecodable details are listed in other_details.
RpcError ParseRpcError(const grpc::Status& status);

// Decodes a status made by ToAbslStatus() (or any absl::Status carrying
// google.rpc details as payloads keyed by type URL).
RpcError ParseRpcError(const absl::Status& status);

// The same code; message = OneLineSummary(); one payload per google.rpc
// detail (key = type URL, value = serialized message, the convention of
// lib/common/status_details.h), plus the whole google.rpc.Status under
// kRpcStatusPayload so that the server's own message can be recovered.
absl::Status ToAbslStatus(const grpc::Status& status);

inline constexpr absl::string_view kRpcStatusPayload =
    "type.googleapis.com/google.rpc.Status";

// "INVALID_ARGUMENT", "NOT_FOUND", ...
std::string CodeName(absl::StatusCode code);

// One line: the message, then the details in brackets, e.g.
// `invalid request [amount.value: must be positive; reason DOJO_REJECTED
// (trace_id=t-1); retry after 2s]`.
std::string OneLineSummary(const RpcError& error);

// A readable block, one fact per line, ending in a newline:
//   INVALID_ARGUMENT (3): invalid request
//     field amount.value: must be positive
//     reason: DOJO_REJECTED (domain payments.v1)
//       trace_id: t-1
//     retry after: 2s
std::string FormatRpcError(const RpcError& error);
std::string FormatRpcError(const grpc::Status& status);

}  // namespace payments::client

#endif  // CLIENT_RPC_ERROR_H_
