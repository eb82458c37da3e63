#include "client/ctl/exit_code.h"

#include "absl/strings/cord.h"

namespace payments::ctl {
namespace {

// A payload key no server status can carry: the client attaches it only to
// errors it raises itself.
constexpr absl::string_view kUsagePayload = "paymentsctl/usage";

}  // namespace

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayload, absl::Cord());
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

int ExitCodeFor(const absl::Status& status) {
  if (IsUsageError(status)) return kExitUsage;
  return static_cast<int>(status.code());
}

}  // namespace payments::ctl
