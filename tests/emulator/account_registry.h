// API keys and the accounts they belong to.
#ifndef TESTS_EMULATOR_ACCOUNT_REGISTRY_H_
#define TESTS_EMULATOR_ACCOUNT_REGISTRY_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace dojo_emulator {

// The result of checking an `Authorization` header.
struct AuthResult {
  enum class Outcome { kOk, kMissing, kMalformed, kUnknown, kForbidden };
  Outcome outcome = Outcome::kMissing;
  // The account name for kOk and kForbidden; never the key.
  std::string account;
};

// "ok", "missing", "malformed", "unknown", "forbidden".
std::string_view OutcomeName(AuthResult::Outcome outcome);

// Immutable after loading, so safe to share between threads.
class AccountRegistry final {
 public:
  // Parses `name=key` lines; blank lines and '#' comments are ignored. A name
  // may have several keys (all authenticate as that account); a key listed
  // under two names is an error.
  // Returns an error message, or nullopt on success.
  static std::optional<std::string> ParseKeyFile(
      const std::string& path, std::map<std::string, std::string>* key_to_name);

  // With no allowed keys configured, any key starting with "sk_sandbox_" is
  // accepted and named after its last four characters.
  AccountRegistry(std::map<std::string, std::string> allowed,
                  std::map<std::string, std::string> forbidden);

  // `header` is the raw Authorization value ("Basic <key>", key verbatim);
  // nullopt when the header is absent.
  AuthResult Authenticate(std::optional<std::string_view> header) const;

 private:
  std::map<std::string, std::string> allowed_;    // key -> account name
  std::map<std::string, std::string> forbidden_;  // key -> account name
};

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_ACCOUNT_REGISTRY_H_
