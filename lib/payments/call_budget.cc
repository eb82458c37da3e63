#include "lib/payments/call_budget.h"

#include "absl/strings/str_cat.h"
#include "lib/common/status_details.h"

namespace payments {

absl::Status JournalUnavailable(const absl::Status& cause) {
  if (cause.code() == absl::StatusCode::kInvalidArgument) return cause;
  absl::Status status = absl::UnavailableError(
      absl::StrCat("operation journal unavailable, nothing was sent to Dojo: ",
                   cause.message()));
  SetErrorInfo(status, reason::kStoreUnavailable);
  SetRetryInfo(status, absl::Seconds(1));
  return status;
}

absl::Status ShuttingDown() {
  return absl::UnavailableError(
      "the server is shutting down; nothing more was sent to Dojo");
}

}  // namespace payments
