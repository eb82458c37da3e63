#ifndef CLIENT_CTL_INPUT_READER_H_
#define CLIENT_CTL_INPUT_READER_H_

// Reads a whole input byte for byte, as a webhook receiver holds a body:
// no newline added or removed, no decoding.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace payments::ctl {

// `path` "-" reads standard input. A usage error (exit 64) when the file
// cannot be read.
absl::StatusOr<std::string> ReadInput(absl::string_view path);

}  // namespace payments::ctl

#endif  // CLIENT_CTL_INPUT_READER_H_
