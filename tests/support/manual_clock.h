#ifndef TESTS_SUPPORT_MANUAL_CLOCK_H_
#define TESTS_SUPPORT_MANUAL_CLOCK_H_

#include <cstdint>
#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/common/clock.h"
#include "lib/common/timer.h"

namespace payments::testing {

// A clock that moves only when told to, and a timer on that clock: work
// queued with RunAfter runs (with OK) in Advance(), in due order, on the
// advancing thread; Shutdown() runs what is left with CANCELLED. Lets unit
// tests drive leases, deadlines, settle periods and polling without sleeping.
// Thread-safe.
class ManualClock final : public Clock, public Timer {
 public:
  explicit ManualClock(absl::Time start = absl::FromUnixSeconds(1800000000));

  absl::Time Now() const override;
  void RunAfter(absl::Duration delay, TimerCallback fn) override;

  // Moves time forward by `by`, running every timer that falls due (each at
  // its own time, so work it queues within the step runs too).
  void Advance(absl::Duration by);
  // Runs every pending timer with CANCELLED, in due order; timers added
  // afterwards run with CANCELLED at once.
  void Shutdown();
  // Timers not yet run.
  int pending() const;

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  // Due time and insertion order -> work.
  std::map<std::pair<absl::Time, int64_t>, TimerCallback> timers_
      ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  int64_t next_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace payments::testing

#endif  // TESTS_SUPPORT_MANUAL_CLOCK_H_
