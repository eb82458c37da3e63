#ifndef LIB_COMMON_TIMER_H_
#define LIB_COMMON_TIMER_H_

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace payments {

// Runs delayed work without parking a thread per wait. Thread-safe.
class Timer {
 public:
  virtual ~Timer() = default;

  // Runs `fn` once `delay` has passed, on the implementation's thread; `fn`
  // must not block. Work pending at shutdown is destroyed without running.
  virtual void RunAfter(absl::Duration delay,
                        absl::AnyInvocable<void() &&> fn) = 0;
};

}  // namespace payments

#endif  // LIB_COMMON_TIMER_H_
