#ifndef LIB_IDEMPOTENCY_SQLITE_STATEMENT_H_
#define LIB_IDEMPOTENCY_SQLITE_STATEMENT_H_

// Internal to lib/idempotency: one use of a prepared SQLite statement, and
// how SQLite errors map to status codes.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct sqlite3;
struct sqlite3_stmt;

namespace payments::idempotency {

// What the caller should do next decides the code: a missing table or a
// bad statement is a deployment or code problem (INTERNAL); anything else
// (busy, I/O error, disk full, ...) may pass (UNAVAILABLE).
absl::Status SqliteError(sqlite3* db, int rc, const char* what);

// Binds the values of parameters $1, $2, ... in order (by name, as the
// shared SQL writes them: store_sql.h; a statement that does not use $n
// ignores the n-th value), steps, and resets the statement (keeping it
// prepared) when it goes out of scope. Also a row for DecodeRecord.
class SqliteStatement final {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  SqliteStatement& Bind(const std::string& text);
  SqliteStatement& Bind(int64_t value);
  SqliteStatement& Bind(absl::Time t);
  SqliteStatement& BindBlob(const std::string& blob);
  // Binds each argument in turn (Bind, or BindBlob for a Blob).
  struct Blob {
    const std::string& bytes;
  };
  template <typename... Values>
  SqliteStatement& BindAll(const Values&... values) {
    (BindOne(values), ...);
    return *this;
  }

  // True with a row to read, false when done. INTERNAL if a parameter the
  // statement uses was not bound.
  absl::StatusOr<bool> Step(const char* what);
  // Steps a statement that returns no rows; the number of rows changed.
  absl::StatusOr<int> Run(const char* what);

  bool IsNull(int column) const;
  absl::StatusOr<int64_t> Int(int column) const;
  absl::StatusOr<std::string> Text(int column) const;
  absl::StatusOr<std::string> Bytes(int column) const;

 private:
  // The index of parameter $n, or 0 if the statement does not use it.
  int NextIndex();
  SqliteStatement& Check(int rc);
  void BindOne(const std::string& text) { Bind(text); }
  void BindOne(int64_t value) { Bind(value); }
  void BindOne(absl::Time t) { Bind(t); }
  void BindOne(const Blob& blob) { BindBlob(blob.bytes); }

  sqlite3* const db_;
  sqlite3_stmt* const stmt_;
  int next_ = 0;
  int bound_ = 0;
  int bind_rc_ = 0;
};

}  // namespace payments::idempotency

#endif  // LIB_IDEMPOTENCY_SQLITE_STATEMENT_H_
