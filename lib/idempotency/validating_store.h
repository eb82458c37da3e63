#ifndef LIB_IDEMPOTENCY_VALIDATING_STORE_H_
#define LIB_IDEMPOTENCY_VALIDATING_STORE_H_

// The part of the IdempotencyStore contract (idempotency_store.h) that does
// not depend on the backend: argument checks (INVALID_ARGUMENT, see
// store_encoding.h) and hiding expired records from Get. OpenStore wraps
// every backend in it, so the backends check nothing themselves.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/idempotency/idempotency_store.h"

namespace payments::idempotency {

// Validates the arguments of each call once and forwards it to `backend`
// only when they are valid. Thread-safe if the backend is.
class ValidatingStore final : public IdempotencyStore {
 public:
  explicit ValidatingStore(std::unique_ptr<IdempotencyStore> backend);

  ValidatingStore(const ValidatingStore&) = delete;
  ValidatingStore& operator=(const ValidatingStore&) = delete;

  absl::Status Migrate() override;
  absl::StatusOr<ReserveResult> Reserve(const Key& key,
                                        const std::string& fingerprint,
                                        const std::string& owner,
                                        absl::Time now, absl::Duration lease,
                                        absl::Duration retention) override;
  // The backend's record, or nullopt if it has expired (expires_at <= now).
  absl::StatusOr<std::optional<Record>> Get(const Key& key,
                                            absl::Time now) override;
  absl::Status TakeOver(const Key& key, int64_t expected_version,
                        const std::string& owner, absl::Time now,
                        absl::Duration lease) override;
  absl::Status Complete(const Key& key, const std::string& owner,
                        const std::string& result, absl::Time now) override;
  absl::Status MarkUnknown(const Key& key, const std::string& owner,
                           absl::Time now) override;
  absl::Status Release(const Key& key, const std::string& owner) override;
  absl::StatusOr<int64_t> ReapExpired(absl::Time now) override;
  absl::StatusOr<std::optional<absl::Time>> RememberEvent(
      const std::string& event_id, absl::Time now,
      absl::Duration retention) override;
  absl::Status Ping() override;

 private:
  const std::unique_ptr<IdempotencyStore> backend_;
};

}  // namespace payments::idempotency

#endif  // LIB_IDEMPOTENCY_VALIDATING_STORE_H_
