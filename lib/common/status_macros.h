#ifndef LIB_COMMON_STATUS_MACROS_H_
#define LIB_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
// This Abseil release predates ABSL_RETURN_IF_ERROR.
#define PAYMENTS_RETURN_IF_ERROR(expr)                                    \
  do {                                                                    \
    if (absl::Status payments_status_ = (expr); !payments_status_.ok()) { \
      return payments_status_;                                            \
    }                                                                     \
  } while (false)

#endif  // LIB_COMMON_STATUS_MACROS_H_
