#ifndef LIB_COMMON_TIMER_H_
#define LIB_COMMON_TIMER_H_

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace payments {

// Delayed work. Receives OK once the delay has passed, or CANCELLED when the
// timer shuts down first: either way it runs exactly once, so a completion
// that waits on a timer is never lost.
using TimerCallback = absl::AnyInvocable<void(absl::Status) &&>;

// Runs delayed work without parking a thread per wait. Thread-safe.
class Timer {
 public:
  virtual ~Timer() = default;

  // Runs `fn` once `delay` has passed, on the implementation's thread, with
  // OK. A timer pending at shutdown runs with CANCELLED, and one added after
  // shutdown runs with CANCELLED at once, on the calling thread (so the
  // caller must not hold a lock `fn` takes). `fn` must not block.
  virtual void RunAfter(absl::Duration delay, TimerCallback fn) = 0;
};

}  // namespace payments

#endif  // LIB_COMMON_TIMER_H_
