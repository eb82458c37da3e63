#include "lib/auth/access_control.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace payments::auth {

void AccessControl::SetPolicy(std::optional<CallerPolicy> policy) {
  absl::MutexLock lock(&mutex_);
  policy_ = std::move(policy);
  buckets_.clear();
}

bool AccessControl::has_policy() const {
  absl::MutexLock lock(&mutex_);
  return policy_.has_value();
}

std::string AccessControl::CallerLabel(absl::string_view caller) const {
  absl::MutexLock lock(&mutex_);
  if (policy_.has_value() && policy_->callers.count(caller) > 0) {
    return std::string(caller);
  }
  return std::string(kOtherCaller);
}

Decision AccessControl::Check(absl::string_view caller, absl::string_view rpc,
                              absl::string_view account, absl::Time now) {
  absl::MutexLock lock(&mutex_);
  if (!policy_.has_value()) return {};
  auto rule = policy_->callers.find(caller);
  if (rule == policy_->callers.end() ||
      (!rule->second.all_rpcs && rule->second.rpcs.count(rpc) == 0) ||
      (!rule->second.all_accounts &&
       rule->second.accounts.count(account) == 0)) {
    return {.verdict = Decision::Verdict::kDenied};
  }

  // The buckets this call draws from.
  struct Applicable {
    BucketKey key;
    RateLimit limit;
  };
  std::vector<Applicable> applicable;
  const absl::string_view kind = LimitKindOf(rpc);
  auto add = [&](absl::string_view scope, absl::string_view name,
                 const Limits& limits) {
    if (limits.calls) {
      applicable.push_back(
          {{std::string(scope), std::string(name), "calls"}, *limits.calls});
    }
    const std::optional<RateLimit>& special = kind == "creates" ? limits.creates
                                              : kind == "refunds"
                                                  ? limits.refunds
                                                  : std::optional<RateLimit>();
    if (special) {
      applicable.push_back(
          {{std::string(scope), std::string(name), std::string(kind)},
           *special});
    }
  };
  add("caller", caller, rule->second.limits);
  if (auto it = policy_->accounts.find(account);
      it != policy_->accounts.end()) {
    add("account", account, it->second);
  }

  // Refill, then check every bucket before taking from any.
  absl::Duration wait = absl::ZeroDuration();
  std::string limit;
  for (const Applicable& a : applicable) {
    auto [it, inserted] = buckets_.try_emplace(a.key);
    Bucket& bucket = it->second;
    if (inserted) {
      bucket = {.tokens = a.limit.burst, .last = now};
    } else if (now > bucket.last) {
      bucket.tokens =
          std::min(a.limit.burst,
                   bucket.tokens + absl::ToDoubleSeconds(now - bucket.last) *
                                       a.limit.per_second);
      bucket.last = now;
    }
    if (bucket.tokens < 1) {
      const absl::Duration until =
          absl::Seconds((1 - bucket.tokens) / a.limit.per_second);
      if (until > wait) {
        wait = until;
        limit = absl::StrCat(std::get<0>(a.key), ".", std::get<2>(a.key));
      }
    }
  }
  if (!limit.empty()) {
    return {.verdict = Decision::Verdict::kRateLimited,
            .retry_after = wait,
            .limit = limit};
  }
  for (const Applicable& a : applicable) buckets_[a.key].tokens -= 1;
  return {};
}

}  // namespace payments::auth
