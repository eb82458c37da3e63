#ifndef LIB_AUTH_CALLER_POLICY_H_
#define LIB_AUTH_CALLER_POLICY_H_

// The caller policy: which callers (identities from their client
// certificates) may call which RPCs on which accounts, and the rate limits
// per caller and per account. A JSON document (the README's "Callers"
// section documents it):
//
//   {
//     "callers": {
//       "spiffe://prod.example/ns/shop/sa/checkout": {
//         "rpcs": ["CreateIntent", "GetIntent"],     // or ["*"]
//         "accounts": ["default", "web"],            // or ["*"]
//         "limits": {"calls":   {"per_second": 50, "burst": 100},
//                    "creates": {"per_second": 10, "burst": 20},
//                    "refunds": {"per_second": 1,  "burst": 5}}
//       }
//     },
//     "accounts": {
//       "default": {"limits": {"calls": {"per_second": 200, "burst": 400}}}
//     }
//   }
//
// A caller not named is refused. Every limit is optional; "creates" applies
// to CreateIntent and CreatePaymentLink, "refunds" to RefundIntent, "calls"
// to every RPC. Unknown keys, unknown RPC names, bad account names and
// non-positive rates are errors. Pure: no I/O.

#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace payments::auth {

// A token bucket: `burst` calls at once, refilled at `per_second`.
struct RateLimit {
  double per_second = 0;
  double burst = 0;
  friend bool operator==(const RateLimit&, const RateLimit&) = default;
};

struct Limits {
  std::optional<RateLimit> calls;
  std::optional<RateLimit> creates;
  std::optional<RateLimit> refunds;
  friend bool operator==(const Limits&, const Limits&) = default;
};

struct CallerRule {
  bool all_rpcs = false;
  std::set<std::string, std::less<>> rpcs;
  bool all_accounts = false;
  std::set<std::string, std::less<>> accounts;
  Limits limits;
  friend bool operator==(const CallerRule&, const CallerRule&) = default;
};

struct CallerPolicy {
  std::map<std::string, CallerRule, std::less<>> callers;
  std::map<std::string, Limits, std::less<>> accounts;
  friend bool operator==(const CallerPolicy&, const CallerPolicy&) = default;
};

// Parses and validates a policy. `known_rpcs` are the RPC names that may be
// listed. Errors are INVALID_ARGUMENT saying where.
absl::StatusOr<CallerPolicy> ParseCallerPolicy(
    absl::string_view json, const std::set<std::string>& known_rpcs);

// The kind of limit an RPC counts against besides "calls": "creates",
// "refunds", or empty.
absl::string_view LimitKindOf(absl::string_view rpc);

}  // namespace payments::auth

#endif  // LIB_AUTH_CALLER_POLICY_H_
