#include "lib/webhook/signature_verifier.h"

#include <openssl/crypto.h>

#include <array>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "lib/common/status_details.h"
#include "lib/webhook/hmac_sha256.h"

namespace payments::webhook {
namespace {

constexpr absl::string_view kPrefix = "sha256=";
constexpr absl::string_view kHeaderName = "dojo-signature";
using Digest = Sha256Digest;
constexpr size_t kDigestBytes = std::tuple_size_v<Digest>;
// "XX" per byte, '-' between bytes.
constexpr size_t kHexLength = kDigestBytes * 3 - 1;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes "XX-XX-...-XX" (exactly 32 pairs, either case).
bool DecodeHexPairs(absl::string_view text, Digest& digest) {
  if (text.size() != kHexLength) return false;
  for (size_t i = 0; i < kDigestBytes; ++i) {
    const size_t at = i * 3;
    if (i > 0 && text[at - 1] != '-') return false;
    const int high = HexValue(text[at]);
    const int low = HexValue(text[at + 1]);
    if (high < 0 || low < 0) return false;
    digest[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return true;
}

}  // namespace

SignatureVerifier::SignatureVerifier(std::vector<WebhookSecret> secrets) {
  for (WebhookSecret& secret : secrets) {
    if (secret.secret.empty()) continue;
    keys_.push_back(
        {std::move(secret.id), std::make_shared<HmacSha256>(secret.secret)});
  }
}

absl::StatusOr<std::string> SignatureVerifier::Verify(
    absl::string_view raw_body, absl::string_view signature_header) const {
  if (keys_.empty()) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                           "no webhook secrets are configured",
                           reason::kNoWebhookSecrets);
  }
  const absl::string_view header = absl::StripAsciiWhitespace(signature_header);
  if (header.empty()) {
    return ErrorWithReason(absl::StatusCode::kUnauthenticated,
                           "webhook signature is missing",
                           reason::kSignatureMissing);
  }
  Digest presented{};
  if (!absl::StartsWithIgnoreCase(header, kPrefix) ||
      !DecodeHexPairs(header.substr(kPrefix.size()), presented)) {
    return ErrorWithReason(
        absl::StatusCode::kUnauthenticated,
        "webhook signature is malformed: expected sha256= and 32 hex byte "
        "pairs joined by '-'",
        reason::kSignatureMalformed);
  }
  // Compare against every secret, without stopping at a match, so the time
  // taken does not reveal which secret (or how much of one) matched.
  // A digest OpenSSL failed to compute matches nothing.
  const Key* matched = nullptr;
  for (const Key& key : keys_) {
    const std::optional<Digest> expected = key.hmac->Sign(raw_body);
    const bool equal =
        expected.has_value() &&
        CRYPTO_memcmp(expected->data(), presented.data(), kDigestBytes) == 0;
    if (equal && matched == nullptr) matched = &key;
  }
  if (matched == nullptr) {
    return ErrorWithReason(absl::StatusCode::kUnauthenticated,
                           "webhook signature does not match any configured "
                           "secret",
                           reason::kSignatureMismatch);
  }
  return matched->id;
}

std::string ComputeSignature(absl::string_view secret, absl::string_view body) {
  static constexpr char kHexDigits[] = "0123456789ABCDEF";
  const std::optional<Digest> digest = HmacSha256(secret).Sign(body);
  if (!digest.has_value()) return std::string();
  std::string result(kPrefix);
  result.reserve(kPrefix.size() + kHexLength);
  for (size_t i = 0; i < kDigestBytes; ++i) {
    if (i > 0) result.push_back('-');
    result.push_back(kHexDigits[(*digest)[i] >> 4]);
    result.push_back(kHexDigits[(*digest)[i] & 0xF]);
  }
  return result;
}

std::string SignatureFromHeaders(
    absl::string_view explicit_signature,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  if (!explicit_signature.empty()) return std::string(explicit_signature);
  for (const auto& [name, value] : headers) {
    if (absl::EqualsIgnoreCase(name, kHeaderName)) return value;
  }
  return std::string();
}

}  // namespace payments::webhook
