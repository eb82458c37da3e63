#ifndef LIB_COMMON_TIMESTAMP_RANGE_H_
#define LIB_COMMON_TIMESTAMP_RANGE_H_

// The times a google.protobuf.Timestamp can hold: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z. Times outside it, from a caller or from
// Dojo, are refused (never clamped), so that every Timestamp we send or
// read is one every protobuf runtime accepts and converting it to
// nanoseconds cannot overflow. Header-only.

#include <cstdint>

#include "absl/time/time.h"

namespace payments {

inline constexpr int64_t kMinTimestampSeconds = -62135596800;  // 0001-01-01
inline constexpr int64_t kMaxTimestampSeconds = 253402300799;  // 9999-12-31

// True for seconds/nanos that form a valid Timestamp.
inline bool IsValidTimestamp(int64_t seconds, int32_t nanos) {
  return seconds >= kMinTimestampSeconds && seconds <= kMaxTimestampSeconds &&
         nanos >= 0 && nanos <= 999999999;
}

// True for a time a Timestamp can hold.
inline bool InTimestampRange(absl::Time time) {
  return time >= absl::FromUnixSeconds(kMinTimestampSeconds) &&
         time < absl::FromUnixSeconds(kMaxTimestampSeconds + 1);
}

}  // namespace payments

#endif  // LIB_COMMON_TIMESTAMP_RANGE_H_
