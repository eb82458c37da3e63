#ifndef SERVER_CREDENTIALS_RELOADER_H_
#define SERVER_CREDENTIALS_RELOADER_H_

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "lib/common/reloadable.h"
#include "lib/config/server_config.h"
#include "lib/payments/account_keys.h"
#include "lib/webhook/signature_verifier.h"

namespace payments::server {

AccountKeys AccountKeysFrom(const config::Credentials& credentials);
webhook::SignatureVerifier VerifierFrom(const config::Credentials& credentials);

// Re-reads the Dojo keys and webhook secrets (their mounted files) every
// `interval` and swaps in a changed set, so that rotations take effect
// without a restart: a removed webhook secret stops verifying, a new key is
// used by the next call. An unreadable or invalid set is logged (without
// values) and the current one kept. Runs on a thread of its own from
// construction to destruction.
class CredentialsReloader final {
 public:
  // `lookup` must stay callable, and the holders alive, until destruction.
  CredentialsReloader(config::SettingLookup lookup, config::Credentials current,
                      Reloadable<AccountKeys>& accounts,
                      Reloadable<webhook::SignatureVerifier>& verifier,
                      absl::Duration interval);
  ~CredentialsReloader();

  CredentialsReloader(const CredentialsReloader&) = delete;
  CredentialsReloader& operator=(const CredentialsReloader&) = delete;

 private:
  void Check();

  const config::SettingLookup lookup_;
  config::Credentials current_;
  std::string last_error_;
  Reloadable<AccountKeys>& accounts_;
  Reloadable<webhook::SignatureVerifier>& verifier_;
  const absl::Duration interval_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace payments::server

#endif  // SERVER_CREDENTIALS_RELOADER_H_
