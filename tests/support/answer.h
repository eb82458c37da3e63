#ifndef TESTS_SUPPORT_ANSWER_H_
#define TESTS_SUPPORT_ANSWER_H_

#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace payments::testing {

// A value handed once from the thread that produces it (a callback) to the
// test's thread. Guarded by an absl::Mutex, whose every hand-off
// ThreadSanitizer sees (tests/sanitizers/tsan_absl_mutex.cc); an
// absl::Notification it would not see once already notified. Thread-safe.
template <typename T>
class Answer {
 public:
  void Set(T value) {
    absl::MutexLock lock(&mu_);
    value_ = std::move(value);
  }

  bool Ready() const {
    absl::MutexLock lock(&mu_);
    return value_.has_value();
  }

  // The value, once set; nullopt if it was not within `timeout`.
  std::optional<T> Wait(absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(this, &Answer::HasValue), timeout);
    return value_;
  }

 private:
  bool HasValue() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return value_.has_value();
  }

  mutable absl::Mutex mu_;
  std::optional<T> value_ ABSL_GUARDED_BY(mu_);
};

}  // namespace payments::testing

#endif  // TESTS_SUPPORT_ANSWER_H_
