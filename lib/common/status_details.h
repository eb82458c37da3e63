#ifndef LIB_COMMON_STATUS_DETAILS_H_
#define LIB_COMMON_STATUS_DETAILS_H_

// Rich error details carried inside absl::Status.
//
// Details are stored as absl::Status payloads keyed by their google.rpc type
// URL with the serialized message as value, so the server can forward each
// payload unchanged as a google.protobuf.Any in google.rpc.Status.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"

namespace payments {

// The ErrorInfo domain of every error this service reports.
inline constexpr absl::string_view kErrorDomain = "payments.v1";

// ErrorInfo reasons (the machine-readable half of the error contract).
namespace reason {
inline constexpr absl::string_view kDojoUnauthorized = "DOJO_UNAUTHORIZED";
inline constexpr absl::string_view kDojoForbidden = "DOJO_FORBIDDEN";
inline constexpr absl::string_view kDojoRejected = "DOJO_REJECTED";
inline constexpr absl::string_view kDojoNotFound = "DOJO_NOT_FOUND";
inline constexpr absl::string_view kDojoConflict = "DOJO_CONFLICT";
inline constexpr absl::string_view kDojoMethodNotAllowed =
    "DOJO_METHOD_NOT_ALLOWED";
inline constexpr absl::string_view kIntentNotCreated = "INTENT_NOT_CREATED";
inline constexpr absl::string_view kDojoRateLimited = "DOJO_RATE_LIMITED";
inline constexpr absl::string_view kDojoUnavailable = "DOJO_UNAVAILABLE";
inline constexpr absl::string_view kDojoBadResponse = "DOJO_BAD_RESPONSE";
inline constexpr absl::string_view kOutcomeUnknown = "OUTCOME_UNKNOWN";
inline constexpr absl::string_view kClientSessionSecretNotIssued =
    "CLIENT_SESSION_SECRET_NOT_ISSUED";
inline constexpr absl::string_view kStoreUnavailable = "STORE_UNAVAILABLE";
inline constexpr absl::string_view kReferenceReused = "REFERENCE_REUSED";
inline constexpr absl::string_view kOperationInProgress =
    "OPERATION_IN_PROGRESS";
inline constexpr absl::string_view kAccountMismatch = "ACCOUNT_MISMATCH";
inline constexpr absl::string_view kUnknownAccount = "UNKNOWN_ACCOUNT";
inline constexpr absl::string_view kSignatureMissing = "SIGNATURE_MISSING";
inline constexpr absl::string_view kSignatureMalformed = "SIGNATURE_MALFORMED";
inline constexpr absl::string_view kSignatureMismatch = "SIGNATURE_MISMATCH";
inline constexpr absl::string_view kNoWebhookSecrets = "NO_WEBHOOK_SECRETS";
// The request bytes are not the method's message (bad protobuf, or a string
// field that is not UTF-8).
inline constexpr absl::string_view kMalformedRequest = "MALFORMED_REQUEST";
}  // namespace reason

struct FieldViolation {
  std::string field;
  std::string description;
};

// The longest text (violation field or description, ErrorInfo reason,
// metadata key or value) a detail carries, in bytes. Longer text is cut at a
// UTF-8 character boundary and ends in "..."; text that is not valid UTF-8
// (e.g. copied from an upstream answer) has its invalid bytes replaced by
// U+FFFD, since proto3 strings must be UTF-8 (utf8::Truncate).
inline constexpr size_t kMaxDetailText = 256;

// Attaches an ErrorInfo (replacing any earlier one). Reason and metadata
// are made valid and cut as kMaxDetailText says.
void SetErrorInfo(absl::Status& status, absl::string_view reason,
                  const std::map<std::string, std::string>& metadata = {});

// Attaches a RetryInfo with the given delay (replacing any earlier one).
void SetRetryInfo(absl::Status& status, absl::Duration delay);

// The most field violations a BadRequest carries, so that the details of a
// request with very many problems stay a small trailer (a few KiB).
inline constexpr size_t kMaxFieldViolations = 20;

// Attaches a BadRequest holding `violations` (replacing any earlier one).
// At most kMaxFieldViolations are kept, in order; when there are more, a
// final violation with the field "" says how many were left out
// ("... N more violations not shown"). Fields and descriptions are made
// valid and cut as kMaxDetailText says.
void SetBadRequest(absl::Status& status,
                   const std::vector<FieldViolation>& violations);

std::optional<google::rpc::ErrorInfo> GetErrorInfo(const absl::Status& status);
std::optional<google::rpc::RetryInfo> GetRetryInfo(const absl::Status& status);
std::optional<google::rpc::BadRequest> GetBadRequest(
    const absl::Status& status);

// An INVALID_ARGUMENT status with one BadRequest violation per entry.
absl::Status InvalidArgumentError(
    absl::string_view message, const std::vector<FieldViolation>& violations);

// A status with an ErrorInfo reason attached.
absl::Status ErrorWithReason(
    absl::StatusCode code, absl::string_view message, absl::string_view reason,
    const std::map<std::string, std::string>& metadata = {});

}  // namespace payments

#endif  // LIB_COMMON_STATUS_DETAILS_H_
