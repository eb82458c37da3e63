#ifndef LIB_DOJO_RETRY_POLICY_H_
#define LIB_DOJO_RETRY_POLICY_H_

// When and how soon a call to Dojo is tried again (DESIGN.md, "Retries
// towards Dojo"): only where a repeat cannot move money twice, with
// exponential backoff and jitter, Retry-After honoured up to a cap, and a
// retry budget so that an outage does not multiply load.

#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/dojo/http_transport.h"

namespace payments::dojo {

struct RetryOptions {
  // Attempts per call, counting the first.
  int max_attempts = 3;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(2);
  double backoff_multiplier = 2.0;
  // Longest Retry-After we wait for; longer ones end the call with the
  // delay in RetryInfo instead.
  absl::Duration max_retry_after = absl::Seconds(10);
  // Retry budget (token bucket, as gRPC's retry throttling): each failed
  // attempt takes a token, each success returns `budget_token_ratio`;
  // retries are allowed while more than half the tokens remain.
  double budget_max_tokens = 10;
  double budget_token_ratio = 0.1;
};

// Whether an operation may be repeated once it may have reached Dojo.
enum class Idempotency {
  kSafe,    // GET, refresh, search: repeating cannot move money.
  kUnsafe,  // Create: a repeat could make a second intent.
};

// The reason to retry one failed attempt ("connect", "timeout",
// "transport", "429", "503", ...), or nullopt when it must not be retried.
// Requests that provably never left are retried for any operation; others
// only for kSafe operations on transport errors, 429, 500, 502, 503, 504.
std::optional<std::string> RetryReason(
    const absl::StatusOr<HttpResponse>& result, Idempotency idempotency);

// Whether Dojo may hold the effect of a request (an intent, a capture, ...)
// given how its last attempt ended. The one place this is decided: a
// money-moving request whose effect is kPossible is never re-sent; it is
// settled from Dojo's state by the reconciler.
enum class Effect {
  kNone,      // provably absent: never sent, or refused by a 4xx answer
  kPossible,  // may have been processed: sent, then a timeout, a dropped
              // connection, or a 5xx answer
  kHeld,      // Dojo answered 2xx: it holds the effect
};
Effect EffectOf(const absl::StatusOr<HttpResponse>& result);

// Delay before retry number `retry` (1 = the first retry): exponential
// backoff with "equal jitter" (half fixed, half random), capped.
absl::Duration BackoffDelay(const RetryOptions& options, int retry);

// Retry-After as delta-seconds, if the response carries one (HTTP dates
// are ignored).
std::optional<absl::Duration> RetryAfterOf(const HttpResponse& response);

// Thread-safe token bucket shared by all calls of a client.
class RetryBudget final {
 public:
  explicit RetryBudget(const RetryOptions& options);

  void RecordSuccess();
  void RecordFailure();
  // True while retries are allowed (more than half the tokens left).
  bool CanRetry() const;

 private:
  const double max_tokens_;
  const double token_ratio_;
  mutable absl::Mutex mutex_;
  double tokens_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace payments::dojo

#endif  // LIB_DOJO_RETRY_POLICY_H_
