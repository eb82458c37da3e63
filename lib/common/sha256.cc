#include "lib/common/sha256.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/escaping.h"

namespace payments {

Sha256Digest Sha256(absl::string_view data) {
  static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  Sha256Digest digest{};
  unsigned int length = 0;
  // Hashing only fails without memory or without OpenSSL's default
  // provider; a fingerprint or key id must never quietly be a constant.
  if (algorithm == nullptr ||
      EVP_Digest(data.data(), data.size(), digest.data(), &length, algorithm,
                 nullptr) != 1 ||
      length != digest.size()) {
    std::abort();
  }
  return digest;
}

std::string Sha256Hex(absl::string_view data, size_t bytes) {
  const Sha256Digest digest = Sha256(data);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest.data()),
                        std::min(bytes, digest.size())));
}

}  // namespace payments
