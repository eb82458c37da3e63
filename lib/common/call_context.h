#ifndef LIB_COMMON_CALL_CONTEXT_H_
#define LIB_COMMON_CALL_CONTEXT_H_

#include <atomic>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace payments {

// Set once when the caller goes away (gRPC cancellation or disconnect).
// Thread-safe.
class CancellationFlag final {
 public:
  void Cancel() { cancelled_.store(true, std::memory_order_release); }
  bool IsCancelled() const {
    return cancelled_.load(std::memory_order_acquire);
  }

 private:
  std::atomic<bool> cancelled_{false};
};

// What bounds one incoming call: every outbound step derives its timeout
// from `deadline` and stops retrying once `cancelled` is set. Cheap to copy.
struct CallContext {
  absl::Time deadline = absl::InfiniteFuture();
  std::shared_ptr<const CancellationFlag> cancelled;  // May be null.

  bool IsCancelled() const { return cancelled && cancelled->IsCancelled(); }
  absl::Duration Remaining() const { return deadline - absl::Now(); }

  // Why a call that cannot go on stopped, as of `now`: DEADLINE_EXCEEDED
  // once the deadline is near or past (gRPC reports a passed deadline as a
  // cancellation too), else CANCELLED.
  absl::Status StoppedStatus(absl::Time now) const {
    if (IsCancelled() && now < deadline) {
      return absl::CancelledError("the caller cancelled the call");
    }
    return absl::DeadlineExceededError("the call's deadline passed");
  }
};

}  // namespace payments

#endif  // LIB_COMMON_CALL_CONTEXT_H_
