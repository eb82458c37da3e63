// OpenStore (declared in idempotency_store.h): picks the backend by the
// scheme of PAYMENTS_STORE and wraps it in ValidatingStore, which checks
// every call's arguments (the backends do not).

#include <memory>
#include <string>
#include <utility>

#include "lib/idempotency/idempotency_store.h"
#include "lib/idempotency/postgres_store.h"
#include "lib/idempotency/sqlite_store.h"
#include "lib/idempotency/validating_store.h"

namespace payments::idempotency {
namespace {

bool StartsWith(const std::string& text, const char* prefix) {
  return text.rfind(prefix, 0) == 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<IdempotencyStore>> OpenStore(
    const std::string& url) {
  if (StartsWith(url, "sqlite:")) {
    absl::StatusOr<std::unique_ptr<SQLiteStore>> store =
        SQLiteStore::Open(url.substr(sizeof("sqlite:") - 1));
    if (!store.ok()) return store.status();
    return std::make_unique<ValidatingStore>(*std::move(store));
  }
  if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://")) {
    absl::StatusOr<std::unique_ptr<PostgresStore>> store =
        PostgresStore::Open(url);
    if (!store.ok()) return store.status();
    return std::make_unique<ValidatingStore>(*std::move(store));
  }
  // The value is not echoed: a mistyped URL may still hold a password.
  return absl::InvalidArgumentError(
      "idempotency store must be sqlite:<path> or postgresql://...");
}

}  // namespace payments::idempotency
