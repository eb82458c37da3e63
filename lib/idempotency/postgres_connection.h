#ifndef LIB_IDEMPOTENCY_POSTGRES_CONNECTION_H_
#define LIB_IDEMPOTENCY_POSTGRES_CONNECTION_H_

// Internal to lib/idempotency: one libpq connection driven with libpq's
// asynchronous API, so that connecting and every statement end by a
// deadline even when the server hangs (a stopped process keeps TCP
// connections open; blocking libpq calls would wait forever).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct pg_conn;
struct pg_result;

namespace payments::idempotency {

// A statement parameter: text (the server infers its type) or binary (used
// for bytea).
struct PostgresParam {
  std::string value;
  bool binary = false;
};

// An owned result of a successful statement.
class PostgresResult final {
 public:
  explicit PostgresResult(pg_result* result);
  ~PostgresResult();
  PostgresResult(PostgresResult&& other) noexcept;
  PostgresResult& operator=(PostgresResult&& other) noexcept;
  PostgresResult(const PostgresResult&) = delete;
  PostgresResult& operator=(const PostgresResult&) = delete;

  int rows() const;
  // Rows changed by an INSERT, UPDATE or DELETE.
  int64_t affected() const;
  bool IsNull(int row, int column) const;
  std::string Text(int row, int column) const;
  // INTERNAL if the value is not an integer.
  absl::StatusOr<int64_t> Int(int row, int column) const;
  // A bytea column (text output format), decoded.
  absl::StatusOr<std::string> Bytea(int row, int column) const;

 private:
  pg_result* result_;
};

// Not thread-safe: used by one thread at a time (the pool hands it out).
class PostgresConnection final {
 public:
  // Connects with libpq keyword/value pairs (the first may be "dbname"
  // holding a URL, expanded), giving up at `deadline`. Error messages have
  // `secret` (the password) masked. UNAVAILABLE on failure.
  static absl::StatusOr<std::unique_ptr<PostgresConnection>> Connect(
      const std::vector<std::string>& keywords,
      const std::vector<std::string>& values, const std::string& secret,
      absl::Time deadline);

  ~PostgresConnection();
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;

  // Runs one statement ($1, $2, ... bound to `params`), waiting for its
  // result until `deadline`. Errors: UNAVAILABLE when the server cannot be
  // reached, times out, shuts down or is overloaded; INTERNAL for errors in
  // the statement or schema (SQLSTATE classes 0A, 22, 23, 25, 42). After a
  // timeout or a lost connection the connection is broken for good.
  absl::StatusOr<PostgresResult> Exec(const std::string& sql,
                                      const std::vector<PostgresParam>& params,
                                      absl::Time deadline);

  // Whether the connection can be reused: connected, no transaction open,
  // and nothing arrived while idle (such as the notice a server sends when
  // it shuts down, followed by end of stream). Reads pending input without
  // waiting.
  bool Healthy();

 private:
  PostgresConnection(pg_conn* conn, std::string secret);
  absl::Status Fail(const char* what);
  // Waits until the socket is readable (if `read`) or writable (if
  // `write`). False at the deadline or on a poll error.
  bool Wait(bool read, bool write, absl::Time deadline);

  pg_conn* const conn_;
  const std::string secret_;
  bool broken_ = false;
};

// Checks a libpq connection string (URL or key=value form) without
// connecting: libpq must parse it (unknown options are refused), and the
// options libpq only checks when it connects must have valid values:
// sslmode, gssencmode, channel_binding, target_session_attrs, port (each
// 1-65535) and as many ports as hosts when several are given.
// INVALID_ARGUMENT "`setting`: ..." naming the option, never a value from
// the string nor libpq's parse error (both may quote the password).
absl::Status ValidatePostgresConninfo(const std::string& conninfo,
                                      absl::string_view setting);

// Masks `secret` in `message` and keeps its first line, at most a couple
// of hundred bytes: messages end up in gRPC trailers and logs.
std::string SanitizePostgresMessage(const std::string& message,
                                    const std::string& secret);

}  // namespace payments::idempotency

#endif  // LIB_IDEMPOTENCY_POSTGRES_CONNECTION_H_
