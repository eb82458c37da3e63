// payments-server: the gRPC payments gateway in front of Dojo.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "lib/common/clock.h"
#include "lib/common/logger.h"
#include "lib/config/server_config.h"
#include "lib/dojo/curl_multi_transport.h"
#include "lib/dojo/dojo_client.h"
#include "lib/idempotency/idempotency_store.h"
#include "lib/idempotency/worker_pool.h"
#include "lib/metrics/metrics.h"
#include "lib/payments/account_keys.h"
#include "lib/payments/idempotent_creator.h"
#include "lib/payments/intent_operations.h"
#include "lib/payments/payments_service.h"
#include "lib/payments/reconciler.h"
#include "lib/payments/store_monitor.h"
#include "lib/webhook/signature_verifier.h"
#include "prometheus/exposer.h"
#include "server/access_log.h"
#include "server/caller_guard.h"
#include "server/credentials_reloader.h"
#include "server/grpc_status.h"
#include "server/payments_grpc_service.h"
#include "server/reflection_v1.h"
#include "server/rpc_metrics_interceptor.h"

// Every flag has an environment variable of the same meaning (see
// lib/config/server_config.h); a flag given on the command line wins.
// Inline secrets (DOJO_API_KEY, DOJO_WEBHOOK_SECRETS) are environment-only
// so they never show up in a process listing.
ABSL_FLAG(std::string, listen_addr, "",
          "gRPC listen address (PAYMENTS_LISTEN_ADDR)");
ABSL_FLAG(std::string, health_addr, "",
          "plaintext grpc.health.v1-only listen address for kubelet probes "
          "(PAYMENTS_HEALTH_ADDR)");
ABSL_FLAG(std::string, tls, "",
          "mtls, tls or off (plaintext): required (PAYMENTS_TLS)");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM server certificate chain (PAYMENTS_TLS_CERT_FILE)");
ABSL_FLAG(std::string, tls_key_file, "",
          "PEM server private key (PAYMENTS_TLS_KEY_FILE)");
ABSL_FLAG(
    std::string, tls_client_ca_file, "",
    "PEM CAs that sign client certificates (PAYMENTS_TLS_CLIENT_CA_FILE)");
ABSL_FLAG(std::string, policy_file, "",
          "caller policy JSON (PAYMENTS_POLICY_FILE)");
ABSL_FLAG(std::string, metrics_addr, "",
          "Prometheus /metrics address (PAYMENTS_METRICS_ADDR)");
ABSL_FLAG(std::string, store, "",
          "sqlite:<path> or postgresql://... (PAYMENTS_STORE)");
ABSL_FLAG(std::string, dojo_base_url, "", "Dojo API base URL (DOJO_BASE_URL)");
ABSL_FLAG(std::string, dojo_api_key_file, "",
          "file with the default account's key (DOJO_API_KEY_FILE)");
ABSL_FLAG(std::string, dojo_accounts_file, "",
          "file of name=key lines (DOJO_ACCOUNTS_FILE)");
ABSL_FLAG(std::string, dojo_api_version, "",
          "Dojo version header (DOJO_API_VERSION)");
ABSL_FLAG(std::string, dojo_ca_file, "",
          "extra CA bundle for Dojo's TLS (DOJO_CA_FILE)");
ABSL_FLAG(std::string, dojo_webhook_secrets_file, "",
          "file of id=secret lines (DOJO_WEBHOOK_SECRETS_FILE)");
ABSL_FLAG(
    std::string, default_deadline, "",
    "deadline when a caller sets none, e.g. 30s (PAYMENTS_DEFAULT_DEADLINE)");
ABSL_FLAG(std::string, upstream_timeout, "",
          "longest HTTP attempt to Dojo (PAYMENTS_UPSTREAM_TIMEOUT)");
ABSL_FLAG(std::string, shutdown_grace, "",
          "drain time after SIGTERM (PAYMENTS_SHUTDOWN_GRACE)");
ABSL_FLAG(std::string, max_webhook_bytes, "",
          "largest webhook body (PAYMENTS_MAX_WEBHOOK_BYTES)");
ABSL_FLAG(std::string, upstream_max_connections, "",
          "connections per Dojo host (PAYMENTS_UPSTREAM_MAX_CONNECTIONS)");
ABSL_FLAG(std::string, upstream_connect_timeout, "",
          "DNS+TCP+TLS limit (PAYMENTS_UPSTREAM_CONNECT_TIMEOUT)");
ABSL_FLAG(std::string, retry_max_attempts, "",
          "attempts per Dojo call (PAYMENTS_RETRY_MAX_ATTEMPTS)");
ABSL_FLAG(std::string, retry_initial_backoff, "",
          "first backoff (PAYMENTS_RETRY_INITIAL_BACKOFF)");
ABSL_FLAG(std::string, retry_max_backoff, "",
          "longest backoff (PAYMENTS_RETRY_MAX_BACKOFF)");
ABSL_FLAG(std::string, retry_max_retry_after, "",
          "longest Retry-After honoured (PAYMENTS_RETRY_MAX_RETRY_AFTER)");
ABSL_FLAG(std::string, retry_budget_tokens, "",
          "retry budget tokens (PAYMENTS_RETRY_BUDGET_TOKENS)");
ABSL_FLAG(std::string, retry_budget_ratio, "",
          "tokens per success (PAYMENTS_RETRY_BUDGET_RATIO)");
ABSL_FLAG(std::string, idempotency_retention, "",
          "how long create records are kept (PAYMENTS_IDEMPOTENCY_RETENTION)");
ABSL_FLAG(std::string, webhook_retention, "",
          "how long webhook ids are remembered (PAYMENTS_WEBHOOK_RETENTION)");
ABSL_FLAG(std::string, store_workers, "",
          "threads doing store I/O (PAYMENTS_STORE_WORKERS)");
ABSL_FLAG(std::string, settle_period, "",
          "time after an ambiguous attempt before 'not found' means 'not "
          "created' (PAYMENTS_SETTLE_PERIOD)");
ABSL_FLAG(
    std::string, reconcile_clock_skew, "",
    "widening of reconciliation searches (PAYMENTS_RECONCILE_CLOCK_SKEW)");
ABSL_FLAG(std::string, reconcile_interval, "",
          "how often unknown operations are claimed "
          "(PAYMENTS_RECONCILE_INTERVAL)");
ABSL_FLAG(std::string, credentials_reload_interval, "",
          "how often key/secret files are re-read "
          "(PAYMENTS_CREDENTIALS_RELOAD_INTERVAL)");
ABSL_FLAG(std::string, drain_delay, "",
          "NOT_SERVING time before refusing calls after SIGTERM "
          "(PAYMENTS_DRAIN_DELAY)");
ABSL_FLAG(std::string, access_log_sample_ratio, "",
          "share of OK calls logged, 0..1 (PAYMENTS_ACCESS_LOG_SAMPLE_RATIO)");

namespace {

using payments::Log;
using payments::LogLevel;

constexpr char kServiceName[] = "payments.v1.PaymentsService";

[[noreturn]] void Fail(absl::string_view what);

// Raw setting values given as flags, by environment variable name.
std::map<absl::string_view, std::string> FlagValues() {
  std::map<absl::string_view, std::string> values;
  for (const payments::config::SettingSpec& spec :
       payments::config::AllSettings()) {
    if (spec.flag.empty()) continue;  // Inline secrets: environment only.
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(spec.flag);
    if (flag == nullptr) Fail(absl::StrCat("no flag --", spec.flag));
    values[spec.env] = flag->CurrentValue();
  }
  return values;
}

// Names this process in journal record owners and reconciler claims: host
// and a random tag.
std::string InstanceId() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::random_device random;
  return absl::StrCat(host, "-", absl::Hex(random(), absl::kZeroPad8));
}

[[noreturn]] void Fail(absl::string_view what) {
  std::cerr << "payments-server: " << what << std::endl;
  std::exit(2);
}

// A misspelt flag or a stray argument is a bad setting (exit 2), like any
// other, where Abseil's parser would exit 1. Values are never echoed: one
// may be a secret given in the wrong place.
void RejectUnknownArguments(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {
      if (i + 1 < argc) Fail(absl::StrCat("unexpected argument ", i + 1));
      return;
    }
    if (!absl::ConsumePrefix(&arg, "-") || arg.empty()) {
      Fail(absl::StrCat("unexpected argument ", i));
    }
    absl::ConsumePrefix(&arg, "-");
    const bool has_value = arg.find('=') != absl::string_view::npos;
    const absl::string_view name = arg.substr(0, arg.find('='));
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && absl::StartsWith(name, "no")) {
      flag = absl::FindCommandLineFlag(name.substr(2));
      if (flag != nullptr && !flag->IsOfType<bool>()) flag = nullptr;
    }
    if (flag == nullptr) {
      Fail(absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    // "--name value": the value is the next argument.
    if (!has_value && !flag->IsOfType<bool>()) ++i;
  }
}

void RegisterRpcMetrics(payments::metrics::Metrics& metrics) {
  const auto* service = payments::v1::PaymentsService::service_full_name();
  const google::protobuf::ServiceDescriptor& rpcs =
      *payments::v1::CreateIntentRequest::descriptor()->file()->service(0);
  for (int i = 0; i < rpcs.method_count(); ++i) {
    metrics.InitRpcMethod("unary", service, rpcs.method(i)->name());
  }
  metrics.InitRpcMethod("unary", "grpc.health.v1.Health", "Check");
  metrics.InitRpcMethod("server_stream", "grpc.health.v1.Health", "Watch");
  for (const char* reflection : {"grpc.reflection.v1alpha.ServerReflection",
                                 "grpc.reflection.v1.ServerReflection"}) {
    metrics.InitRpcMethod("bidi_stream", reflection, "ServerReflectionInfo");
  }
}

// The credentials of the gRPC listener. With TLS, gRPC's file watcher
// re-reads the certificate, key and client CA every `refresh`, so a rotated
// Secret takes effect for new connections without a restart.
std::shared_ptr<grpc::ServerCredentials> ListenerCredentials(
    const payments::config::ServerConfig& config) {
  using payments::config::TlsMode;
  if (config.tls == TlsMode::kOff) return grpc::InsecureServerCredentials();
  const bool mutual = config.tls == TlsMode::kMutual;
  const auto refresh = static_cast<unsigned int>(std::max<int64_t>(
      1, absl::ToInt64Seconds(config.credentials_reload_interval)));
  auto provider =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          config.tls_key_file, config.tls_cert_file,
          mutual ? config.tls_client_ca_file : "", refresh);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (mutual) {
    options.watch_root_certs();
    options.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

// Drops the server builder plugins (reflection), so that the health
// listener serves grpc.health.v1 and nothing else.
class NoPlugins final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->clear();
  }
};

// Answers every method but the health service's with UNIMPLEMENTED. It also
// gives the health-only server a callback service, without which gRPC
// refuses to build a server whose only service is the built-in health one.
class HealthOnly final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext*) override {
    class Refuse final : public grpc::ServerGenericBidiReactor {
     public:
      Refuse() {
        Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                            "this listener serves only grpc.health.v1"));
      }
      void OnDone() override { delete this; }
    };
    return new Refuse();
  }
};

absl::string_view TlsModeName(payments::config::TlsMode mode) {
  switch (mode) {
    case payments::config::TlsMode::kOff:
      return "off";
    case payments::config::TlsMode::kTls:
      return "tls";
    case payments::config::TlsMode::kMutual:
      return "mtls";
  }
  return "off";
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil is built without NDEBUG, so every absl::Mutex (gRPC's
  // among them) would run deadlock detection, a global graph update under a
  // global lock, on each lock: measurable per call. The unit tests keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(
      "payments-server: typed gRPC payments over Dojo. Every flag also reads "
      "its environment variable; see README.md.");
  RejectUnknownArguments(argc, argv);
  absl::ParseCommandLine(argc, argv);

  // Signals are taken synchronously by sigwait() below; block them before
  // any thread starts so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const std::map<absl::string_view, std::string> flags = FlagValues();
  const payments::config::SettingLookup lookup =
      [&flags](absl::string_view env) -> std::optional<std::string> {
    if (auto it = flags.find(env); it != flags.end() && !it->second.empty()) {
      return it->second;
    }
    if (const char* value = std::getenv(std::string(env).c_str())) {
      return std::string(value);
    }
    return std::nullopt;
  };
  absl::StatusOr<payments::config::ServerConfig> loaded =
      payments::config::LoadServerConfig(lookup);
  if (!loaded.ok()) Fail(loaded.status().message());
  const payments::config::ServerConfig& config = *loaded;

  payments::metrics::Metrics metrics;
  RegisterRpcMetrics(metrics);
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(config.metrics_addr);
  } catch (const std::exception& e) {
    Fail(absl::StrCat("cannot serve metrics on ", config.metrics_addr, ": ",
                      e.what()));
  }
  exposer->RegisterCollectable(metrics.registry());

  payments::dojo::CurlMultiTransport::Options transport_options;
  transport_options.ca_file = config.dojo_ca_file;
  transport_options.connect_timeout = config.upstream_connect_timeout;
  transport_options.max_connections_per_host = config.upstream_max_connections;
  auto transport =
      payments::dojo::CurlMultiTransport::Create(transport_options);
  if (!transport.ok()) Fail(transport.status().message());

  payments::dojo::DojoClient dojo(
      **transport,
      {.base_url = config.dojo_base_url,
       .api_version = config.dojo_api_version,
       .attempt_timeout = config.upstream_timeout,
       .retry = {.max_attempts = config.retry_max_attempts,
                 .initial_backoff = config.retry_initial_backoff,
                 .max_backoff = config.retry_max_backoff,
                 .max_retry_after = config.retry_max_retry_after,
                 .budget_max_tokens = config.retry_budget_tokens,
                 .budget_token_ratio = config.retry_budget_ratio}},
      &metrics);
  auto store = payments::idempotency::OpenStore(config.store);
  if (!store.ok()) Fail(store.status().message());
  // The schema before the first call, so that none meets a missing or old
  // one. If the store cannot be reached yet, the server still starts (not
  // ready) and the store monitor keeps trying.
  (void)(*store)->Migrate();
  payments::idempotency::WorkerPool pool(config.store_workers);

  const payments::config::Credentials credentials{
      .dojo_accounts = config.dojo_accounts,
      .webhook_secrets = config.webhook_secrets};
  payments::Reloadable<payments::AccountKeys> accounts(
      payments::server::AccountKeysFrom(credentials));
  payments::Reloadable<payments::webhook::SignatureVerifier> verifier(
      payments::server::VerifierFrom(credentials));
  payments::server::CredentialsReloader reloader(
      lookup, credentials, accounts, verifier,
      config.credentials_reload_interval);

  const payments::SystemClock clock;
  const std::string instance_id = InstanceId();
  payments::Reconciler reconciler(**store, pool, dojo, accounts, clock,
                                  **transport,
                                  {.settle_period = config.settle_period,
                                   .clock_skew = config.reconcile_clock_skew,
                                   .poll_interval = config.reconcile_interval,
                                   .instance_id = instance_id},
                                  &metrics);
  const payments::IdempotencyOptions journaled{
      .retention = config.idempotency_retention, .instance_id = instance_id};
  payments::IdempotentCreator creator(**store, pool, dojo, reconciler, clock,
                                      **transport, journaled, &metrics);
  payments::IntentOperations operations(**store, pool, dojo, reconciler, clock,
                                        **transport, journaled, &metrics);
  payments::PaymentsService service(
      dojo, creator, operations, **store, pool, accounts, verifier,
      {.max_webhook_body_bytes = config.max_webhook_body_bytes,
       .webhook_retention = config.webhook_retention},
      &metrics);
  absl::StatusOr<std::unique_ptr<payments::server::CallerGuard>> guard =
      payments::server::CallerGuard::Create(
          config.policy_file, config.credentials_reload_interval, metrics);
  if (!guard.ok()) Fail(guard.status().message());
  payments::server::PaymentsGrpcService grpc_service(
      service, config.default_deadline, guard->get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // The limit PAYMENTS_MAX_WEBHOOK_BYTES was checked against at load.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(payments::config::kMaxReceiveMessageBytes));
  int port = 0;
  builder.AddListeningPort(config.listen_addr, ListenerCredentials(config),
                           &port);
  builder.RegisterService(&grpc_service);
  payments::server::AddReflectionV1(builder);  // v1alpha comes from gRPC
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  // First: a request gRPC cannot deserialize becomes INVALID_ARGUMENT before
  // the metrics and the access log see its status.
  interceptors.push_back(
      std::make_unique<payments::server::MalformedRequestInterceptorFactory>());
  interceptors.push_back(
      std::make_unique<payments::server::RpcMetricsInterceptorFactory>(
          metrics));
  interceptors.push_back(
      std::make_unique<payments::server::AccessLogInterceptorFactory>(
          config.access_log_sample_ratio));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    Fail(absl::StrCat("cannot listen on ", config.listen_addr));
  }
  // Kubelet's gRPC probes cannot speak TLS: a plaintext listener that
  // serves only grpc.health.v1, mirroring the main listener's statuses.
  std::unique_ptr<grpc::Server> health_server;
  HealthOnly health_only;
  int health_port = 0;
  if (!config.health_addr.empty()) {
    grpc::ServerBuilder health_builder;
    health_builder.SetOption(std::make_unique<NoPlugins>());
    health_builder.RegisterCallbackGenericService(&health_only);
    health_builder.AddListeningPort(
        config.health_addr, grpc::InsecureServerCredentials(), &health_port);
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        health_interceptors;
    health_interceptors.push_back(
        std::make_unique<payments::server::RpcMetricsInterceptorFactory>(
            metrics));
    health_builder.experimental().SetInterceptorCreators(
        std::move(health_interceptors));
    health_server = health_builder.BuildAndStart();
    if (health_server == nullptr || health_port == 0) {
      Fail(absl::StrCat("cannot listen on ", config.health_addr));
    }
  }
  std::vector<grpc::HealthCheckServiceInterface*> healths = {
      server->GetHealthCheckService()};
  if (health_server != nullptr) {
    healths.push_back(health_server->GetHealthCheckService());
  }
  // Liveness ("") is the process; readiness (the service) follows the
  // store, not Dojo.
  for (auto* health : healths) {
    health->SetServingStatus(true);
    health->SetServingStatus(kServiceName, false);
  }
  std::atomic<bool> draining{false};
  payments::StoreMonitor store_monitor(
      **store,
      [&healths, &draining](bool up) {
        if (!draining.load()) {
          for (auto* health : healths) {
            health->SetServingStatus(kServiceName, up);
          }
        }
        Log(up ? LogLevel::kInfo : LogLevel::kError,
            up ? "store_up" : "store_down");
      },
      {}, &metrics);

  // Settles unknown operations in the background, from Dojo's state.
  reconciler.Start();

  std::vector<std::string> account_names;
  for (const auto& [name, key] : config.dojo_accounts) {
    account_names.push_back(name);
  }
  Log(LogLevel::kInfo, "started",
      {{"listen_addr", config.listen_addr},
       {"port", port},
       {"tls", std::string(TlsModeName(config.tls))},
       {"health_port", health_port},
       {"policy_file", config.policy_file},
       {"metrics_addr", config.metrics_addr},
       {"metrics_port", exposer->GetListeningPorts().front()},
       {"dojo_base_url", config.dojo_base_url},
       {"dojo_api_version", config.dojo_api_version},
       {"accounts", absl::StrJoin(account_names, ",")},
       {"webhook_secrets", static_cast<int>(config.webhook_secrets.size())}});

  int received = 0;
  sigwait(&signals, &received);
  Log(LogLevel::kInfo, "draining",
      {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"},
       {"grace_ms", absl::ToInt64Milliseconds(config.shutdown_grace)},
       {"upstream_in_flight",
        static_cast<int64_t>((*transport)->ActiveRequests())}});
  // NOT_SERVING first, so health checks steer new calls away, then refuse
  // new calls and give those in flight the grace period.
  draining.store(true);
  for (auto* health : healths) health->Shutdown();
  absl::SleepFor(config.drain_delay);
  // Past the grace period gRPC cancels the calls left; cancelling their
  // upstream exchanges and timers too lets them answer now instead of at
  // their own timeouts.
  absl::Notification calls_done;
  std::thread cut_off([&] {
    if (!calls_done.WaitForNotificationWithTimeout(config.shutdown_grace)) {
      Log(LogLevel::kWarning, "grace_expired",
          {{"upstream_cancelled",
            static_cast<int64_t>((*transport)->ActiveRequests())}});
      (*transport)->Shutdown();
    }
  });
  server->Shutdown(absl::ToChronoTime(absl::Now() + config.shutdown_grace));
  server->Wait();
  calls_done.Notify();
  cut_off.join();
  if (health_server != nullptr) {
    health_server->Shutdown(absl::ToChronoTime(absl::Now()));
    health_server->Wait();
  }
  // Then the background work, in order: upstream exchanges (the
  // reconciler's) and timers end with CANCELLED, each completion exactly
  // once, still able to reach the store pool; the reconciler's round ends;
  // the pool runs what is queued. Records left unknown are settled later by
  // another replica or after a restart. Destructors then run in reverse
  // order of construction with nothing in flight.
  const int64_t cancelled_upstream =
      static_cast<int64_t>((*transport)->ActiveRequests());
  (*transport)->Shutdown();
  reconciler.Stop();
  pool.Stop();
  Log(LogLevel::kInfo, "stopped", {{"cancelled_upstream", cancelled_upstream}});
  return 0;
}
