#ifndef LIB_WEBHOOK_HMAC_SHA256_H_
#define LIB_WEBHOOK_HMAC_SHA256_H_

#include <openssl/types.h>

#include <memory>
#include <optional>

#include "absl/strings/string_view.h"
#include "lib/common/sha256.h"

namespace payments::webhook {

// HMAC-SHA256 with one key, set up once: each Sign starts from a copy of the
// keyed state. (OpenSSL's one-shot HMAC() looks the algorithm up and sets the
// key up again on every call.) Sign may be called from any number of threads
// at once.
class HmacSha256 final {
 public:
  explicit HmacSha256(absl::string_view key);

  // nullopt if OpenSSL failed (out of memory), at set-up or now: callers
  // fail closed (such a digest must never match anything).
  std::optional<Sha256Digest> Sign(absl::string_view data) const;

 private:
  struct Free {
    void operator()(EVP_MAC_CTX* context) const;
  };
  std::unique_ptr<EVP_MAC_CTX, Free> keyed_;
};

}  // namespace payments::webhook

#endif  // LIB_WEBHOOK_HMAC_SHA256_H_
