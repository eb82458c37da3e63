#ifndef LIB_COMMON_RELOADABLE_H_
#define LIB_COMMON_RELOADABLE_H_

#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace payments {

// A value replaced as a whole while readers keep using the snapshot they
// took (e.g. credentials re-read after a rotation). Thread-safe.
template <typename T>
class Reloadable final {
 public:
  explicit Reloadable(T initial)
      : current_(std::make_shared<const T>(std::move(initial))) {}

  // The current value; stays valid for as long as the caller holds it.
  std::shared_ptr<const T> Get() const {
    absl::MutexLock lock(&mutex_);
    return current_;
  }

  void Replace(T next) {
    auto replacement = std::make_shared<const T>(std::move(next));
    absl::MutexLock lock(&mutex_);
    current_ = std::move(replacement);
  }

 private:
  mutable absl::Mutex mutex_;
  std::shared_ptr<const T> current_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace payments

#endif  // LIB_COMMON_RELOADABLE_H_
