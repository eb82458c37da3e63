#ifndef LIB_DOJO_DOJO_ERRORS_H_
#define LIB_DOJO_DOJO_ERRORS_H_

// The one place that maps Dojo's HTTP answers to absl::Status (DESIGN.md,
// "Errors: Dojo -> gRPC").

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "lib/dojo/http_transport.h"

namespace payments::dojo {

// Status for a non-2xx response: 400 INVALID_ARGUMENT (BadRequest from the
// problem's `errors`), 401/403 FAILED_PRECONDITION (DOJO_UNAUTHORIZED /
// DOJO_FORBIDDEN), 404 NOT_FOUND, 409 ABORTED, 429 RESOURCE_EXHAUSTED
// (RetryInfo from Retry-After), 5xx UNAVAILABLE (RetryInfo). ErrorInfo
// metadata carries Dojo's traceId and HTTP status when known. Bodies are
// parsed leniently: problem details in several shapes, empty or HTML.
absl::Status StatusFromHttpError(const HttpResponse& response);

// Dojo's field path ("ItemLines[0].AmountTotal", "$.amount.value") in our
// proto's names ("item_lines[0].amount_total", "amount.value").
std::string DojoFieldToProtoPath(absl::string_view dojo_field);

}  // namespace payments::dojo

#endif  // LIB_DOJO_DOJO_ERRORS_H_
