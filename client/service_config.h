#ifndef CLIENT_SERVICE_CONFIG_H_
#define CLIENT_SERVICE_CONFIG_H_

// The gRPC service config a PaymentsClient's channel carries: which methods
// gRPC may retry on its own, and the retry throttle.

#include <string>
#include <vector>

#include "client/client_options.h"

namespace payments::client {

// "service/method" names retried on UNAVAILABLE: the calls a repeat cannot
// turn into a second effect.
//   - GetIntent, VerifyWebhook (pure) and grpc.health.v1.Health/Check.
// Deliberately not retried:
//   - CreateIntent, CreatePaymentLink: they create a payment intent. The
//     server makes them idempotent by (account, reference), so a caller may
//     repeat one on purpose with the same reference, but it must decide to.
//   - RefreshClientSessionSecret: each call issues a new one-time secret and
//     invalidates the previous one, which a browser may already hold; and
//     the server already retries it towards Dojo within its own budget, so
//     a second layer of retries would only multiply attempts.
std::vector<std::string> RetriedMethods();

// The service config JSON: a retryPolicy for RetriedMethods() and
// retryThrottling {maxTokens, tokenRatio}; "{}" when retries are disabled.
std::string ServiceConfigJson(const RetryOptions& retry);

}  // namespace payments::client

#endif  // CLIENT_SERVICE_CONFIG_H_
