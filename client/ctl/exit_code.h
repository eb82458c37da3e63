#ifndef CLIENT_CTL_EXIT_CODE_H_
#define CLIENT_CTL_EXIT_CODE_H_

// paymentsctl's exit status: the gRPC code of the call (0 OK, 3
// INVALID_ARGUMENT, 5 NOT_FOUND, 14 UNAVAILABLE, 16 UNAUTHENTICATED, ...),
// or 64 (EX_USAGE, from sysexits.h) for a problem found before any call:
// bad flags, unreadable files, malformed --request_json.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace payments::ctl {

inline constexpr int kExitUsage = 64;

// A local (usage) error: INVALID_ARGUMENT marked so that ExitCodeFor()
// answers kExitUsage instead of 3.
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);

int ExitCodeFor(const absl::Status& status);

}  // namespace payments::ctl

#endif  // CLIENT_CTL_EXIT_CODE_H_
