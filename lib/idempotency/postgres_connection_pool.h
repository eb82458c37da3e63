#ifndef LIB_IDEMPOTENCY_POSTGRES_CONNECTION_POOL_H_
#define LIB_IDEMPOTENCY_POSTGRES_CONNECTION_POOL_H_

// Internal to lib/idempotency: a small pool of PostgreSQL connections,
// opened lazily. A connection found broken (server restarted, network
// reset, statement timed out) is dropped and replaced by a new one on the
// next use, so the pool recovers by itself once the server is back.

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/idempotency/postgres_connection.h"

namespace payments::idempotency {

struct PostgresPoolSettings {
  // libpq keyword/value pairs; "dbname" may hold a URL (expanded).
  std::vector<std::string> keywords;
  std::vector<std::string> values;
  // The password, masked in error messages.
  std::string secret;
  // Statements run on every new connection (session settings).
  std::vector<std::string> session_setup;
  int max_connections = 4;
  absl::Duration connect_timeout = absl::Seconds(3);
  // How long Acquire waits for a connection when all are in use.
  absl::Duration acquire_timeout = absl::Seconds(5);
};

// Thread-safe. Handles must be returned (destroyed) before the pool.
class PostgresConnectionPool final {
 public:
  // Exclusive use of one connection; returns it to the pool, or drops it
  // if it is no longer healthy, when destroyed.
  class Handle final {
   public:
    Handle(Handle&& other) noexcept;
    Handle& operator=(Handle&&) = delete;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle();

    PostgresConnection* operator->() const { return conn_.get(); }

   private:
    friend class PostgresConnectionPool;
    Handle(PostgresConnectionPool* pool,
           std::unique_ptr<PostgresConnection> conn);

    PostgresConnectionPool* pool_;
    std::unique_ptr<PostgresConnection> conn_;
  };

  explicit PostgresConnectionPool(PostgresPoolSettings settings);
  ~PostgresConnectionPool();
  PostgresConnectionPool(const PostgresConnectionPool&) = delete;
  PostgresConnectionPool& operator=(const PostgresConnectionPool&) = delete;

  // An idle healthy connection, or a new one if fewer than max_connections
  // are open. UNAVAILABLE if connecting fails or times out, or if no
  // connection frees up within acquire_timeout.
  absl::StatusOr<Handle> Acquire();

 private:
  void Return(std::unique_ptr<PostgresConnection> conn);
  bool AvailableLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PostgresPoolSettings settings_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<PostgresConnection>> idle_ ABSL_GUARDED_BY(mu_);
  // Idle plus handed out (plus being connected).
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace payments::idempotency

#endif  // LIB_IDEMPOTENCY_POSTGRES_CONNECTION_POOL_H_
