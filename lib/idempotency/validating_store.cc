#include "lib/idempotency/validating_store.h"

#include <utility>

#include "lib/idempotency/store_encoding.h"

namespace payments::idempotency {
namespace {

using internal::ValidateKey;

// The first error of `checks`, or OK.
absl::Status FirstError(std::initializer_list<absl::Status> checks) {
  for (const absl::Status& s : checks) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// INVALID_ARGUMENT unless the key and owner of an owner's transition are
// valid.
absl::Status ValidateKeyAndOwner(const Key& key, const std::string& owner) {
  return FirstError({ValidateKey(key), internal::ValidateOwner(owner)});
}

}  // namespace

ValidatingStore::ValidatingStore(std::unique_ptr<IdempotencyStore> backend)
    : backend_(std::move(backend)) {}

absl::Status ValidatingStore::Migrate() { return backend_->Migrate(); }

absl::StatusOr<ReserveResult> ValidatingStore::Reserve(
    const Key& key, const std::string& fingerprint, const std::string& params,
    const std::string& key_id, const std::string& owner, absl::Time now,
    absl::Duration lease, absl::Duration retention) {
  if (absl::Status s = internal::ValidateReserve(
          key, fingerprint, params, key_id, owner, lease, retention);
      !s.ok()) {
    return s;
  }
  return backend_->Reserve(key, fingerprint, params, key_id, owner, now, lease,
                           retention);
}

absl::StatusOr<std::optional<Record>> ValidatingStore::Get(const Key& key,
                                                           absl::Time now) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  absl::StatusOr<std::optional<Record>> record = backend_->Get(key, now);
  if (record.ok() && record->has_value() && (*record)->expires_at <= now) {
    return std::nullopt;
  }
  return record;
}

bool ValidatingStore::GetWithoutWaiting(const Key& key, absl::Time now,
                                        std::optional<Record>* record) {
  if (!ValidateKey(key).ok()) return false;  // Get reports it.
  if (!backend_->GetWithoutWaiting(key, now, record)) return false;
  if (record->has_value() && (*record)->expires_at <= now) record->reset();
  return true;
}

absl::Status ValidatingStore::MarkSent(const Key& key, const std::string& owner,
                                       absl::Time now) {
  if (absl::Status s = ValidateKeyAndOwner(key, owner); !s.ok()) return s;
  return backend_->MarkSent(key, owner, now);
}

absl::Status ValidatingStore::Succeed(const Key& key, const std::string& owner,
                                      const std::string& dojo_id,
                                      const std::string& result,
                                      absl::Time now) {
  if (absl::Status s = FirstError(
          {ValidateKeyAndOwner(key, owner), internal::ValidateDojoId(dojo_id)});
      !s.ok()) {
    return s;
  }
  return backend_->Succeed(key, owner, dojo_id, result, now);
}

absl::Status ValidatingStore::MarkUnknown(const Key& key,
                                          const std::string& owner,
                                          absl::Time now) {
  if (absl::Status s = ValidateKeyAndOwner(key, owner); !s.ok()) return s;
  return backend_->MarkUnknown(key, owner, now);
}

absl::Status ValidatingStore::Fail(const Key& key, const std::string& owner,
                                   absl::Time now) {
  if (absl::Status s = ValidateKeyAndOwner(key, owner); !s.ok()) return s;
  return backend_->Fail(key, owner, now);
}

absl::Status ValidatingStore::Resolve(const Key& key, int64_t expected_version,
                                      const std::string& dojo_id,
                                      const std::string& result,
                                      absl::Time now) {
  if (absl::Status s =
          FirstError({ValidateKey(key), internal::ValidateDojoId(dojo_id)});
      !s.ok()) {
    return s;
  }
  return backend_->Resolve(key, expected_version, dojo_id, result, now);
}

absl::Status ValidatingStore::SettleNotCreated(const Key& key,
                                               int64_t expected_version,
                                               absl::Time now) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  return backend_->SettleNotCreated(key, expected_version, now);
}

absl::Status ValidatingStore::Reschedule(const Key& key,
                                         int64_t expected_version,
                                         absl::Time next_check_at) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  return backend_->Reschedule(key, expected_version, next_check_at);
}

absl::Status ValidatingStore::Rebind(const Key& key, int64_t expected_version,
                                     const std::string& key_id) {
  if (absl::Status s =
          FirstError({ValidateKey(key),
                      internal::ValidateKeyId(key_id, /*allow_empty=*/false)});
      !s.ok()) {
    return s;
  }
  return backend_->Rebind(key, expected_version, key_id);
}

absl::StatusOr<std::vector<Record>> ValidatingStore::ClaimDue(
    absl::Time now, const std::string& claimer, absl::Duration claim_lease,
    int limit) {
  if (absl::Status s = internal::ValidateClaim(claimer, claim_lease, limit);
      !s.ok()) {
    return s;
  }
  return backend_->ClaimDue(now, claimer, claim_lease, limit);
}

absl::StatusOr<std::vector<Attempt>> ValidatingStore::ListAttempts(
    const Key& key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  return backend_->ListAttempts(key);
}

absl::StatusOr<std::vector<UnknownSummary>> ValidatingStore::SummarizeUnknown(
    absl::Time now) {
  return backend_->SummarizeUnknown(now);
}

absl::StatusOr<int64_t> ValidatingStore::ReapExpired(absl::Time now) {
  return backend_->ReapExpired(now);
}

bool ValidatingStore::EventSeenWithoutWaiting(
    const std::string& event_id, absl::Time now,
    std::optional<absl::Time>* first_seen) {
  if (!internal::ValidateText(event_id, "webhook event id").ok()) {
    return false;  // RememberEvent reports it.
  }
  return backend_->EventSeenWithoutWaiting(event_id, now, first_seen);
}

absl::StatusOr<std::optional<absl::Time>> ValidatingStore::RememberEvent(
    const std::string& event_id, absl::Time now, absl::Duration retention) {
  if (absl::Status s =
          FirstError({internal::ValidateText(event_id, "webhook event id"),
                      internal::ValidatePositive(retention, "retention")});
      !s.ok()) {
    return s;
  }
  return backend_->RememberEvent(event_id, now, retention);
}

absl::Status ValidatingStore::Ping() { return backend_->Ping(); }

}  // namespace payments::idempotency
