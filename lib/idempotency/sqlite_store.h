#ifndef LIB_IDEMPOTENCY_SQLITE_STORE_H_
#define LIB_IDEMPOTENCY_SQLITE_STORE_H_

// The embedded operation journal: one SQLite file, durable across restarts
// (WAL journal, synchronous=FULL: a committed change survives a crash or
// power loss). Meant for one replica; several processes on one host may
// share the file (SQLite serializes writers, waiting up to busy_timeout).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/idempotency/idempotency_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace payments::idempotency {

struct SQLiteStoreOptions {
  // How long a write waits for another connection's (another process's)
  // write transaction before failing with UNAVAILABLE.
  absl::Duration busy_timeout = absl::Seconds(5);
};

// Thread-safe: one connection, guarded by a mutex (SQLite serializes
// writers anyway, and every operation is a few microseconds of work plus an
// fsync). A change that touches a record and its attempt rows, or reads
// before it writes, runs inside BEGIN IMMEDIATE, so that it is atomic
// against other connections (other processes) too. Reserve of a live,
// taken record (a replay, a mismatch, a wait) and RememberEvent of a known
// event are answered by a read alone (no write lock, no fsync). Every call
// may still wait up to the busy timeout for another connection's lock, so
// calls belong on a worker pool, never on gRPC's or the transport's
// threads; except GetWithoutWaiting, which reads only when the connection
// is free and gives up at once on another connection's lock. Error semantics as
// in idempotency_store.h; SQLite failures (disk full, I/O error, lock wait
// exceeded) are UNAVAILABLE.
//
// Arguments are not validated here, and Get returns a record whatever its
// expiry: OpenStore wraps the store in ValidatingStore (validating_store.h),
// which does both. Callers of Open directly must pass valid arguments (as
// idempotency_store.h describes them) and ignore expired records.
class SQLiteStore final : public IdempotencyStore {
 public:
  // Opens (creating if needed) the database file at `path`. Does not
  // migrate. INVALID_ARGUMENT if the file cannot be opened or is not a
  // database.
  static absl::StatusOr<std::unique_ptr<SQLiteStore>> Open(
      const std::string& path, const SQLiteStoreOptions& options = {});

  ~SQLiteStore() override;
  SQLiteStore(const SQLiteStore&) = delete;
  SQLiteStore& operator=(const SQLiteStore&) = delete;

  absl::Status Migrate() override;
  absl::StatusOr<ReserveResult> Reserve(
      const Key& key, const std::string& fingerprint, const std::string& params,
      const std::string& key_id, const std::string& owner, absl::Time now,
      absl::Duration lease, absl::Duration retention) override;
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
  SQLiteStore(sqlite3* db, absl::Duration busy_timeout);

  // A prepared statement for `sql` (a string literal: cached by address),
  // prepared on first use and reset by the caller after use.
  absl::StatusOr<sqlite3_stmt*> Prepare(const char* sql)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Exec for a statement without parameters or rows (a string literal),
  // through Prepare's cache.
  absl::Status ExecPrepared(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT (rolled back on error).
  template <typename Body>
  std::invoke_result_t<Body&> InTransaction(Body body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `sql` with `values` bound to $1, $2, ...; `read` is called on
  // each row returned. The number of rows.
  template <typename Read, typename... Values>
  absl::StatusOr<int> Query(const char* sql, const char* what, Read read,
                            const Values&... values)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The records a statement returns (RETURNING or SELECT of
  // PAYMENTS_RECORD_COLUMNS).
  template <typename... Values>
  absl::StatusOr<std::vector<Record>> Records(const char* sql, const char* what,
                                              const Values&... values)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs a statement that returns nothing; the number of rows changed.
  template <typename... Values>
  absl::StatusOr<int> Change(const char* sql, const char* what,
                             const Values&... values)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The record for `key` whatever its expiry, if any.
  absl::StatusOr<std::optional<Record>> Load(const Key& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // When `event_id` was first seen, unless it was not or has expired.
  absl::StatusOr<std::optional<absl::Time>> FirstSeen(
      const std::string& event_id, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `read()` into `*out` if the connection is free, with no busy handler
  // (another connection's lock is SQLITE_BUSY at once): the *WithoutWaiting
  // calls. False if it was not free or `read` failed.
  template <typename Read, typename T>
  bool WithoutWaiting(Read read, T* out) ABSL_LOCKS_EXCLUDED(mu_);
  // One transaction: `change` (an UPDATE of the record returning `op`),
  // then, if it changed the record, `attempt` (the attempt row's change).
  // True if the record changed. `values` are bound to both.
  template <typename... Values>
  absl::StatusOr<bool> ChangeWithAttempt(const char* change,
                                         const char* attempt, const char* what,
                                         const Values&... values)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // An owner's transition to `state` (see AlreadyDoneOrConflict).
  template <typename... More>
  absl::Status OwnerTransition(const char* change, const char* attempt,
                               const char* operation, RecordState state,
                               const Key& key, const std::string& owner,
                               absl::Time now, const More&... more)
      ABSL_LOCKS_EXCLUDED(mu_);
  // A settlement at `expected_version`: FAILED_PRECONDITION if no row.
  template <typename... More>
  absl::Status Settle(const char* change, const char* attempt,
                      const char* operation, const Key& key,
                      int64_t expected_version, absl::Time now,
                      const More&... more) ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  sqlite3* const db_;
  const int busy_timeout_ms_;
  std::unordered_map<const char*, sqlite3_stmt*> statements_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace payments::idempotency

#endif  // LIB_IDEMPOTENCY_SQLITE_STORE_H_
