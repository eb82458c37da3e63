#ifndef LIB_WEBHOOK_SIGNATURE_VERIFIER_H_
#define LIB_WEBHOOK_SIGNATURE_VERIFIER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/webhook/hmac_sha256.h"
#include "lib/webhook/webhook_secret.h"

namespace payments::webhook {

// Verifies Dojo's `dojo-signature` header: "sha256=" followed by the
// HMAC-SHA256 of the raw body, keyed with the secret's UTF-8 bytes, as 32 hex
// byte pairs joined by '-' (e.g. "sha256=4B-49-...-FD").
//
// Several secrets may be active during a rotation; a signature is accepted
// if it matches any of them. Immutable after construction, so thread-safe.
class SignatureVerifier final {
 public:
  // Secrets with an empty value are ignored (they would accept anything
  // signed with an empty key).
  explicit SignatureVerifier(std::vector<WebhookSecret> secrets);

  // Returns the id of the matching secret. Every configured secret is
  // compared in constant time, whichever matches. Errors (messages never
  // contain secrets or expected signatures):
  // - no secrets configured: FAILED_PRECONDITION, reason NO_WEBHOOK_SECRETS;
  // - empty (or all-blank) header: UNAUTHENTICATED, SIGNATURE_MISSING;
  // - not "sha256=" (any case) + 32 hex pairs (any case) joined by '-',
  //   surrounding whitespace aside: UNAUTHENTICATED, SIGNATURE_MALFORMED;
  // - no secret matches: UNAUTHENTICATED, SIGNATURE_MISMATCH.
  absl::StatusOr<std::string> Verify(absl::string_view raw_body,
                                     absl::string_view signature_header) const;

  size_t secret_count() const { return keys_.size(); }

 private:
  // A secret's id and its key, set up once (the secret itself is not kept).
  struct Key {
    std::string id;
    std::shared_ptr<const HmacSha256> hmac;
  };
  std::vector<Key> keys_;
};

// The header value Dojo sends for `body` signed with `secret`, in Dojo's
// canonical form: "sha256=" + uppercase hex pairs joined by '-' (empty if
// OpenSSL failed).
std::string ComputeSignature(absl::string_view secret, absl::string_view body);

// The signature to verify: `explicit_signature` if non-empty, otherwise the
// value of the first header named "dojo-signature" (any case) in `headers`,
// otherwise empty.
std::string SignatureFromHeaders(
    absl::string_view explicit_signature,
    const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace payments::webhook

#endif  // LIB_WEBHOOK_SIGNATURE_VERIFIER_H_
