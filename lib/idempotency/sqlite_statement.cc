#include "lib/idempotency/sqlite_statement.h"

#include <sqlite3.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "lib/idempotency/store_encoding.h"

namespace payments::idempotency {

absl::Status SqliteError(sqlite3* db, int rc, const char* what) {
  const char* detail = (db != nullptr && sqlite3_errcode(db) == rc)
                           ? sqlite3_errmsg(db)
                           : sqlite3_errstr(rc);
  std::string message = absl::StrCat("sqlite ", what, ": ", detail);
  switch (rc & 0xff) {
    case SQLITE_ERROR:
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
    case SQLITE_CONSTRAINT:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::InternalError(message);
    default:
      return absl::UnavailableError(message);
  }
}

SqliteStatement::SqliteStatement(sqlite3* db, sqlite3_stmt* stmt)
    : db_(db), stmt_(stmt) {}

SqliteStatement::~SqliteStatement() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int SqliteStatement::NextIndex() {
  const std::string name = absl::StrCat("$", ++next_);
  int index = sqlite3_bind_parameter_index(stmt_, name.c_str());
  if (index != 0) ++bound_;
  return index;
}

SqliteStatement& SqliteStatement::Check(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

SqliteStatement& SqliteStatement::Bind(const std::string& text) {
  int index = NextIndex();
  if (index == 0) return *this;
  return Check(sqlite3_bind_text(stmt_, index, text.data(),
                                 static_cast<int>(text.size()),
                                 SQLITE_TRANSIENT));
}

SqliteStatement& SqliteStatement::Bind(int64_t value) {
  int index = NextIndex();
  if (index == 0) return *this;
  return Check(sqlite3_bind_int64(stmt_, index, value));
}

SqliteStatement& SqliteStatement::Bind(absl::Time t) {
  return Bind(internal::TimeToMicros(t));
}

SqliteStatement& SqliteStatement::BindBlob(const std::string& blob) {
  int index = NextIndex();
  if (index == 0) return *this;
  // data() is never null, so an empty string binds an empty blob, not NULL.
  return Check(sqlite3_bind_blob64(stmt_, index, blob.data(), blob.size(),
                                   SQLITE_TRANSIENT));
}

absl::StatusOr<bool> SqliteStatement::Step(const char* what) {
  if (bind_rc_ != SQLITE_OK) return SqliteError(db_, bind_rc_, what);
  if (bound_ != sqlite3_bind_parameter_count(stmt_)) {
    return absl::InternalError(
        absl::StrCat("sqlite ", what, ": a statement parameter is not bound"));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, what);
}

absl::StatusOr<int> SqliteStatement::Run(const char* what) {
  absl::StatusOr<bool> row = Step(what);
  if (!row.ok()) return row.status();
  return sqlite3_changes(db_);
}

bool SqliteStatement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

absl::StatusOr<int64_t> SqliteStatement::Int(int column) const {
  if (sqlite3_column_type(stmt_, column) != SQLITE_INTEGER) {
    return absl::InternalError("sqlite: unexpected non-integer value");
  }
  return sqlite3_column_int64(stmt_, column);
}

absl::StatusOr<std::string> SqliteStatement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text),
                     sqlite3_column_bytes(stmt_, column));
}

absl::StatusOr<std::string> SqliteStatement::Bytes(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  if (blob == nullptr) return std::string();
  return std::string(static_cast<const char*>(blob),
                     sqlite3_column_bytes(stmt_, column));
}

}  // namespace payments::idempotency
