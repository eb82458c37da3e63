#ifndef LIB_COMMON_SHA256_H_
#define LIB_COMMON_SHA256_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace payments {

using Sha256Digest = std::array<uint8_t, 32>;

// SHA-256 of `data` through OpenSSL, with the algorithm looked up once for
// the process (OpenSSL 3's one-shot SHA256() looks it up on every call).
// Thread-safe. Aborts if OpenSSL cannot hash at all (no memory, no default
// provider): a fingerprint or key id must never quietly be a constant.
Sha256Digest Sha256(absl::string_view data);

// The first `bytes` bytes of Sha256(data) as lowercase hex.
std::string Sha256Hex(absl::string_view data, size_t bytes = 32);

}  // namespace payments

#endif  // LIB_COMMON_SHA256_H_
