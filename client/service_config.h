#ifndef CLIENT_SERVICE_CONFIG_H_
#define CLIENT_SERVICE_CONFIG_H_

// The gRPC service config a PaymentsClient's channel carries: which methods
// gRPC may retry on its own, the retry throttle, and wait-for-ready. Its one
// source is proto/service_config.json, compiled into this library at build
// time; the Python, Node.js and Go examples load the same file.
//
// What the file says, and why:
//   - Every PaymentsService call waits for a connection (waitForReady) up to
//     its deadline instead of failing at once while the server restarts.
//     Nothing is sent before the connection is up, so creates may wait too.
//   - Retried on UNAVAILABLE and CANCELLED: reads only, GetIntent (and
//     grpc.health.v1.Health/Check), with retry throttling. CANCELLED because
//     a stopping server cancels the calls that no handler has taken yet
//     (gRPC core does), so such a call never ran. Not retried:
//       - CreateIntent, CreatePaymentLink: they create a payment intent. The
//         server makes them idempotent by (account, reference), so a caller
//         may repeat one on purpose with the same reference, but it must
//         decide to.
//       - RefreshClientSessionSecret: each call issues a new one-time secret
//         and invalidates the previous one, which a browser may already hold.
//       - VerifyWebhook: it remembers the event id, so a repeat after a lost
//         answer would report the event as a duplicate.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/client_options.h"

namespace payments::client {

// proto/service_config.json as it was when this library was built.
absl::string_view DefaultServiceConfigJson();

// "service/method" names that DefaultServiceConfigJson() gives a
// retryPolicy.
std::vector<std::string> RetriedMethods();

// The service config of a channel: DefaultServiceConfigJson(), less its
// retryPolicy and retryThrottling when retries are disabled, and less its
// waitForReady when `wait_for_ready` is false.
std::string ServiceConfigJson(const RetryOptions& retry,
                              bool wait_for_ready = true);

}  // namespace payments::client

#endif  // CLIENT_SERVICE_CONFIG_H_
