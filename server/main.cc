// payments-server: the gRPC payments gateway in front of Dojo.

#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "lib/common/logger.h"
#include "lib/config/server_config.h"
#include "lib/dojo/curl_multi_transport.h"
#include "lib/dojo/dojo_client.h"
#include "lib/metrics/metrics.h"
#include "lib/payments/account_keys.h"
#include "lib/payments/payments_service.h"
#include "lib/webhook/signature_verifier.h"
#include "prometheus/exposer.h"
#include "server/payments_grpc_service.h"
#include "server/rpc_metrics_interceptor.h"

// Every flag has an environment variable of the same meaning (see
// lib/config/server_config.h); a flag given on the command line wins.
// Inline secrets (DOJO_API_KEY, DOJO_WEBHOOK_SECRETS) are environment-only
// so they never show up in a process listing.
ABSL_FLAG(std::string, listen_addr, "", "gRPC listen address (PAYMENTS_LISTEN_ADDR)");
ABSL_FLAG(std::string, metrics_addr, "", "Prometheus /metrics address (PAYMENTS_METRICS_ADDR)");
ABSL_FLAG(std::string, store, "", "sqlite:<path> or postgresql://... (PAYMENTS_STORE)");
ABSL_FLAG(std::string, dojo_base_url, "", "Dojo API base URL (DOJO_BASE_URL)");
ABSL_FLAG(std::string, dojo_api_key_file, "", "file with the default account's key (DOJO_API_KEY_FILE)");
ABSL_FLAG(std::string, dojo_accounts_file, "", "file of name=key lines (DOJO_ACCOUNTS_FILE)");
ABSL_FLAG(std::string, dojo_api_version, "", "Dojo version header (DOJO_API_VERSION)");
ABSL_FLAG(std::string, dojo_ca_file, "", "extra CA bundle for Dojo's TLS (DOJO_CA_FILE)");
ABSL_FLAG(std::string, dojo_webhook_secrets_file, "", "file of id=secret lines (DOJO_WEBHOOK_SECRETS_FILE)");
ABSL_FLAG(std::string, default_deadline, "", "deadline when a caller sets none, e.g. 30s (PAYMENTS_DEFAULT_DEADLINE)");
ABSL_FLAG(std::string, upstream_timeout, "", "longest HTTP attempt to Dojo (PAYMENTS_UPSTREAM_TIMEOUT)");
ABSL_FLAG(std::string, shutdown_grace, "", "drain time after SIGTERM (PAYMENTS_SHUTDOWN_GRACE)");
ABSL_FLAG(std::string, max_webhook_bytes, "", "largest webhook body (PAYMENTS_MAX_WEBHOOK_BYTES)");
ABSL_FLAG(std::string, upstream_max_connections, "", "connections per Dojo host (PAYMENTS_UPSTREAM_MAX_CONNECTIONS)");
ABSL_FLAG(std::string, upstream_connect_timeout, "", "DNS+TCP+TLS limit (PAYMENTS_UPSTREAM_CONNECT_TIMEOUT)");
ABSL_FLAG(std::string, retry_max_attempts, "", "attempts per Dojo call (PAYMENTS_RETRY_MAX_ATTEMPTS)");
ABSL_FLAG(std::string, retry_initial_backoff, "", "first backoff (PAYMENTS_RETRY_INITIAL_BACKOFF)");
ABSL_FLAG(std::string, retry_max_backoff, "", "longest backoff (PAYMENTS_RETRY_MAX_BACKOFF)");
ABSL_FLAG(std::string, retry_max_retry_after, "", "longest Retry-After honoured (PAYMENTS_RETRY_MAX_RETRY_AFTER)");
ABSL_FLAG(std::string, retry_budget_tokens, "", "retry budget tokens (PAYMENTS_RETRY_BUDGET_TOKENS)");
ABSL_FLAG(std::string, retry_budget_ratio, "", "tokens per success (PAYMENTS_RETRY_BUDGET_RATIO)");

namespace {

using payments::Log;
using payments::LogLevel;

constexpr char kServiceName[] = "payments.v1.PaymentsService";

std::map<absl::string_view, std::string> FlagValues() {
  return {
      {"PAYMENTS_LISTEN_ADDR", absl::GetFlag(FLAGS_listen_addr)},
      {"PAYMENTS_METRICS_ADDR", absl::GetFlag(FLAGS_metrics_addr)},
      {"PAYMENTS_STORE", absl::GetFlag(FLAGS_store)},
      {"DOJO_BASE_URL", absl::GetFlag(FLAGS_dojo_base_url)},
      {"DOJO_API_KEY_FILE", absl::GetFlag(FLAGS_dojo_api_key_file)},
      {"DOJO_ACCOUNTS_FILE", absl::GetFlag(FLAGS_dojo_accounts_file)},
      {"DOJO_API_VERSION", absl::GetFlag(FLAGS_dojo_api_version)},
      {"DOJO_CA_FILE", absl::GetFlag(FLAGS_dojo_ca_file)},
      {"DOJO_WEBHOOK_SECRETS_FILE",
       absl::GetFlag(FLAGS_dojo_webhook_secrets_file)},
      {"PAYMENTS_DEFAULT_DEADLINE", absl::GetFlag(FLAGS_default_deadline)},
      {"PAYMENTS_UPSTREAM_TIMEOUT", absl::GetFlag(FLAGS_upstream_timeout)},
      {"PAYMENTS_SHUTDOWN_GRACE", absl::GetFlag(FLAGS_shutdown_grace)},
      {"PAYMENTS_MAX_WEBHOOK_BYTES", absl::GetFlag(FLAGS_max_webhook_bytes)},
      {"PAYMENTS_UPSTREAM_MAX_CONNECTIONS",
       absl::GetFlag(FLAGS_upstream_max_connections)},
      {"PAYMENTS_UPSTREAM_CONNECT_TIMEOUT",
       absl::GetFlag(FLAGS_upstream_connect_timeout)},
      {"PAYMENTS_RETRY_MAX_ATTEMPTS", absl::GetFlag(FLAGS_retry_max_attempts)},
      {"PAYMENTS_RETRY_INITIAL_BACKOFF",
       absl::GetFlag(FLAGS_retry_initial_backoff)},
      {"PAYMENTS_RETRY_MAX_BACKOFF", absl::GetFlag(FLAGS_retry_max_backoff)},
      {"PAYMENTS_RETRY_MAX_RETRY_AFTER",
       absl::GetFlag(FLAGS_retry_max_retry_after)},
      {"PAYMENTS_RETRY_BUDGET_TOKENS", absl::GetFlag(FLAGS_retry_budget_tokens)},
      {"PAYMENTS_RETRY_BUDGET_RATIO", absl::GetFlag(FLAGS_retry_budget_ratio)},
  };
}

[[noreturn]] void Fail(absl::string_view what) {
  std::cerr << "payments-server: " << what << std::endl;
  std::exit(2);
}

void RegisterRpcMetrics(payments::metrics::Metrics& metrics) {
  const auto* service = payments::v1::PaymentsService::service_full_name();
  for (const char* method : {"CreateIntent", "GetIntent", "CreatePaymentLink",
                             "RefreshClientSessionSecret", "VerifyWebhook"}) {
    metrics.InitRpcMethod("unary", service, method);
  }
  metrics.InitRpcMethod("unary", "grpc.health.v1.Health", "Check");
  metrics.InitRpcMethod("server_stream", "grpc.health.v1.Health", "Watch");
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "payments-server: typed gRPC payments over Dojo. Every flag also reads "
      "its environment variable; see README.md.");
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
  absl::StatusOr<payments::config::ServerConfig> loaded =
      payments::config::LoadServerConfig(
          [&flags](absl::string_view env) -> std::optional<std::string> {
            if (auto it = flags.find(env);
                it != flags.end() && !it->second.empty()) {
              return it->second;
            }
            if (const char* value = std::getenv(std::string(env).c_str())) {
              return std::string(value);
            }
            return std::nullopt;
          });
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
  payments::AccountKeys accounts(config.dojo_accounts,
                                 std::string(payments::config::kDefaultAccount));
  std::vector<payments::webhook::WebhookSecret> secrets;
  for (const auto& secret : config.webhook_secrets) {
    secrets.push_back({secret.id, secret.secret});
  }
  payments::webhook::SignatureVerifier verifier(std::move(secrets));
  payments::PaymentsService service(
      dojo, accounts, verifier,
      {.max_webhook_body_bytes = config.max_webhook_body_bytes}, &metrics);
  payments::server::PaymentsGrpcService grpc_service(service,
                                                     config.default_deadline);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(config.listen_addr,
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&grpc_service);
  std::vector<std::unique_ptr<
      grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(
      std::make_unique<payments::server::RpcMetricsInterceptorFactory>(
          metrics));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    Fail(absl::StrCat("cannot listen on ", config.listen_addr));
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus(kServiceName, true);
  health->SetServingStatus(true);

  std::vector<std::string> account_names;
  for (const auto& [name, key] : config.dojo_accounts) {
    account_names.push_back(name);
  }
  Log(LogLevel::kInfo, "started",
      {{"listen_addr", config.listen_addr},
       {"port", port},
       {"metrics_addr", config.metrics_addr},
       {"metrics_port", exposer->GetListeningPorts().front()},
       {"dojo_base_url", config.dojo_base_url},
       {"dojo_api_version", config.dojo_api_version},
       {"accounts", absl::StrJoin(account_names, ",")},
       {"webhook_secrets",
        static_cast<int>(config.webhook_secrets.size())}});

  int received = 0;
  sigwait(&signals, &received);
  Log(LogLevel::kInfo, "draining",
      {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"},
       {"grace_ms", absl::ToInt64Milliseconds(config.shutdown_grace)}});
  // NOT_SERVING first, so health checks steer new calls away, then stop
  // accepting and give in-flight calls the grace period.
  health->Shutdown();
  server->Shutdown(absl::ToChronoTime(absl::Now() + config.shutdown_grace));
  server->Wait();
  Log(LogLevel::kInfo, "stopped");
  return 0;
}
