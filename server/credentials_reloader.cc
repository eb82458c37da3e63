#include "server/credentials_reloader.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "lib/common/logger.h"

namespace payments::server {
namespace {

// Names only: account names and secret ids, never keys or secrets.
std::string AccountNames(const config::Credentials& credentials) {
  std::vector<std::string> names;
  for (const auto& [name, key] : credentials.dojo_accounts) {
    names.push_back(name);
  }
  return absl::StrJoin(names, ",");
}

std::string SecretIds(const config::Credentials& credentials) {
  std::vector<std::string> ids;
  for (const config::WebhookSecret& secret : credentials.webhook_secrets) {
    ids.push_back(secret.id);
  }
  return absl::StrJoin(ids, ",");
}

}  // namespace

AccountKeys AccountKeysFrom(const config::Credentials& credentials) {
  return AccountKeys(credentials.dojo_accounts,
                     std::string(config::kDefaultAccount));
}

webhook::SignatureVerifier VerifierFrom(
    const config::Credentials& credentials) {
  std::vector<webhook::WebhookSecret> secrets;
  for (const config::WebhookSecret& secret : credentials.webhook_secrets) {
    secrets.push_back({secret.id, secret.secret});
  }
  return webhook::SignatureVerifier(std::move(secrets));
}

CredentialsReloader::CredentialsReloader(
    config::SettingLookup lookup, config::Credentials current,
    Reloadable<AccountKeys>& accounts,
    Reloadable<webhook::SignatureVerifier>& verifier, absl::Duration interval)
    : lookup_(std::move(lookup)),
      current_(std::move(current)),
      accounts_(accounts),
      verifier_(verifier),
      interval_(interval),
      thread_([this] {
        while (!stop_.WaitForNotificationWithTimeout(interval_)) Check();
      }) {}

CredentialsReloader::~CredentialsReloader() {
  stop_.Notify();
  thread_.join();
}

void CredentialsReloader::Check() {
  absl::StatusOr<config::Credentials> next = config::LoadCredentials(lookup_);
  if (!next.ok()) {
    // Config errors name the setting, never a value. Logged once per error.
    const std::string error(next.status().message());
    if (error != last_error_) {
      Log(LogLevel::kError, "credentials_reload_failed", {{"error", error}});
      last_error_ = error;
    }
    return;
  }
  last_error_.clear();
  if (*next == current_) return;
  accounts_.Replace(AccountKeysFrom(*next));
  verifier_.Replace(VerifierFrom(*next));
  current_ = *std::move(next);
  Log(LogLevel::kInfo, "credentials_reloaded",
      {{"accounts", AccountNames(current_)},
       {"webhook_secrets", SecretIds(current_)}});
}

}  // namespace payments::server
