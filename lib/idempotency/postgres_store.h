#ifndef LIB_IDEMPOTENCY_POSTGRES_STORE_H_
#define LIB_IDEMPOTENCY_POSTGRES_STORE_H_

// The shared operation journal for several replicas: PostgreSQL through
// libpq. Every change is one atomic statement (Migrate: one short
// transaction), so atomicity across replicas comes from the server:
// Reserve is an INSERT ... ON CONFLICT DO UPDATE ... WHERE expired, then,
// if that left the record alone, an UPDATE ... WHERE free; the other
// changes are UPDATEs conditional on owner, state and version, each
// changing its attempt row in the same statement (a data-modifying WITH);
// ClaimDue picks with FOR UPDATE SKIP LOCKED and claims in one UPDATE.

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

class PostgresConnectionPool;
class PostgresResult;
struct PostgresParam;

struct PostgresStoreOptions {
  // Connections are opened lazily, up to this many.
  int max_connections = 4;
  // Connecting (TCP, TLS, authentication) gives up after this; a URL's own
  // connect_timeout takes precedence.
  absl::Duration connect_timeout = absl::Seconds(3);
  // Server-side limit on each statement; the client gives up one second
  // later (a hung or stopped server) and drops the connection.
  absl::Duration statement_timeout = absl::Seconds(5);
  // How long an operation waits for a free connection when all are busy.
  absl::Duration acquire_timeout = absl::Seconds(5);
};

// Thread-safe. Recovers by itself: a connection broken by a server restart
// or an outage is replaced on the next use, and operations fail with
// UNAVAILABLE (promptly: within connect_timeout or statement_timeout + 1 s)
// while the server is away. Error messages never contain the connection
// string or the password.
//
// Arguments are not validated here, and Get returns a record whatever its
// expiry: OpenStore wraps the store in ValidatingStore (validating_store.h),
// which does both. Callers of Open directly must pass valid arguments (as
// idempotency_store.h describes them) and ignore expired records.
class PostgresStore final : public IdempotencyStore {
 public:
  // `conninfo`: a postgresql:// URL (or libpq key=value string). Does not
  // connect. INVALID_ARGUMENT if it cannot be parsed or options are bad.
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(
      const std::string& conninfo, const PostgresStoreOptions& options = {});

  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  absl::Status Migrate() override;
  absl::StatusOr<ReserveResult> Reserve(
      const Key& key, const std::string& fingerprint, const std::string& params,
      const std::string& key_id, const std::string& owner, absl::Time now,
      absl::Duration lease, absl::Duration retention) override;
  absl::StatusOr<std::optional<Record>> Get(const Key& key,
                                            absl::Time now) override;
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
  PostgresStore(std::unique_ptr<PostgresConnectionPool> pool,
                absl::Duration operation_timeout);

  // One statement on a pooled connection.
  absl::StatusOr<PostgresResult> Run(const std::string& sql,
                                     const std::vector<PostgresParam>& params);
  // The record for `key` whatever its expiry, if any.
  absl::StatusOr<std::optional<Record>> Load(const Key& key);
  // A conditional UPDATE or DELETE; the number of rows changed.
  absl::StatusOr<int64_t> Change(const std::string& sql,
                                 const std::vector<PostgresParam>& params);
  // A statement returning PAYMENTS_RECORD_COLUMNS rows.
  absl::StatusOr<std::vector<Record>> Records(
      const std::string& sql, const std::vector<PostgresParam>& params);
  // A statement whose single row holds a count (of the records changed).
  absl::StatusOr<int64_t> Count(const std::string& sql,
                                const std::vector<PostgresParam>& params);

  const std::unique_ptr<PostgresConnectionPool> pool_;
  const absl::Duration operation_timeout_;
};

}  // namespace payments::idempotency

#endif  // LIB_IDEMPOTENCY_POSTGRES_STORE_H_
