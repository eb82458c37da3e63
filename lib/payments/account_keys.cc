#include "lib/payments/account_keys.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/common/sha256.h"
#include "lib/common/status_details.h"

namespace payments {

AccountKeys::AccountKeys(std::map<std::string, std::string, std::less<>> keys,
                         std::string default_account)
    : keys_(std::move(keys)), default_account_(std::move(default_account)) {}

absl::StatusOr<absl::string_view> AccountKeys::KeyFor(
    absl::string_view account) const {
  const absl::string_view name = account.empty() ? default_account_ : account;
  if (auto it = keys_.find(name); it != keys_.end()) return it->second;
  absl::Status status = InvalidArgumentError(
      "invalid request: account is not configured on this server",
      {{"account", "names no configured Dojo account"}});
  SetErrorInfo(status, reason::kUnknownAccount);
  return status;
}

std::string AccountKeys::KeyId(absl::string_view key) {
  const absl::string_view environment =
      absl::StartsWith(key, "sk_sandbox_") ? "sandbox"
      : absl::StartsWith(key, "sk_prod_")  ? "prod"
                                           : "other";
  // A fixed prefix keeps the digest from being a plain hash of the key.
  return absl::StrCat(
      environment, ":",
      Sha256Hex(absl::StrCat("payments-key-id\n", key), /*bytes=*/8));
}

absl::string_view AccountKeys::EnvironmentOf(absl::string_view key_id) {
  return key_id.substr(0, key_id.find(':'));
}

}  // namespace payments
