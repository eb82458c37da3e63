#ifndef TESTS_INTEGRATION_TEST_STACK_H_
#define TESTS_INTEGRATION_TEST_STACK_H_

// The real binaries wired together over loopback for integration tests: the
// Dojo emulator (HTTPS with a throwaway CA, plus plain HTTP for its control
// API) and payments-server pointed at it; optionally nghttpx in front of the
// emulator so the servers reach Dojo over HTTP/2. Processes are stopped by
// PID.

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/dojo/curl_multi_transport.h"
#include "nlohmann/json.hpp"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace payments::testing {

// Fixed test credentials. They are fake, and the tests still check that
// none of them appears in logs or metrics.
inline constexpr absl::string_view kDefaultKey =
    "sk_sandbox_default_c8oLGaI__msxsXbpBDpdtwJEz";
inline constexpr absl::string_view kSecondKey =
    "sk_sandbox_second_OPLT0cZolbeuYJSBvzDVVsYvtp";
inline constexpr absl::string_view kForbiddenKey =
    "sk_sandbox_limited_5RkQfhQoKHmedqgZPCdBx59zp";
inline constexpr absl::string_view kUnknownKey =
    "sk_sandbox_revoked_KZLSk8OPLT0cZolbeuYJSBvzD";
inline constexpr absl::string_view kWebhookSecret = "whsec_rotated_in_0V4nT9q";
// The test vector in Dojo's webhook documentation: its secret, its body (no
// trailing newline) and the signature Dojo sends for it.
inline constexpr absl::string_view kDocsWebhookSecret =
    "PDYkJQq6sESYHp_zJuTTBQ";
inline constexpr absl::string_view kDocsBody =
    R"({"id":"evt_hnnHxIKR_Uy6bhZCusCltw","event":"payment_intent.created","accountId":"acc_test","createdAt":"2022-02-01T13:07:41.8667859Z","data":{"paymentIntentId":"pi_vpwd4ooAPEqyNAQe4z89WQ","paymentStatus":"Created","captureMode":"Auto"}})";
inline constexpr absl::string_view kDocsSignature =
    "sha256=4B-49-F8-FE-25-A7-E6-7D-00-4F-A7-9C-F8-0B-63-00-C7-77-B4-F2-2D-"
    "E5-E1-22-84-FA-04-18-50-A1-76-FD";

struct StackOptions {
  // Extra environment for payments-server (overrides the defaults).
  std::vector<std::pair<std::string, std::string>> server_env;
  // How many servers share the emulator and the store.
  int servers = 1;
  // PAYMENTS_STORE; empty: an SQLite file in the stack's directory.
  std::string store;
  // Put nghttpx (TLS with ALPN h2, the stack's test certificate) on a free
  // loopback port in front of the emulator's plain-HTTP port and point the
  // servers at it, so they speak HTTP/2 to "Dojo" (the emulator itself only
  // speaks HTTP/1.1). Its access log: ProxyAccessLog().
  bool http2_proxy = false;
  // Called once before the servers start, with the loopback port they would
  // reach Dojo on (nghttpx's or the emulator's HTTPS port); returns the port
  // to use instead, e.g. a test's TCP relay in front of it. The host stays
  // `localhost`, which the test certificate names.
  std::function<absl::StatusOr<int>(int dojo_port)> front_dojo;
};

// Servers that settle ambiguous outcomes quickly, as the fault tests need:
// `settle_period`, a reconciler round every 250 ms, fast retries.
inline StackOptions QuickSettleOptions(absl::Duration settle_period,
                                       int servers = 1,
                                       std::string store = "") {
  return {
      .server_env = {{"PAYMENTS_SETTLE_PERIOD",
                      absl::StrCat(absl::ToInt64Seconds(settle_period), "s")},
                     {"PAYMENTS_RECONCILE_INTERVAL", "250ms"},
                     {"PAYMENTS_RETRY_INITIAL_BACKOFF", "50ms"}},
      .servers = servers,
      .store = std::move(store)};
}

class TestStack final {
 public:
  static absl::StatusOr<std::unique_ptr<TestStack>> Start(
      StackOptions options = {});
  ~TestStack();

  // host:port of server `index`.
  std::string grpc_target(int index = 0) const;
  const std::string& server_log_path(int index = 0) const {
    return servers_[index].log;
  }
  // Stops server `index` with `signal` (SIGKILL: no cleanup at all) and
  // returns its exit status.
  int StopServer(int index, int signal);
  // A file of the stack's directory: "api-key", "accounts" and
  // "webhook-secrets" are the servers' credential files.
  std::string File(const std::string& name) const { return dir_.File(name); }
  // Starts server `index` again on its ports, store and log.
  absl::Status RestartServer(int index);

  // Emulator control API (plain HTTP). Returns the parsed JSON body.
  absl::StatusOr<nlohmann::json> Control(absl::string_view method,
                                         absl::string_view path,
                                         const nlohmann::json& body = nullptr);
  // The Dojo API requests the emulator has logged since the last reset.
  std::vector<nlohmann::json> UpstreamRequests();
  // Clears the emulator's request log and scripted faults.
  void ResetEmulator();

  // With `http2_proxy`: one line per request nghttpx answered, in the order
  // they finished, "ALPN PROTOCOL METHOD PATH STATUS" (e.g. "h2 HTTP/2 POST
  // /payment-intents 200"). Empty without the proxy.
  std::vector<std::string> ProxyAccessLog() const;

  // GET http://127.0.0.1:<metrics port of server `index`>/metrics.
  absl::StatusOr<std::string> ScrapeMetrics(int index = 0);

  // Every secret the stack configured, for leak checks.
  static std::vector<std::string> AllSecrets();

 private:
  struct Server {
    int grpc_port = 0;
    int metrics_port = 0;
    std::string log;
    std::vector<std::pair<std::string, std::string>> env;
    std::unique_ptr<ChildProcess> process;
  };

  TestStack() = default;
  absl::StatusOr<std::string> HttpGet(const std::string& url);
  // Starts nghttpx in front of the emulator's plain-HTTP port; its port.
  absl::StatusOr<int> StartProxy(const std::string& certs);

  TempDir dir_;
  std::unique_ptr<dojo::CurlMultiTransport> http_;
  std::unique_ptr<ChildProcess> emulator_;
  std::unique_ptr<ChildProcess> proxy_;  // nghttpx, with `http2_proxy`.
  int emulator_http_port_ = 0;
  int emulator_https_port_ = 0;
  std::vector<Server> servers_;
};

}  // namespace payments::testing

#endif  // TESTS_INTEGRATION_TEST_STACK_H_
