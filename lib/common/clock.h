#ifndef LIB_COMMON_CLOCK_H_
#define LIB_COMMON_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace payments {

// The time every decision about leases, deadlines, settle periods and
// reconciliation windows is taken from, so that unit tests can drive those
// decisions with a manual clock. Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The wall clock (absl::Now()).
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace payments

#endif  // LIB_COMMON_CLOCK_H_
