#include "client/client_options.h"

namespace payments::client {

absl::Status ValidateClientOptions(const ClientOptions& options) {
  if (options.target.empty()) {
    return absl::InvalidArgumentError("target: must not be empty");
  }
  if (options.default_deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("default_deadline: must be positive");
  }
  if (options.tls.cert_file.empty() != options.tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls: cert_file and key_file go together");
  }
  if (!options.tls.enabled &&
      (!options.tls.ca_file.empty() || !options.tls.cert_file.empty())) {
    // A CA or client certificate on a plaintext channel is almost surely a
    // forgotten --tls; refuse instead of silently sending in the clear.
    return absl::InvalidArgumentError(
        "tls: ca_file/cert_file given but TLS is not enabled");
  }
  if (options.keepalive.time <= absl::ZeroDuration() ||
      options.keepalive.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("keepalive: durations must be positive");
  }
  const RetryOptions& retry = options.retry;
  if (retry.enabled) {
    if (retry.max_attempts < 2 || retry.max_attempts > 5) {
      return absl::InvalidArgumentError("retry.max_attempts: must be 2..5");
    }
    if (retry.initial_backoff <= absl::ZeroDuration() ||
        retry.max_backoff < retry.initial_backoff) {
      return absl::InvalidArgumentError(
          "retry: need 0 < initial_backoff <= max_backoff");
    }
    if (retry.backoff_multiplier <= 0) {
      return absl::InvalidArgumentError(
          "retry.backoff_multiplier: must be positive");
    }
    if (retry.throttle_max_tokens < 1 || retry.throttle_max_tokens > 1000 ||
        retry.throttle_token_ratio <= 0) {
      return absl::InvalidArgumentError(
          "retry: throttle_max_tokens must be 1..1000 and "
          "throttle_token_ratio positive");
    }
  }
  return absl::OkStatus();
}

}  // namespace payments::client
