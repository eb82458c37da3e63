#ifndef LIB_PAYMENTS_ACCOUNT_KEYS_H_
#define LIB_PAYMENTS_ACCOUNT_KEYS_H_

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace payments {

// Maps the `account` of a request to its Dojo API key. Immutable, so
// thread-safe. Keys are secrets: errors name the account, never a key.
class AccountKeys final {
 public:
  // `keys` must hold the default account under `default_account`.
  AccountKeys(std::map<std::string, std::string, std::less<>> keys,
              std::string default_account);

  // The key for `account`; empty selects the default. Unknown accounts are
  // INVALID_ARGUMENT with reason UNKNOWN_ACCOUNT and a field violation.
  absl::StatusOr<absl::string_view> KeyFor(absl::string_view account) const;

  const std::string& default_account() const { return default_account_; }

  // Names a key without revealing it, for the journal (Record::key_id):
  // "<environment>:<16 hex digits of a SHA-256 of the key>", environment
  // "sandbox" (sk_sandbox_...), "prod" (sk_prod_...) or "other".
  static std::string KeyId(absl::string_view key);
  // The environment part of a KeyId ("" for an empty id).
  static absl::string_view EnvironmentOf(absl::string_view key_id);

 private:
  const std::map<std::string, std::string, std::less<>> keys_;
  const std::string default_account_;
};

}  // namespace payments

#endif  // LIB_PAYMENTS_ACCOUNT_KEYS_H_
