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
  return absl::OkStatus();
}

}  // namespace payments::client
