#include "lib/webhook/hmac_sha256.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

namespace payments::webhook {
namespace {

// Looked up once for the process (the lookup takes a lock in OpenSSL's
// provider store).
EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* const algorithm = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return algorithm;
}

}  // namespace

void HmacSha256::Free::operator()(EVP_MAC_CTX* context) const {
  EVP_MAC_CTX_free(context);
}

HmacSha256::HmacSha256(absl::string_view key) {
  EVP_MAC* algorithm = HmacAlgorithm();
  if (algorithm == nullptr) return;
  keyed_.reset(EVP_MAC_CTX_new(algorithm));
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  // An empty key is a valid HMAC key; OpenSSL wants a non-null pointer.
  static const unsigned char kNoKey = 0;
  const auto* key_bytes =
      key.empty() ? &kNoKey
                  : reinterpret_cast<const unsigned char*>(key.data());
  if (keyed_ != nullptr &&
      EVP_MAC_init(keyed_.get(), key_bytes, key.size(), params) != 1) {
    keyed_.reset();
  }
}

std::optional<Sha256Digest> HmacSha256::Sign(absl::string_view data) const {
  if (keyed_ == nullptr) return std::nullopt;
  std::unique_ptr<EVP_MAC_CTX, Free> context(EVP_MAC_CTX_dup(keyed_.get()));
  Sha256Digest digest{};
  size_t length = 0;
  if (context == nullptr ||
      EVP_MAC_update(context.get(),
                     reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1 ||
      EVP_MAC_final(context.get(), digest.data(), &length, digest.size()) !=
          1 ||
      length != digest.size()) {
    return std::nullopt;
  }
  return digest;
}

}  // namespace payments::webhook
