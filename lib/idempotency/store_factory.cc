// OpenStore (declared in idempotency_store.h): picks the backend by the
// scheme of PAYMENTS_STORE and wraps it in ValidatingStore, which checks
// every call's arguments (the backends do not). ValidateStoreUrl
// (store_url.h) is the one definition of an acceptable value, used by the
// configuration at start-up and here.

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "lib/idempotency/idempotency_store.h"
#include "lib/idempotency/postgres_connection.h"
#include "lib/idempotency/postgres_store.h"
#include "lib/idempotency/sqlite_store.h"
#include "lib/idempotency/store_url.h"
#include "lib/idempotency/validating_store.h"

namespace payments::idempotency {
namespace {

constexpr absl::string_view kSqlite = "sqlite:";

bool IsPostgresUrl(absl::string_view url) {
  return absl::StartsWith(url, "postgresql://") ||
         absl::StartsWith(url, "postgres://");
}

}  // namespace

absl::Status ValidateStoreUrl(absl::string_view url) {
  if (absl::StartsWith(url, kSqlite) && url.size() > kSqlite.size()) {
    return absl::OkStatus();
  }
  if (IsPostgresUrl(url)) {
    return ValidatePostgresConninfo(std::string(url), "PAYMENTS_STORE");
  }
  // The value is not echoed: a mistyped URL may still hold a password.
  return absl::InvalidArgumentError(
      "PAYMENTS_STORE: expected sqlite:<path> or postgresql://...");
}

absl::StatusOr<std::unique_ptr<IdempotencyStore>> OpenStore(
    const std::string& url) {
  if (absl::Status valid = ValidateStoreUrl(url); !valid.ok()) return valid;
  if (absl::StartsWith(url, kSqlite)) {
    absl::StatusOr<std::unique_ptr<SQLiteStore>> store =
        SQLiteStore::Open(url.substr(kSqlite.size()));
    if (!store.ok()) return store.status();
    return std::make_unique<ValidatingStore>(*std::move(store));
  }
  absl::StatusOr<std::unique_ptr<PostgresStore>> store =
      PostgresStore::Open(url);
  if (!store.ok()) return store.status();
  return std::make_unique<ValidatingStore>(*std::move(store));
}

}  // namespace payments::idempotency
