#include "lib/payments/fingerprint.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "lib/dojo/dojo_json.h"

namespace payments {

std::string CreateFingerprint(const v1::CreateIntentRequest& request) {
  v1::CreateIntentRequest stable = request;
  stable.clear_account();
  stable.clear_include_client_session_secret();
  stable.clear_expire_at();
  stable.clear_request_security();
  if (stable.has_customer()) stable.mutable_customer()->clear_secret();
  // Dojo JSON is canonical: object keys sorted, empty fields omitted.
  const std::string canonical = dojo::ToDojoJson(stable);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()),
         canonical.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

}  // namespace payments
