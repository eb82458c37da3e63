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
#include <vector>

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
  absl::StatusOr<ReserveResult> Reserve(
      const Key& key, const std::string& fingerprint, const std::string& params,
      const std::string& key_id, const std::string& owner, absl::Time now,
      absl::Duration lease, absl::Duration retention) override;
  // The backend's record, or nullopt if it has expired (expires_at <= now).
  absl::StatusOr<std::optional<Record>> Get(const Key& key,
                                            absl::Time now) override;
  bool GetWithoutWaiting(const Key& key, absl::Time now,
                         std::optional<Record>* record) override;
  bool EventSeenWithoutWaiting(const std::string& event_id, absl::Time now,
                               std::optional<absl::Time>* first_seen) override;
  absl::Status MarkSent(const Key& key, const std::string& owner,
                        absl::Time now) override;
  absl::Status Succeed(const Key& key, const std::string& owner,
                       const std::string& dojo_id, const std::string& result,
                       absl::Time now) override;
  absl::Status MarkUnknown(const Key& key, const std::string& owner,
                           absl::Time now) override;
  absl::Status Fail(const Key& key, const std::string& owner,
                    absl::Time now) override;
  absl::Status Resolve(const Key& key, int64_t expected_version,
                       const std::string& dojo_id, const std::string& result,
                       absl::Time now) override;
  absl::Status SettleNotCreated(const Key& key, int64_t expected_version,
                                absl::Time now) override;
  absl::Status Reschedule(const Key& key, int64_t expected_version,
                          absl::Time next_check_at) override;
  absl::Status Rebind(const Key& key, int64_t expected_version,
                      const std::string& key_id) override;
  absl::StatusOr<std::vector<Record>> ClaimDue(absl::Time now,
                                               const std::string& claimer,
                                               absl::Duration claim_lease,
                                               int limit) override;
  absl::StatusOr<std::vector<Attempt>> ListAttempts(const Key& key) override;
  absl::StatusOr<std::vector<UnknownSummary>> SummarizeUnknown(
      absl::Time now) override;
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
