#include "lib/dojo/retry_policy.h"

#include <algorithm>
#include <cmath>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace payments::dojo {
namespace {

bool IsRetryableStatus(int code) {
  return code == 429 || code == 500 || code == 502 || code == 503 ||
         code == 504;
}

}  // namespace

std::optional<std::string> RetryReason(
    const absl::StatusOr<HttpResponse>& result, Idempotency idempotency) {
  if (!result.ok()) {
    if (result.status().code() == absl::StatusCode::kCancelled ||
        result.status().code() == absl::StatusCode::kInvalidArgument) {
      return std::nullopt;  // Shutting down, or a request we built wrong.
    }
    if (GetTransportStage(result.status()) == TransportStage::kNotSent) {
      return "connect";
    }
    if (idempotency == Idempotency::kUnsafe) return std::nullopt;
    return result.status().code() == absl::StatusCode::kDeadlineExceeded
               ? "timeout"
               : "transport";
  }
  if (idempotency == Idempotency::kSafe &&
      IsRetryableStatus(result->status_code)) {
    return absl::StrCat(result->status_code);
  }
  return std::nullopt;
}

Effect EffectOf(const absl::StatusOr<HttpResponse>& result) {
  if (!result.ok()) {
    // INVALID_ARGUMENT: the transport refused a request we built wrong.
    if (result.status().code() == absl::StatusCode::kInvalidArgument ||
        GetTransportStage(result.status()) == TransportStage::kNotSent) {
      return Effect::kNone;
    }
    return Effect::kPossible;
  }
  if (result->status_code >= 200 && result->status_code < 300) {
    return Effect::kHeld;
  }
  // 1xx/3xx are not answers Dojo gives; a gateway may: assume the worst.
  if (result->status_code >= 400 && result->status_code < 500) {
    return Effect::kNone;
  }
  return Effect::kPossible;
}

absl::Duration BackoffDelay(const RetryOptions& options, int retry) {
  thread_local absl::BitGen random;
  // Retries before the first count as the first (no `retry - 1`: it would
  // overflow for INT_MIN).
  const double growth =
      std::pow(options.backoff_multiplier, retry > 1 ? retry - 1 : 0);
  const absl::Duration base =
      std::min(options.initial_backoff * growth, options.max_backoff);
  return base / 2 + absl::Uniform(random, 0.0, 1.0) * (base / 2);
}

std::optional<absl::Duration> RetryAfterOf(const HttpResponse& response) {
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(
          absl::StripAsciiWhitespace(response.Header("retry-after")),
          &seconds) ||
      seconds < 0) {
    return std::nullopt;
  }
  return absl::Seconds(seconds);
}

RetryBudget::RetryBudget(const RetryOptions& options)
    : max_tokens_(options.budget_max_tokens),
      token_ratio_(options.budget_token_ratio),
      tokens_(options.budget_max_tokens) {}

void RetryBudget::RecordSuccess() {
  absl::MutexLock lock(&mutex_);
  tokens_ = std::min(max_tokens_, tokens_ + token_ratio_);
}

void RetryBudget::RecordFailure() {
  absl::MutexLock lock(&mutex_);
  tokens_ = std::max(0.0, tokens_ - 1);
}

bool RetryBudget::CanRetry() const {
  absl::MutexLock lock(&mutex_);
  return tokens_ > max_tokens_ / 2;
}

}  // namespace payments::dojo
