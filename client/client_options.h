#ifndef CLIENT_CLIENT_OPTIONS_H_
#define CLIENT_CLIENT_OPTIONS_H_

// Settings of a PaymentsClient: where to connect, how to secure the channel,
// deadlines, keepalive and the retry policy of the channel's service config.
// Plain data; validate with ValidateClientOptions() (PaymentsClient::Create
// does).

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace payments::client {

struct TlsOptions {
  // false: plaintext (h2c), as payments-server serves behind a mesh or
  // locally. true: TLS, with the system roots unless `ca_file` is set.
  bool enabled = false;
  // PEM bundle of the CAs trusted for the server's certificate.
  std::string ca_file;
  // PEM client certificate chain and key for mutual TLS; both or neither.
  std::string cert_file;
  std::string key_file;
};

// HTTP/2 keepalive pings, to notice dead connections (e.g. a NAT that
// forgot the flow) before a call waits on them. The defaults stay inside
// gRPC servers' default ping policy (no pings without calls); lowering
// `time` below 5 minutes for idle connections gets GOAWAY too_many_pings
// from a server with default settings.
struct KeepaliveOptions {
  absl::Duration time = absl::Seconds(60);
  absl::Duration timeout = absl::Seconds(20);
  bool permit_without_calls = false;
};

// gRPC client retries. The policy (which methods, attempts, backoff and
// throttling) is proto/service_config.json, compiled in: see
// client/service_config.h. `enabled = false` drops its retryPolicy and
// retryThrottling and keeps the rest (waitForReady).
struct RetryOptions {
  bool enabled = true;
};

struct ClientOptions {
  // host:port or any gRPC target URI (dns:///, unix:, ...).
  std::string target = "localhost:50051";
  TlsOptions tls;
  // Deadline of a call whose CallOptions set none. Every call has one.
  absl::Duration default_deadline = absl::Seconds(10);
  KeepaliveOptions keepalive;
  RetryOptions retry;
  // Calls wait for a connection up to their deadline (the service config's
  // waitForReady), e.g. while the server restarts. false: a call fails at
  // once with UNAVAILABLE when the server cannot be reached, as a command
  // line tool wants.
  bool wait_for_ready = true;
  // Prepended to gRPC's own user agent, e.g. "checkout-service/1.4".
  std::string user_agent = "payments-client";
};

// INVALID_ARGUMENT naming the first bad setting, or OK.
absl::Status ValidateClientOptions(const ClientOptions& options);

}  // namespace payments::client

#endif  // CLIENT_CLIENT_OPTIONS_H_
