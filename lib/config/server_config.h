#ifndef LIB_CONFIG_SERVER_CONFIG_H_
#define LIB_CONFIG_SERVER_CONFIG_H_

// The validated configuration of payments-server. main() gathers raw values
// from flags and the environment; LoadServerConfig() turns them into this
// struct or explains, without echoing secrets, what is wrong.

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace payments::config {

inline constexpr absl::string_view kDefaultAccount = "default";
// Dojo voids an unpaid intent 30 days after creation unless told otherwise:
// a journaled create must be remembered at least that long, or a reused
// reference would create a second intent while the first can still be paid.
inline constexpr absl::Duration kMinIdempotencyRetention = absl::Hours(24 * 30);
// The largest message the gRPC listener accepts: gRPC's default
// (GRPC_DEFAULT_MAX_RECV_MESSAGE_LENGTH), which main() sets explicitly.
inline constexpr size_t kMaxReceiveMessageBytes = 4 * 1024 * 1024;
// PAYMENTS_MAX_WEBHOOK_BYTES is at most this: a webhook body must fit in a
// VerifyWebhookRequest with its signature and headers (64 KiB of room).
inline constexpr size_t kMaxWebhookBodyLimit =
    kMaxReceiveMessageBytes - 64 * 1024;

struct WebhookSecret {
  std::string id;
  std::string secret;

  friend bool operator==(const WebhookSecret&, const WebhookSecret&) = default;
};

// The secrets a server holds, which may be rotated while it runs.
struct Credentials {
  // Account name -> API key. Always holds kDefaultAccount.
  std::map<std::string, std::string, std::less<>> dojo_accounts;
  std::vector<WebhookSecret> webhook_secrets;

  friend bool operator==(const Credentials&, const Credentials&) = default;
};

// How the gRPC listener is secured (PAYMENTS_TLS). There is no default: a
// server refuses to start until it is told, so that plaintext is always a
// decision.
enum class TlsMode {
  kOff,     // plaintext (h2c): local runs and tests only
  kTls,     // server certificate only
  kMutual,  // server certificate, and client certificates signed by the
            // client CA are required
};

struct ServerConfig {
  std::string listen_addr = "0.0.0.0:50051";
  // Plaintext listener serving only grpc.health.v1 (kubelet probes cannot
  // speak TLS). Empty: none.
  std::string health_addr;
  TlsMode tls = TlsMode::kOff;
  // PEM files, re-read every credentials_reload_interval (rotation without
  // restart). cert/key required unless tls is kOff; client CA for kMutual.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // The caller policy (lib/auth/caller_policy.h), re-read like the
  // credentials. Empty: every caller that passes the TLS handshake may call
  // every RPC on every account, without rate limits.
  std::string policy_file;
  std::string metrics_addr = "0.0.0.0:9464";
  std::string store = "sqlite:payments.db";

  std::string dojo_base_url = "https://api.dojo.tech";
  std::string dojo_api_version = "2026-02-27";
  std::string dojo_ca_file;  // Empty: the system bundle only.
  // Account name -> API key. Always holds kDefaultAccount.
  std::map<std::string, std::string, std::less<>> dojo_accounts;
  std::vector<WebhookSecret> webhook_secrets;

  // Applied when a caller sets no gRPC deadline.
  absl::Duration default_deadline = absl::Seconds(30);
  // Upper bound of one HTTP attempt towards Dojo.
  absl::Duration upstream_timeout = absl::Seconds(20);
  // Connection limit per Dojo host (HTTP/2 multiplexes on top).
  int upstream_max_connections = 256;
  absl::Duration upstream_connect_timeout = absl::Seconds(5);

  // Retries towards Dojo (see lib/dojo/retry_policy.h).
  int retry_max_attempts = 3;
  absl::Duration retry_initial_backoff = absl::Milliseconds(100);
  absl::Duration retry_max_backoff = absl::Seconds(2);
  absl::Duration retry_max_retry_after = absl::Seconds(10);
  double retry_budget_tokens = 10;
  double retry_budget_ratio = 0.1;

  // Journaled creates are kept this long (at least kMinIdempotencyRetention,
  // an intent's default life; longer for intents that expire later);
  // webhook event ids this long.
  absl::Duration idempotency_retention = absl::Hours(24 * 30);
  absl::Duration webhook_retention = absl::Hours(24 * 3);
  // Threads doing store I/O.
  int store_workers = 4;

  // The reconciler (lib/payments/reconciler.h): how long after an ambiguous
  // attempt "not found at Dojo" becomes "not created", the widening of its
  // search window for clock skew, and how often due operations are claimed.
  absl::Duration settle_period = absl::Minutes(15);
  absl::Duration reconcile_clock_skew = absl::Minutes(2);
  absl::Duration reconcile_interval = absl::Seconds(2);

  // How often the credential files are re-read for rotations.
  absl::Duration credentials_reload_interval = absl::Seconds(10);
  // After SIGTERM: how long health reports NOT_SERVING while the server
  // still accepts calls, so that load balancers stop sending new ones.
  absl::Duration drain_delay = absl::ZeroDuration();

  // Share of successful calls written to the access log (0..1); failed calls
  // are always logged.
  double access_log_sample_ratio = 1.0;

  // How long SIGTERM waits for in-flight calls before cancelling them.
  absl::Duration shutdown_grace = absl::Seconds(25);
  size_t max_webhook_body_bytes = 64 * 1024;
};

// One setting: its environment variable name, which is also the key main()
// uses for the matching flag (the flag's help text is in main.cc, the
// description in the README table). `secret` settings are environment-only
// (no flag) and never echoed.
struct SettingSpec {
  absl::string_view env;
  absl::string_view flag;
  bool secret = false;
};

// Every setting the server reads, in the order of the README table.
const std::vector<SettingSpec>& AllSettings();

// The range LoadServerConfig accepts for a duration setting (inclusive).
struct DurationBounds {
  absl::string_view env;
  absl::Duration min;
  absl::Duration max;
};

// Every duration setting with its bounds (the README documents them).
std::vector<DurationBounds> AllDurationBounds();

// Looks up a raw value by environment variable name; nullopt when unset.
using SettingLookup =
    std::function<std::optional<std::string>(absl::string_view env)>;

// Builds and validates the config. Files named by *_FILE settings are read
// here, PEM files parsed (lib/config/pem_files.h), the Dojo URL checked
// (lib/config/dojo_base_url.h), PAYMENTS_STORE checked without connecting
// (lib/idempotency/store_url.h), durations bounded. Errors are
// INVALID_ARGUMENT naming the setting; the values of secrets (keys, webhook
// secrets, key files, PAYMENTS_STORE, DOJO_BASE_URL) are never quoted, and
// entries of secret lists are named by position only.
absl::StatusOr<ServerConfig> LoadServerConfig(const SettingLookup& lookup);

// Loads only the credentials (DOJO_API_KEY[_FILE], DOJO_ACCOUNTS_FILE,
// DOJO_WEBHOOK_SECRETS[_FILE]), reading their files now: what a running
// server re-reads when mounted secrets change. List syntax and secret rules:
// lib/config/named_values.h; webhook secrets must also be distinct. Errors
// as LoadServerConfig.
absl::StatusOr<Credentials> LoadCredentials(const SettingLookup& lookup);

}  // namespace payments::config

#endif  // LIB_CONFIG_SERVER_CONFIG_H_
