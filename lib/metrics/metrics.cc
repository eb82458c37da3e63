#include "lib/metrics/metrics.h"

#include <algorithm>
#include <array>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace payments::metrics {
namespace {

constexpr std::array<absl::string_view, 17> kCodeNames = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

// Latency buckets in seconds, from a fast local reply to a slow upstream.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* const kBuckets =
      new prometheus::Histogram::BucketBoundaries{
          0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
          0.5,   1,      2.5,   5,    10,    20,   30,  60};
  return *kBuckets;
}

// The label of RPCs of methods the server did not register.
constexpr absl::string_view kUnknownLabel = "unknown";

constexpr std::array<absl::string_view, 4> kRpcTypes = {
    "unary", "client_stream", "server_stream", "bidi_stream"};

absl::string_view KnownType(absl::string_view type) {
  return std::find(kRpcTypes.begin(), kRpcTypes.end(), type) != kRpcTypes.end()
             ? type
             : kUnknownLabel;
}

// Index of `type` in kRpcTypes, or kRpcTypes.size() for an unknown one.
size_t TypeIndex(absl::string_view type) {
  return std::find(kRpcTypes.begin(), kRpcTypes.end(), type) -
         kRpcTypes.begin();
}

absl::string_view KnownCode(absl::string_view code) {
  return std::find(kCodeNames.begin(), kCodeNames.end(), code) !=
                 kCodeNames.end()
             ? code
             : absl::string_view("UNKNOWN");
}

}  // namespace

prometheus::Labels Metrics::RpcLabels(absl::string_view type,
                                      absl::string_view service,
                                      absl::string_view method) const {
  bool known = false;
  {
    std::shared_lock<std::shared_mutex> lock(rpc_methods_mutex_);
    const auto methods = rpc_methods_.find(service);
    known = methods != rpc_methods_.end() &&
            methods->second.find(method) != methods->second.end();
  }
  if (!known) {
    service = kUnknownLabel;
    method = kUnknownLabel;
  }
  return {{"grpc_type", std::string(KnownType(type))},
          {"grpc_service", std::string(service)},
          {"grpc_method", std::string(method)}};
}

absl::string_view GrpcCodeName(int code) {
  if (code < 0 || code >= static_cast<int>(kCodeNames.size())) {
    return "UNKNOWN";
  }
  return kCodeNames[code];
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      rpc_started_(prometheus::BuildCounter()
                       .Name("grpc_server_started_total")
                       .Help("Total number of RPCs started on the server.")
                       .Register(*registry_)),
      rpc_handled_(prometheus::BuildCounter()
                       .Name("grpc_server_handled_total")
                       .Help("Total number of RPCs completed on the server, "
                             "regardless of success or failure.")
                       .Register(*registry_)),
      rpc_seconds_(prometheus::BuildHistogram()
                       .Name("grpc_server_handling_seconds")
                       .Help("Histogram of response latency (seconds) of gRPC "
                             "that had been application-level handled by the "
                             "server.")
                       .Register(*registry_)),
      upstream_seconds_(prometheus::BuildHistogram()
                            .Name("http_client_request_duration_seconds")
                            .Help("Duration of HTTP requests to Dojo, one "
                                  "observation per attempt.")
                            .Register(*registry_)),
      upstream_active_(&prometheus::BuildGauge()
                            .Name("http_client_active_requests")
                            .Help("HTTP requests to Dojo in flight.")
                            .Register(*registry_)
                            .Add({})),
      upstream_retries_(prometheus::BuildCounter()
                            .Name("payments_upstream_retries_total")
                            .Help("Retries of requests to Dojo by reason.")
                            .Register(*registry_)),
      retry_budget_exhausted_(
          prometheus::BuildCounter()
              .Name("payments_retry_budget_exhausted_total")
              .Help("Retries to Dojo refused by the retry budget.")
              .Register(*registry_)),
      unknown_outcomes_(prometheus::BuildCounter()
                            .Name("payments_unknown_outcomes_total")
                            .Help("Money-moving requests whose outcome at "
                                  "Dojo was unknown and had to be "
                                  "reconciled.")
                            .Register(*registry_)),
      reconciliations_(prometheus::BuildCounter()
                           .Name("payments_reconciliations_total")
                           .Help("Settlement attempts of unknown "
                                 "operations, by kind and result.")
                           .Register(*registry_)),
      unknown_operations_(prometheus::BuildGauge()
                              .Name("payments_unknown_operations")
                              .Help("Journaled operations whose outcome at "
                                    "Dojo is not settled yet, by kind.")
                              .Register(*registry_)),
      unknown_oldest_timestamp_(
          prometheus::BuildGauge()
              .Name("payments_unknown_operation_oldest_timestamp_seconds")
              .Help("When the attempt of the oldest unsettled operation "
                    "ended (Unix seconds, 0 if none), by kind.")
              .Register(*registry_)),
      duplicate_intents_(prometheus::BuildCounter()
                             .Name("payments_duplicate_intents_total")
                             .Help("Extra Dojo intents found for one "
                                   "(account, reference), by action.")
                             .Register(*registry_)),
      idempotency_results_(prometheus::BuildCounter()
                               .Name("payments_idempotency_results_total")
                               .Help("Creates by idempotency outcome.")
                               .Register(*registry_)),
      lifecycle_operations_(
          prometheus::BuildCounter()
              .Name("payments_lifecycle_operations_total")
              .Help("Capture, refund, reversal and cancel calls by result.")
              .Register(*registry_)),
      store_seconds_(prometheus::BuildHistogram()
                         .Name("payments_store_operation_duration_seconds")
                         .Help("Idempotency store operations by result.")
                         .Register(*registry_)),
      store_up_(&prometheus::BuildGauge()
                     .Name("payments_store_up")
                     .Help("1 while the idempotency store answers.")
                     .Register(*registry_)
                     .Add({})),
      webhook_verifications_(prometheus::BuildCounter()
                                 .Name("payments_webhook_verifications_total")
                                 .Help("Webhook verifications by result.")
                                 .Register(*registry_)),
      caller_calls_(prometheus::BuildCounter()
                        .Name("payments_caller_calls_total")
                        .Help("Calls checked against the caller policy, by "
                              "caller (named in the policy, else other), "
                              "method and result (allowed, denied, "
                              "rate_limited).")
                        .Register(*registry_)),
      policy_reloads_(prometheus::BuildCounter()
                          .Name("payments_policy_reloads_total")
                          .Help("Caller policy loads by result (loaded, "
                                "rejected: the previous policy is kept).")
                          .Register(*registry_)) {
  for (absl::string_view result : {"loaded", "rejected"}) {
    policy_reloads_.Add({{"result", std::string(result)}});
  }
  // Counters that alerts and dashboards take increase() of start at 0, so
  // that their first event counts.
  for (absl::string_view operation :
       {"create_payment_intent", "get_payment_intent",
        "refresh_client_session_secret", "search_payment_intents",
        "cancel_payment_intent", "capture_payment_intent",
        "reverse_payment_intent", "refund_payment_intent", "get_refund"}) {
    retry_budget_exhausted_.Add({{"operation", std::string(operation)}});
  }
  unknown_outcomes_.Add({{"operation", "create_payment_intent"}});
  for (absl::string_view result :
       {"found", "not_created", "unsent", "pending", "failed"}) {
    reconciliations_.Add({{"kind", "create"}, {"result", std::string(result)}});
  }
  for (absl::string_view kind :
       {"create", "capture", "refund", "reversal", "cancel"}) {
    unknown_operations_.Add({{"kind", std::string(kind)}});
    unknown_oldest_timestamp_.Add({{"kind", std::string(kind)}});
  }
  for (absl::string_view kind : {"capture", "refund", "reversal", "cancel"}) {
    for (absl::string_view result :
         {"sent", "replay", "refused", "mismatch", "in_progress", "unknown"}) {
      lifecycle_operations_.Add(
          {{"kind", std::string(kind)}, {"result", std::string(result)}});
    }
    unknown_outcomes_.Add(
        {{"operation", absl::StrCat(kind == "reversal" ? "reverse" : kind,
                                    "_payment_intent")}});
  }
  for (absl::string_view action : {"canceled", "kept", "cancel_failed"}) {
    duplicate_intents_.Add({{"action", std::string(action)}});
  }
  for (absl::string_view result :
       {"miss", "replay", "wait", "in_progress", "mismatch", "reconciled",
        "account_mismatch", "rebound"}) {
    idempotency_results_.Add({{"result", std::string(result)}});
  }
}

void Metrics::InitRpcMethod(absl::string_view type, absl::string_view service,
                            absl::string_view method) {
  {
    std::unique_lock<std::shared_mutex> lock(rpc_methods_mutex_);
    auto methods = rpc_methods_.find(service);
    if (methods == rpc_methods_.end()) {
      methods = rpc_methods_
                    .emplace(std::string(service),
                             std::set<std::string, std::less<>>())
                    .first;
    }
    methods->second.emplace(method);
  }
  // Every code's series exists at 0 from now on, and the path has its entry
  // in rpc_series_ (which RpcSeriesFor's fast path relies on).
  const prometheus::Labels labels = RpcLabels(type, service, method);
  std::unique_lock<std::shared_mutex> lock(rpc_methods_mutex_);
  SeriesByType& by_type = rpc_series_[absl::StrCat("/", service, "/", method)];
  std::unique_ptr<RpcSeries>& series = by_type[TypeIndex(type)];
  if (series == nullptr) series = MakeRpcSeries(labels, /*all_codes=*/true);
}

void Metrics::RpcStarted(absl::string_view type, absl::string_view service,
                         absl::string_view method) {
  RpcSeriesFor(type, absl::StrCat("/", service, "/", method)).Started();
}

void Metrics::RpcHandled(absl::string_view type, absl::string_view service,
                         absl::string_view method, absl::string_view code,
                         double seconds) {
  const auto index =
      std::find(kCodeNames.begin(), kCodeNames.end(), KnownCode(code)) -
      kCodeNames.begin();
  RpcSeriesFor(type, absl::StrCat("/", service, "/", method))
      .Handled(static_cast<int>(index), seconds);
}

void Metrics::RpcSeries::Handled(int code, double elapsed_seconds) const {
  seconds->Observe(elapsed_seconds);
  // UNKNOWN (2) for a code outside the canonical 17.
  if (code < 0 || code >= static_cast<int>(handled.size())) code = 2;
  prometheus::Counter* counter = handled[code].load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Family::Add is idempotent and thread-safe: racing first calls get the
    // same counter.
    prometheus::Labels with_code = labels;
    with_code.emplace("grpc_code", std::string(kCodeNames[code]));
    counter = &handled_family->Add(with_code);
    handled[code].store(counter, std::memory_order_release);
  }
  counter->Increment();
}

std::unique_ptr<Metrics::RpcSeries> Metrics::MakeRpcSeries(
    const prometheus::Labels& labels, bool all_codes) {
  auto series = std::make_unique<RpcSeries>();
  series->started = &rpc_started_.Add(labels);
  series->seconds = &rpc_seconds_.Add(labels, LatencyBuckets());
  series->handled_family = &rpc_handled_;
  series->labels = labels;
  for (size_t code = 0; all_codes && code < kCodeNames.size(); ++code) {
    prometheus::Labels with_code = labels;
    with_code.emplace("grpc_code", std::string(kCodeNames[code]));
    series->handled[code].store(&rpc_handled_.Add(with_code),
                                std::memory_order_release);
  }
  return series;
}

const Metrics::RpcSeries& Metrics::RpcSeriesFor(absl::string_view type,
                                                absl::string_view path) {
  const size_t type_index = TypeIndex(type);
  {
    std::shared_lock<std::shared_mutex> lock(rpc_methods_mutex_);
    const auto it = rpc_series_.find(path);
    const SeriesByType& by_type =
        it != rpc_series_.end() ? it->second : unknown_rpc_series_;
    if (by_type[type_index] != nullptr) return *by_type[type_index];
  }
  // First call of this (path, type): resolve the labels as RpcLabels does.
  absl::string_view service;
  absl::string_view method;
  const size_t slash = path.rfind('/');
  if (!path.empty() && path.front() == '/' && slash != 0 &&
      slash != absl::string_view::npos) {
    service = path.substr(1, slash - 1);
    method = path.substr(slash + 1);
  }
  const prometheus::Labels labels = RpcLabels(type, service, method);
  const bool known = labels.at("grpc_service") != kUnknownLabel ||
                     labels.at("grpc_method") != kUnknownLabel;
  std::unique_lock<std::shared_mutex> lock(rpc_methods_mutex_);
  SeriesByType& by_type =
      known ? rpc_series_[std::string(path)] : unknown_rpc_series_;
  if (by_type[type_index] == nullptr) {
    by_type[type_index] = MakeRpcSeries(labels, /*all_codes=*/known);
  }
  return *by_type[type_index];
}

void Metrics::UpstreamRequest(absl::string_view operation,
                              absl::string_view method,
                              absl::string_view status_code,
                              absl::string_view error_type, double seconds) {
  upstream_seconds_
      .Add({{"operation", std::string(operation)},
            {"http_request_method", std::string(method)},
            {"http_response_status_code", std::string(status_code)},
            {"error_type", std::string(error_type)}},
           LatencyBuckets())
      .Observe(seconds);
}

void Metrics::UpstreamRetry(absl::string_view operation,
                            absl::string_view reason) {
  upstream_retries_
      .Add({{"operation", std::string(operation)},
            {"reason", std::string(reason)}})
      .Increment();
}

void Metrics::RetryBudgetExhausted(absl::string_view operation) {
  retry_budget_exhausted_.Add({{"operation", std::string(operation)}})
      .Increment();
}

void Metrics::UnknownOutcome(absl::string_view operation) {
  unknown_outcomes_.Add({{"operation", std::string(operation)}}).Increment();
}

void Metrics::Reconciliation(absl::string_view kind, absl::string_view result) {
  reconciliations_
      .Add({{"kind", std::string(kind)}, {"result", std::string(result)}})
      .Increment();
}

void Metrics::SetUnknownOperations(absl::string_view kind, int64_t count,
                                   double oldest_unix_seconds) {
  const prometheus::Labels labels = {{"kind", std::string(kind)}};
  unknown_operations_.Add(labels).Set(static_cast<double>(count));
  unknown_oldest_timestamp_.Add(labels).Set(oldest_unix_seconds);
}

void Metrics::DuplicateIntent(absl::string_view action) {
  duplicate_intents_.Add({{"action", std::string(action)}}).Increment();
}

void Metrics::IdempotencyResult(absl::string_view result) {
  idempotency_results_.Add({{"result", std::string(result)}}).Increment();
}

void Metrics::LifecycleOperation(absl::string_view kind,
                                 absl::string_view result) {
  lifecycle_operations_
      .Add({{"kind", std::string(kind)}, {"result", std::string(result)}})
      .Increment();
}

void Metrics::StoreOperation(absl::string_view operation, double seconds,
                             bool ok) {
  store_seconds_
      .Add({{"operation", std::string(operation)},
            {"result", ok ? "ok" : "error"}},
           LatencyBuckets())
      .Observe(seconds);
}

void Metrics::WebhookVerification(absl::string_view result) {
  webhook_verifications_.Add({{"result", std::string(result)}}).Increment();
}

void Metrics::CallerCall(absl::string_view caller, absl::string_view method,
                         CallerResult result) {
  const char* name = result == CallerResult::kAllowed  ? "allowed"
                     : result == CallerResult::kDenied ? "denied"
                                                       : "rate_limited";
  caller_calls_
      .Add({{"caller", std::string(caller)},
            {"grpc_method", std::string(method)},
            {"result", name}})
      .Increment();
}

void Metrics::PolicyReload(absl::string_view result) {
  policy_reloads_.Add({{"result", std::string(result)}}).Increment();
}

}  // namespace payments::metrics
