#include "tests/integration/test_stack.h"

#include <algorithm>
#include <fstream>
#include <future>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/support/wait_for.h"

namespace payments::testing {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(20);

void WriteFile(const std::string& path, absl::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
}

absl::StatusOr<dojo::HttpResponse> SendAndWait(dojo::HttpTransport& transport,
                                               dojo::HttpRequest request) {
  std::promise<absl::StatusOr<dojo::HttpResponse>> promise;
  auto future = promise.get_future();
  transport.Send(std::move(request),
                 [&promise](absl::StatusOr<dojo::HttpResponse> response) {
                   promise.set_value(std::move(response));
                 });
  return future.get();
}

}  // namespace

std::vector<std::string> TestStack::AllSecrets() {
  return {std::string(kDefaultKey),    std::string(kSecondKey),
          std::string(kForbiddenKey),  std::string(kUnknownKey),
          std::string(kWebhookSecret), std::string(kDocsWebhookSecret)};
}

absl::StatusOr<std::unique_ptr<TestStack>> TestStack::Start(
    StackOptions options) {
  std::unique_ptr<TestStack> stack(new TestStack());
  const TempDir& dir = stack->dir_;

  auto http = dojo::CurlMultiTransport::Create({});
  if (!http.ok()) return http.status();
  stack->http_ = *std::move(http);

  // A throwaway CA and server certificate for the emulator's HTTPS.
  const std::string certs = dir.File("certs");
  if (std::system(absl::StrCat(GEN_CERTS_SCRIPT, " ", certs).c_str()) != 0) {
    return absl::InternalError("gen-test-certs.sh failed");
  }

  WriteFile(
      dir.File("emulator-keys"),
      absl::StrCat("default=", kDefaultKey, "\nsecond=", kSecondKey, "\n"));
  WriteFile(dir.File("emulator-forbidden"),
            absl::StrCat("limited=", kForbiddenKey, "\n"));
  const std::string port_file = dir.File("emulator-ports.json");
  auto emulator = ChildProcess::Start(
      {.binary = EMULATOR_BIN,
       .args = {"--http-port=0", "--https-port=0",
                "--tls-cert=" + certs + "/server.pem",
                "--tls-key=" + certs + "/server.key",
                "--api-keys=" + dir.File("emulator-keys"),
                "--forbidden-keys=" + dir.File("emulator-forbidden"),
                "--port-file=" + port_file},
       .log_path = dir.File("emulator.log")});
  if (!emulator.ok()) return emulator.status();
  stack->emulator_ = *std::move(emulator);
  if (absl::Status s = WaitForFile(port_file, kStartTimeout); !s.ok()) {
    return s;
  }
  auto ports_text = ReadFile(port_file);
  if (!ports_text.ok()) return ports_text.status();
  const nlohmann::json ports = nlohmann::json::parse(*ports_text);
  stack->emulator_http_port_ = ports.at("http").get<int>();
  stack->emulator_https_port_ = ports.at("https").get<int>();

  int dojo_port = stack->emulator_https_port_;
  if (options.http2_proxy) {
    auto proxy_port = stack->StartProxy(certs);
    if (!proxy_port.ok()) return proxy_port.status();
    dojo_port = *proxy_port;
  }
  if (options.front_dojo) {
    auto fronted = options.front_dojo(dojo_port);
    if (!fronted.ok()) return fronted.status();
    dojo_port = *fronted;
  }

  WriteFile(dir.File("api-key"), absl::StrCat(kDefaultKey, "\n"));
  WriteFile(dir.File("accounts"),
            absl::StrCat("# extra accounts\nsecond=", kSecondKey, "\nlimited=",
                         kForbiddenKey, "\nrevoked=", kUnknownKey, "\n"));
  WriteFile(dir.File("webhook-secrets"),
            absl::StrCat("current=", kWebhookSecret,
                         "\ndocs=", kDocsWebhookSecret, "\n"));
  const std::string store = options.store.empty()
                                ? "sqlite:" + dir.File("payments.db")
                                : options.store;
  for (int i = 0; i < options.servers; ++i) {
    Server server;
    auto grpc_port = PickFreePort();
    auto metrics_port = PickFreePort();
    if (!grpc_port.ok() || !metrics_port.ok()) {
      return absl::InternalError("no free port");
    }
    server.grpc_port = *grpc_port;
    server.metrics_port = *metrics_port;
    server.log = dir.File(absl::StrCat("server-", i, ".log"));
    server.env = {
        {"PAYMENTS_LISTEN_ADDR", absl::StrCat("127.0.0.1:", *grpc_port)},
        // Plaintext: the tests of TLS and callers set their own.
        {"PAYMENTS_TLS", "off"},
        {"PAYMENTS_METRICS_ADDR", absl::StrCat("127.0.0.1:", *metrics_port)},
        {"PAYMENTS_STORE", store},
        {"DOJO_BASE_URL", absl::StrCat("https://localhost:", dojo_port)},
        {"DOJO_CA_FILE", certs + "/ca.pem"},
        {"DOJO_API_KEY_FILE", dir.File("api-key")},
        {"DOJO_ACCOUNTS_FILE", dir.File("accounts")},
        {"DOJO_WEBHOOK_SECRETS_FILE", dir.File("webhook-secrets")},
    };
    for (auto& [name, value] : options.server_env) {
      auto same = [&name](const auto& e) { return e.first == name; };
      auto it = std::find_if(server.env.begin(), server.env.end(), same);
      if (it != server.env.end()) {
        it->second = value;
      } else {
        server.env.emplace_back(name, value);
      }
    }
    stack->servers_.push_back(std::move(server));
    if (absl::Status s = stack->RestartServer(i); !s.ok()) return s;
  }
  return stack;
}

absl::StatusOr<int> TestStack::StartProxy(const std::string& certs) {
  auto port = PickFreePort();
  if (!port.ok()) return port.status();
  // --conf=/dev/null: never read /etc/nghttpx. No OCSP fetching (the test
  // certificate has no responder). One worker process; SIGTERM to the
  // master (ChildProcess::Stop) stops it too.
  auto proxy = ChildProcess::Start(
      {.binary = NGHTTPX_BIN,
       .args = {"--conf=/dev/null",
                absl::StrCat("--frontend=127.0.0.1,", *port),
                absl::StrCat("--backend=127.0.0.1,", emulator_http_port_),
                "--workers=1", "--no-ocsp",
                "--accesslog-file=" + dir_.File("nghttpx-access.log"),
                "--accesslog-format=$alpn $protocol_version $method $path "
                "$status",
                "--errorlog-file=" + dir_.File("nghttpx.log"),
                certs + "/server.key", certs + "/server.pem"},
       .log_path = dir_.File("nghttpx.log")});
  if (!proxy.ok()) return proxy.status();
  proxy_ = *std::move(proxy);
  if (absl::Status s = WaitForTcpPort(*port, kStartTimeout); !s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("nghttpx did not listen: ", s.message(), " (see ",
                     dir_.File("nghttpx.log"), ")"));
  }
  return *port;
}

std::vector<std::string> TestStack::ProxyAccessLog() const {
  if (proxy_ == nullptr) return {};
  auto text = ReadFile(dir_.File("nghttpx-access.log"));
  if (!text.ok()) return {};
  return absl::StrSplit(*text, '\n', absl::SkipEmpty());
}

absl::Status TestStack::RestartServer(int index) {
  Server& server = servers_[index];
  auto process = ChildProcess::Start({.binary = PAYMENTS_SERVER_BIN,
                                      .args = {},
                                      .extra_env = server.env,
                                      .log_path = server.log});
  if (!process.ok()) return process.status();
  server.process = *std::move(process);
  return WaitForTcpPort(server.grpc_port, kStartTimeout);
}

int TestStack::StopServer(int index, int signal) {
  const int code = servers_[index].process->Stop(signal);
  servers_[index].process.reset();
  return code;
}

TestStack::~TestStack() {
  for (Server& server : servers_) {
    if (server.process != nullptr) server.process->Stop();
  }
  if (proxy_ != nullptr) proxy_->Stop();
  if (emulator_ != nullptr) emulator_->Stop();
}

std::string TestStack::grpc_target(int index) const {
  return absl::StrCat("127.0.0.1:", servers_[index].grpc_port);
}

absl::StatusOr<nlohmann::json> TestStack::Control(absl::string_view method,
                                                  absl::string_view path,
                                                  const nlohmann::json& body) {
  dojo::HttpRequest request;
  request.method = std::string(method);
  request.url = absl::StrCat("http://127.0.0.1:", emulator_http_port_, path);
  if (!body.is_null()) {
    request.body = body.dump();
    request.headers.emplace_back("Content-Type", "application/json");
  }
  auto response = SendAndWait(*http_, std::move(request));
  if (!response.ok()) return response.status();
  if (response->status_code / 100 != 2) {
    return absl::InternalError(absl::StrCat("emulator control ", method, " ",
                                            path, " answered ",
                                            response->status_code));
  }
  if (response->body.empty()) return nlohmann::json::object();
  nlohmann::json parsed = nlohmann::json::parse(response->body, nullptr, false);
  if (parsed.is_discarded()) return absl::InternalError("control: bad JSON");
  return parsed;
}

std::vector<nlohmann::json> TestStack::UpstreamRequests() {
  auto log = Control("GET", "/_emulator/requests");
  if (!log.ok()) return {};
  return (*log)["requests"].get<std::vector<nlohmann::json>>();
}

void TestStack::ResetEmulator() {
  (void)Control("DELETE", "/_emulator/requests");
  (void)Control("DELETE", "/_emulator/faults");
}

absl::StatusOr<std::string> TestStack::ScrapeMetrics(int index) {
  return HttpGet(absl::StrCat("http://127.0.0.1:", servers_[index].metrics_port,
                              "/metrics"));
}

absl::StatusOr<std::string> TestStack::HttpGet(const std::string& url) {
  auto response = SendAndWait(*http_, {.method = "GET", .url = url});
  if (!response.ok()) return response.status();
  return response->body;
}

}  // namespace payments::testing
