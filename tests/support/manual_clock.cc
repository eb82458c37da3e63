#include "tests/support/manual_clock.h"

namespace payments::testing {

ManualClock::ManualClock(absl::Time start) : now_(start) {}

absl::Time ManualClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void ManualClock::RunAfter(absl::Duration delay, TimerCallback fn) {
  {
    absl::MutexLock lock(&mu_);
    if (!shut_down_) {
      timers_.emplace(std::make_pair(now_ + delay, next_++), std::move(fn));
      return;
    }
  }
  std::move(fn)(absl::CancelledError("timer shut down"));
}

void ManualClock::Shutdown() {
  for (;;) {
    TimerCallback fn;
    {
      absl::MutexLock lock(&mu_);
      shut_down_ = true;
      if (timers_.empty()) return;
      fn = std::move(timers_.begin()->second);
      timers_.erase(timers_.begin());
    }
    std::move(fn)(absl::CancelledError("timer shut down"));
  }
}

void ManualClock::Advance(absl::Duration by) {
  absl::Time target;
  {
    absl::MutexLock lock(&mu_);
    target = now_ + by;
  }
  while (true) {
    TimerCallback fn;
    {
      absl::MutexLock lock(&mu_);
      if (timers_.empty() || timers_.begin()->first.first > target) {
        now_ = target;
        return;
      }
      auto first = timers_.begin();
      now_ = std::max(now_, first->first.first);
      fn = std::move(first->second);
      timers_.erase(first);
    }
    std::move(fn)(absl::OkStatus());
  }
}

int ManualClock::pending() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(timers_.size());
}

}  // namespace payments::testing
