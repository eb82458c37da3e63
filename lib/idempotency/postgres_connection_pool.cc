#include "lib/idempotency/postgres_connection_pool.h"

#include <utility>

namespace payments::idempotency {

PostgresConnectionPool::Handle::Handle(PostgresConnectionPool* pool,
                                       std::unique_ptr<PostgresConnection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

PostgresConnectionPool::Handle::Handle(Handle&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)) {}

PostgresConnectionPool::Handle::~Handle() {
  if (conn_ != nullptr) pool_->Return(std::move(conn_));
}

PostgresConnectionPool::PostgresConnectionPool(PostgresPoolSettings settings)
    : settings_(std::move(settings)) {}

PostgresConnectionPool::~PostgresConnectionPool() = default;

bool PostgresConnectionPool::AvailableLocked() const {
  return !idle_.empty() || open_ < settings_.max_connections;
}

absl::StatusOr<PostgresConnectionPool::Handle>
PostgresConnectionPool::Acquire() {
  std::unique_ptr<PostgresConnection> conn;
  {
    absl::MutexLock lock(&mu_);
    if (!mu_.AwaitWithTimeout(
            absl::Condition(this, &PostgresConnectionPool::AvailableLocked),
            settings_.acquire_timeout)) {
      return absl::UnavailableError(
          "postgresql: no connection free (all busy)");
    }
    if (!idle_.empty()) {
      conn = std::move(idle_.back());  // The most recently used.
      idle_.pop_back();
    } else {
      ++open_;  // Reserve the slot; connect without holding the lock.
    }
  }
  if (conn != nullptr && conn->Healthy()) {
    return Handle(this, std::move(conn));
  }
  // A stale connection keeps its slot and is replaced.
  conn.reset();
  const absl::Time deadline = absl::Now() + settings_.connect_timeout;
  absl::StatusOr<std::unique_ptr<PostgresConnection>> fresh =
      PostgresConnection::Connect(settings_.keywords, settings_.values,
                                  settings_.secret, deadline);
  absl::Status status = fresh.status();
  if (fresh.ok()) {
    for (const std::string& sql : settings_.session_setup) {
      absl::StatusOr<PostgresResult> set = (*fresh)->Exec(sql, {}, deadline);
      if (!set.ok()) {
        status = set.status();
        break;
      }
    }
  }
  if (!status.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
    return status;
  }
  return Handle(this, *std::move(fresh));
}

void PostgresConnectionPool::Return(std::unique_ptr<PostgresConnection> conn) {
  // Checked outside the lock; a connection left in a transaction or broken
  // by a timeout is closed rather than handed to the next caller.
  bool healthy = conn->Healthy();
  if (!healthy) conn.reset();
  absl::MutexLock lock(&mu_);
  if (healthy) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
}

}  // namespace payments::idempotency
