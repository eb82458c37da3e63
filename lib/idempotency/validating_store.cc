#include "lib/idempotency/validating_store.h"

#include <utility>

#include "lib/idempotency/store_encoding.h"

namespace payments::idempotency {
namespace {

// INVALID_ARGUMENT unless the key and owner of a record change are valid.
absl::Status ValidateKeyAndOwner(const Key& key, const std::string& owner) {
  if (absl::Status s = internal::ValidateKey(key); !s.ok()) return s;
  return internal::ValidateOwner(owner);
}

}  // namespace

ValidatingStore::ValidatingStore(std::unique_ptr<IdempotencyStore> backend)
    : backend_(std::move(backend)) {}

absl::Status ValidatingStore::Migrate() { return backend_->Migrate(); }

absl::StatusOr<ReserveResult> ValidatingStore::Reserve(
    const Key& key, const std::string& fingerprint, const std::string& owner,
    absl::Time now, absl::Duration lease, absl::Duration retention) {
  if (absl::Status s =
          internal::ValidateReserve(key, fingerprint, owner, lease, retention);
      !s.ok()) {
    return s;
  }
  return backend_->Reserve(key, fingerprint, owner, now, lease, retention);
}

absl::StatusOr<std::optional<Record>> ValidatingStore::Get(const Key& key,
                                                           absl::Time now) {
  if (absl::Status s = internal::ValidateKey(key); !s.ok()) return s;
  absl::StatusOr<std::optional<Record>> record = backend_->Get(key, now);
  if (record.ok() && record->has_value() && (*record)->expires_at <= now) {
    return std::nullopt;
  }
  return record;
}

absl::Status ValidatingStore::TakeOver(const Key& key, int64_t expected_version,
                                       const std::string& owner, absl::Time now,
                                       absl::Duration lease) {
  if (absl::Status s = ValidateKeyAndOwner(key, owner); !s.ok()) return s;
  if (absl::Status s = internal::ValidatePositive(lease, "lease"); !s.ok()) {
    return s;
  }
  return backend_->TakeOver(key, expected_version, owner, now, lease);
}

absl::Status ValidatingStore::Complete(const Key& key, const std::string& owner,
                                       const std::string& result,
                                       absl::Time now) {
  if (absl::Status s = ValidateKeyAndOwner(key, owner); !s.ok()) return s;
  return backend_->Complete(key, owner, result, now);
}

absl::Status ValidatingStore::MarkUnknown(const Key& key,
                                          const std::string& owner,
                                          absl::Time now) {
  if (absl::Status s = ValidateKeyAndOwner(key, owner); !s.ok()) return s;
  return backend_->MarkUnknown(key, owner, now);
}

absl::Status ValidatingStore::Release(const Key& key,
                                      const std::string& owner) {
  if (absl::Status s = ValidateKeyAndOwner(key, owner); !s.ok()) return s;
  return backend_->Release(key, owner);
}

absl::StatusOr<int64_t> ValidatingStore::ReapExpired(absl::Time now) {
  return backend_->ReapExpired(now);
}

absl::StatusOr<std::optional<absl::Time>> ValidatingStore::RememberEvent(
    const std::string& event_id, absl::Time now, absl::Duration retention) {
  if (absl::Status s = internal::ValidateText(event_id, "webhook event id");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = internal::ValidatePositive(retention, "retention");
      !s.ok()) {
    return s;
  }
  return backend_->RememberEvent(event_id, now, retention);
}

absl::Status ValidatingStore::Ping() { return backend_->Ping(); }

}  // namespace payments::idempotency
