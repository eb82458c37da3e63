#ifndef LIB_AUTH_ACCESS_CONTROL_H_
#define LIB_AUTH_ACCESS_CONTROL_H_

// Decides each call against the current caller policy: allowed, denied (the
// caller may not call this RPC on this account), or rate limited (a token
// bucket of the caller or of the account is empty). Thread-safe.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/auth/caller_policy.h"

namespace payments::auth {

// The metric label of callers the policy does not name (bounded
// cardinality), and the identity of a caller without a certificate.
inline constexpr absl::string_view kOtherCaller = "other";
inline constexpr absl::string_view kAnonymousCaller = "anonymous";

struct Decision {
  enum class Verdict { kAllowed, kDenied, kRateLimited };
  Verdict verdict = Verdict::kAllowed;
  // kRateLimited: when the emptied bucket has a token again, and which
  // bucket it was ("caller.calls", "account.refunds", ...).
  absl::Duration retry_after;
  std::string limit;
};

class AccessControl final {
 public:
  // Without a policy every call is allowed and unlimited.
  AccessControl() = default;

  // Replaces the policy (nullopt: none). Buckets start full again.
  void SetPolicy(std::optional<CallerPolicy> policy);
  bool has_policy() const;

  // `account` is the resolved account name ("default" for an empty one).
  // Takes one token from every bucket that applies only when all have one,
  // so a refused call costs nothing.
  Decision Check(absl::string_view caller, absl::string_view rpc,
                 absl::string_view account, absl::Time now);

  // `caller` when the policy names it, else kOtherCaller.
  std::string CallerLabel(absl::string_view caller) const;

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time last;
  };
  // (scope "caller"/"account", name, kind "calls"/"creates"/"refunds")
  using BucketKey = std::tuple<std::string, std::string, std::string>;

  mutable absl::Mutex mutex_;
  std::optional<CallerPolicy> policy_ ABSL_GUARDED_BY(mutex_);
  std::map<BucketKey, Bucket> buckets_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace payments::auth

#endif  // LIB_AUTH_ACCESS_CONTROL_H_
