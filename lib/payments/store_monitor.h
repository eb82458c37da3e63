#ifndef LIB_PAYMENTS_STORE_MONITOR_H_
#define LIB_PAYMENTS_STORE_MONITOR_H_

#include <functional>
#include <optional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "lib/idempotency/idempotency_store.h"
#include "lib/metrics/metrics.h"

namespace payments {

struct StoreMonitorOptions {
  absl::Duration check_interval = absl::Seconds(2);
  absl::Duration reap_interval = absl::Hours(1);
};

// Keeps readiness in step with the idempotency store: migrates the schema
// (retrying until the store answers), pings it every `check_interval`,
// reports each change of reachability through `on_change(up)` and reaps
// expired records every `reap_interval`. The first check runs in the
// constructor (blocking, bounded by the store's timeouts); later ones on a
// thread of its own so that a hanging store cannot delay calls. Stops in the
// destructor.
class StoreMonitor final {
 public:
  // `store` and `metrics` must outlive the monitor; `metrics` may be null.
  StoreMonitor(idempotency::IdempotencyStore& store,
               std::function<void(bool up)> on_change,
               StoreMonitorOptions options, metrics::Metrics* metrics);
  ~StoreMonitor();

  StoreMonitor(const StoreMonitor&) = delete;
  StoreMonitor& operator=(const StoreMonitor&) = delete;

 private:
  // One round: migrate if needed, ping, report a change, maybe reap. Runs
  // in the constructor, then only on the monitor's thread.
  void Check();

  idempotency::IdempotencyStore& store_;
  const std::function<void(bool)> on_change_;
  const StoreMonitorOptions options_;
  metrics::Metrics* const metrics_;
  bool migrated_ = false;
  std::optional<bool> last_up_;
  absl::Time next_reap_ = absl::InfinitePast();
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace payments

#endif  // LIB_PAYMENTS_STORE_MONITOR_H_
