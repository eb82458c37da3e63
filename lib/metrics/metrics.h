#ifndef LIB_METRICS_METRICS_H_
#define LIB_METRICS_METRICS_H_

// Every metric the service exports, with its name and labels, in one place.
// Thread-safe: all methods may be called from any thread.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>

#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace payments::metrics {

class Metrics final {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // gRPC server metrics with the conventional names and labels
  // (grpc_server_started_total, grpc_server_handled_total,
  // grpc_server_handling_seconds). `type` is unary, client_stream,
  // server_stream or bidi_stream; `code` is the canonical code name (OK,
  // INVALID_ARGUMENT, ...).
  //
  // Only methods initialised with InitRpcMethod keep their own service and
  // method labels; RPCs of any other path (a caller can send any path) are
  // counted under grpc_service="unknown", grpc_method="unknown" so that the
  // number of series stays bounded. An unknown `type` or `code` likewise
  // becomes "unknown" / "UNKNOWN".
  void InitRpcMethod(absl::string_view type, absl::string_view service,
                     absl::string_view method);

  // The series of one (type, method) pair, resolved once: recording through
  // them is a few atomic adds, with no label map, lookup or lock per call.
  // Pointers stay valid for the lifetime of this Metrics.
  struct RpcSeries {
    prometheus::Counter* started;
    prometheus::Histogram* seconds;
    // By status code; for a method not initialised with InitRpcMethod,
    // created on the code's first use (so an unknown method exports only the
    // codes it returned).
    mutable std::array<std::atomic<prometheus::Counter*>, 17> handled{};
    prometheus::Family<prometheus::Counter>* handled_family;
    prometheus::Labels labels;  // type, service, method.

    void Started() const { started->Increment(); }
    // `code` is the numeric gRPC status code; out of range counts as
    // UNKNOWN.
    void Handled(int code, double elapsed_seconds) const;
  };
  // The series for `path` ("/package.Service/Method", as gRPC gives it): its
  // own for a method initialised with InitRpcMethod, else the shared
  // "unknown" ones (a malformed path included). One map lookup under a
  // shared lock; series of a type not seen before for the path are created
  // on first use.
  const RpcSeries& RpcSeriesFor(absl::string_view type, absl::string_view path);

  void RpcStarted(absl::string_view type, absl::string_view service,
                  absl::string_view method);
  void RpcHandled(absl::string_view type, absl::string_view service,
                  absl::string_view method, absl::string_view code,
                  double seconds);

  // One HTTP attempt towards Dojo. `status_code` is empty and `error_type`
  // names the failure (e.g. "timeout", "connect") when no response came;
  // `error_type` is the status code for HTTP errors, empty on success.
  void UpstreamRequest(absl::string_view operation, absl::string_view method,
                       absl::string_view status_code,
                       absl::string_view error_type, double seconds);
  prometheus::Gauge& upstream_active_requests() { return *upstream_active_; }

  // A retry towards Dojo and why ("connect", "timeout", "503", ...).
  void UpstreamRetry(absl::string_view operation, absl::string_view reason);
  // A retry the retry budget refused.
  void RetryBudgetExhausted(absl::string_view operation);
  // A money-moving request that may or may not have reached Dojo.
  void UnknownOutcome(absl::string_view operation);
  // One settlement attempt of a journaled operation of `kind` (create, ...);
  // result: found, not_created, unsent (never sent: settled without a
  // search), pending (not found yet, looked at again later), failed (Dojo
  // could not be searched).
  void Reconciliation(absl::string_view kind, absl::string_view result);
  // Unknown operations of `kind` now, and when the attempt of the oldest
  // ended (Unix seconds; 0 if none). A timestamp, not an age, so that an
  // alert on `time() - it` keeps firing when the journal cannot be read
  // and the gauges stop being refreshed.
  void SetUnknownOperations(absl::string_view kind, int64_t count,
                            double oldest_unix_seconds);
  // A second Dojo intent for one (account, reference); action: canceled,
  // kept (it had moved on from Created), cancel_failed.
  void DuplicateIntent(absl::string_view action);

  // result: miss, replay, wait, in_progress (gave up waiting), mismatch,
  // reconciled, account_mismatch, rebound (a replay verified for a rotated
  // key).
  void IdempotencyResult(absl::string_view result);
  // One lifecycle operation call (kind: capture, refund, reversal, cancel);
  // result: sent, replay, refused (precondition, nothing sent), mismatch
  // (key reused), in_progress, unknown.
  void LifecycleOperation(absl::string_view kind, absl::string_view result);

  // One idempotency store operation and whether it succeeded.
  void StoreOperation(absl::string_view operation, double seconds, bool ok);
  // 1 while the store answers, 0 while it does not.
  prometheus::Gauge& store_up() { return *store_up_; }

  // result: ok, missing, malformed, mismatch, invalid_event, too_large,
  // no_secrets.
  void WebhookVerification(absl::string_view result);

  // One call of the payments service checked against the caller policy.
  // `caller` is an identity the policy names, or "other" (bounded
  // cardinality); result: allowed, denied (PERMISSION_DENIED), rate_limited
  // (RESOURCE_EXHAUSTED).
  enum class CallerResult { kAllowed, kDenied, kRateLimited };
  void CallerCall(absl::string_view caller, absl::string_view method,
                  CallerResult result);
  // A policy (re)load; result: loaded, rejected (the old policy is kept).
  void PolicyReload(absl::string_view result);

 private:
  // The (service, method) labels RpcStarted/RpcHandled may use.
  prometheus::Labels RpcLabels(absl::string_view type,
                               absl::string_view service,
                               absl::string_view method) const;

  // Builds the series of `labels` (type, service, method).
  // `all_codes`: create every code's handled series now (at 0).
  std::unique_ptr<RpcSeries> MakeRpcSeries(const prometheus::Labels& labels,
                                           bool all_codes);

  mutable std::shared_mutex rpc_methods_mutex_;
  // service -> its methods.
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>>
      rpc_methods_;
  // "/service/method" of initialised methods -> series by type index (see
  // kRpcTypes in metrics.cc; the last slot is an unknown type), created on
  // first use. Guarded by rpc_methods_mutex_.
  using SeriesByType = std::array<std::unique_ptr<RpcSeries>, 5>;
  std::map<std::string, SeriesByType, std::less<>> rpc_series_;
  SeriesByType unknown_rpc_series_;  // Guarded by rpc_methods_mutex_.

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& rpc_started_;
  prometheus::Family<prometheus::Counter>& rpc_handled_;
  prometheus::Family<prometheus::Histogram>& rpc_seconds_;
  prometheus::Family<prometheus::Histogram>& upstream_seconds_;
  prometheus::Gauge* upstream_active_;
  prometheus::Family<prometheus::Counter>& upstream_retries_;
  prometheus::Family<prometheus::Counter>& retry_budget_exhausted_;
  prometheus::Family<prometheus::Counter>& unknown_outcomes_;
  prometheus::Family<prometheus::Counter>& reconciliations_;
  prometheus::Family<prometheus::Gauge>& unknown_operations_;
  prometheus::Family<prometheus::Gauge>& unknown_oldest_timestamp_;
  prometheus::Family<prometheus::Counter>& duplicate_intents_;
  prometheus::Family<prometheus::Counter>& idempotency_results_;
  prometheus::Family<prometheus::Counter>& lifecycle_operations_;
  prometheus::Family<prometheus::Histogram>& store_seconds_;
  prometheus::Gauge* store_up_;
  prometheus::Family<prometheus::Counter>& webhook_verifications_;
  prometheus::Family<prometheus::Counter>& caller_calls_;
  prometheus::Family<prometheus::Counter>& policy_reloads_;
};

// The canonical names of the 17 gRPC status codes, indexed by code.
absl::string_view GrpcCodeName(int code);

}  // namespace payments::metrics

#endif  // LIB_METRICS_METRICS_H_
