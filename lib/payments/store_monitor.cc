#include "lib/payments/store_monitor.h"

#include <optional>
#include <utility>

#include "absl/time/clock.h"

namespace payments {

StoreMonitor::StoreMonitor(idempotency::IdempotencyStore& store,
                           std::function<void(bool up)> on_change,
                           StoreMonitorOptions options,
                           metrics::Metrics* metrics)
    : store_(store),
      on_change_(std::move(on_change)),
      options_(options),
      metrics_(metrics) {
  // The first check runs before the constructor returns, so that the
  // server reports readiness from its first moment.
  Check();
  thread_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(options_.check_interval)) {
      Check();
    }
  });
}

StoreMonitor::~StoreMonitor() {
  stop_.Notify();
  thread_.join();
}

void StoreMonitor::Check() {
  // The schema first: until it exists the store is not usable.
  if (!migrated_) migrated_ = store_.Migrate().ok();
  const bool up = migrated_ && store_.Ping().ok();
  if (metrics_ != nullptr) metrics_->store_up().Set(up ? 1 : 0);
  if (last_up_ != up) {
    on_change_(up);
    last_up_ = up;
  }
  if (up && absl::Now() >= next_reap_) {
    (void)store_.ReapExpired(absl::Now());
    next_reap_ = absl::Now() + options_.reap_interval;
  }
}

}  // namespace payments
