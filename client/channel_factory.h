#ifndef CLIENT_CHANNEL_FACTORY_H_
#define CLIENT_CHANNEL_FACTORY_H_

// Builds the gRPC channel described by ClientOptions: credentials (plaintext
// or TLS with optional client certificate), the service config with the
// retry policy and throttle, keepalive and the user agent. Internal to the
// client library (this header pulls in grpcpp).

#include <memory>

#include "absl/status/statusor.h"
#include "client/client_options.h"
#include "grpcpp/channel.h"

namespace payments::client {

// INVALID_ARGUMENT when a TLS file cannot be read. Options must already be
// valid (ValidateClientOptions).
absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(
    const ClientOptions& options);

}  // namespace payments::client

#endif  // CLIENT_CHANNEL_FACTORY_H_
