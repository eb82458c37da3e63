#include "lib/idempotency/postgres_connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace payments::idempotency {
namespace {

constexpr size_t kMaxMessageBytes = 200;

// Library code does not log: notices (and the FATAL a server sends to idle
// connections when it shuts down) are dropped instead of going to stderr.
void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

// SQLSTATE classes that mean the statement or schema is wrong (a
// deployment or code problem) rather than the server being unreachable.
bool IsStatementError(const char* sqlstate) {
  if (sqlstate == nullptr || std::strlen(sqlstate) != 5) return false;
  static constexpr const char* kClasses[] = {"0A", "22", "23", "25", "42"};
  for (const char* cls : kClasses) {
    if (std::strncmp(sqlstate, cls, 2) == 0) return true;
  }
  return false;
}

// The options whose values libpq checks only when it connects, with the
// values libpq 15 accepts.
struct EnumOption {
  const char* keyword;
  std::vector<absl::string_view> values;
};

const std::vector<EnumOption>& EnumOptions() {
  static const auto* const kOptions = new std::vector<EnumOption>{
      {"sslmode",
       {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}},
      {"gssencmode", {"disable", "prefer", "require"}},
      {"channel_binding", {"disable", "prefer", "require"}},
      {"target_session_attrs",
       {"any", "read-write", "read-only", "primary", "standby",
        "prefer-standby"}},
  };
  return *kOptions;
}

// Entries of a comma-separated host or port list, as libpq counts them.
size_t ListSize(const char* value) {
  return value == nullptr || *value == '\0'
             ? 0
             : static_cast<size_t>(
                   std::count(value, value + std::strlen(value), ',') + 1);
}

}  // namespace

absl::Status ValidatePostgresConninfo(const std::string& conninfo,
                                      absl::string_view setting) {
  auto invalid = [setting](absl::string_view problem) {
    return absl::InvalidArgumentError(absl::StrCat(setting, ": ", problem));
  };
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
  // libpq's message may quote the string, password included: dropped.
  if (parse_error != nullptr) PQfreemem(parse_error);
  if (parsed == nullptr) {
    return invalid(
        "libpq cannot parse this PostgreSQL connection string (malformed "
        "URL, bad percent-encoding or an unknown option)");
  }
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      parsed, &PQconninfoFree);
  const char* hosts = nullptr;
  const char* hostaddrs = nullptr;
  const char* ports = nullptr;
  for (const PQconninfoOption* option = parsed; option->keyword != nullptr;
       ++option) {
    if (option->val == nullptr) continue;
    const absl::string_view keyword = option->keyword;
    const absl::string_view value = option->val;
    if (keyword == "host") hosts = option->val;
    if (keyword == "hostaddr") hostaddrs = option->val;
    if (keyword == "port") ports = option->val;
    for (const EnumOption& allowed : EnumOptions()) {
      if (keyword != allowed.keyword) continue;
      if (std::find(allowed.values.begin(), allowed.values.end(), value) ==
          allowed.values.end()) {
        return invalid(absl::StrCat(keyword, " must be one of ",
                                    absl::StrJoin(allowed.values, ", ")));
      }
    }
  }
  if (ports != nullptr) {
    for (absl::string_view port : absl::StrSplit(ports, ',')) {
      int number = 0;
      if (port.empty()) continue;  // the default port for that host
      if (!absl::SimpleAtoi(port, &number) || number < 1 || number > 65535) {
        return invalid("each port must be a number from 1 to 65535");
      }
    }
  }
  const size_t host_count = std::max(ListSize(hosts), ListSize(hostaddrs));
  const size_t port_count = ListSize(ports);
  if (port_count > 1 && port_count != std::max<size_t>(host_count, 1)) {
    return invalid("give one port, or one port per host");
  }
  return absl::OkStatus();
}

std::string SanitizePostgresMessage(const std::string& message,
                                    const std::string& secret) {
  std::string line = message.substr(0, message.find('\n'));
  if (!secret.empty()) line = absl::StrReplaceAll(line, {{secret, "***"}});
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) {
    line.pop_back();
  }
  if (line.size() > kMaxMessageBytes) {
    line.resize(kMaxMessageBytes);
    line += "...";
  }
  return line;
}

PostgresResult::PostgresResult(pg_result* result) : result_(result) {}

PostgresResult::~PostgresResult() {
  if (result_ != nullptr) PQclear(result_);
}

PostgresResult::PostgresResult(PostgresResult&& other) noexcept
    : result_(std::exchange(other.result_, nullptr)) {}

PostgresResult& PostgresResult::operator=(PostgresResult&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

int PostgresResult::rows() const { return PQntuples(result_); }

int64_t PostgresResult::affected() const {
  int64_t n = 0;
  return absl::SimpleAtoi(PQcmdTuples(result_), &n) ? n : 0;
}

bool PostgresResult::IsNull(int row, int column) const {
  return PQgetisnull(result_, row, column) != 0;
}

std::string PostgresResult::Text(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column),
                     PQgetlength(result_, row, column));
}

absl::StatusOr<int64_t> PostgresResult::Int(int row, int column) const {
  int64_t value = 0;
  if (!absl::SimpleAtoi(PQgetvalue(result_, row, column), &value)) {
    return absl::InternalError("postgresql: unexpected non-integer value");
  }
  return value;
}

absl::StatusOr<std::string> PostgresResult::Bytea(int row, int column) const {
  size_t length = 0;
  unsigned char* bytes = PQunescapeBytea(
      reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row, column)),
      &length);
  if (bytes == nullptr) {
    return absl::InternalError("postgresql: cannot decode bytea value");
  }
  std::string value(reinterpret_cast<const char*>(bytes), length);
  PQfreemem(bytes);
  return value;
}

absl::StatusOr<std::unique_ptr<PostgresConnection>> PostgresConnection::Connect(
    const std::vector<std::string>& keywords,
    const std::vector<std::string>& values, const std::string& secret,
    absl::Time deadline) {
  std::vector<const char*> keyword_ptrs;
  std::vector<const char*> value_ptrs;
  for (size_t i = 0; i < keywords.size() && i < values.size(); ++i) {
    keyword_ptrs.push_back(keywords[i].c_str());
    value_ptrs.push_back(values[i].c_str());
  }
  keyword_ptrs.push_back(nullptr);
  value_ptrs.push_back(nullptr);
  PGconn* raw = PQconnectStartParams(keyword_ptrs.data(), value_ptrs.data(),
                                     /*expand_dbname=*/1);
  if (raw == nullptr) {
    return absl::UnavailableError("postgresql connect: out of memory");
  }
  std::unique_ptr<PostgresConnection> conn(new PostgresConnection(raw, secret));
  if (PQstatus(raw) == CONNECTION_BAD) return conn->Fail("connect");
  PQsetNoticeProcessor(raw, &IgnoreNotice, nullptr);
  // libpq's own connect_timeout only applies to its blocking calls; this
  // loop enforces the deadline across DNS-resolved addresses, TLS and auth.
  PostgresPollingStatusType polling = PGRES_POLLING_WRITING;
  while (polling != PGRES_POLLING_OK) {
    if (polling == PGRES_POLLING_FAILED) return conn->Fail("connect");
    if (!conn->Wait(/*read=*/polling == PGRES_POLLING_READING,
                    /*write=*/polling == PGRES_POLLING_WRITING, deadline)) {
      return absl::UnavailableError("postgresql connect: timed out");
    }
    polling = PQconnectPoll(raw);
  }
  if (PQsetnonblocking(raw, 1) != 0) return conn->Fail("connect");
  return conn;
}

PostgresConnection::PostgresConnection(pg_conn* conn, std::string secret)
    : conn_(conn), secret_(std::move(secret)) {}

PostgresConnection::~PostgresConnection() { PQfinish(conn_); }

absl::Status PostgresConnection::Fail(const char* what) {
  if (PQstatus(conn_) == CONNECTION_BAD) broken_ = true;
  return absl::UnavailableError(
      absl::StrCat("postgresql ", what, ": ",
                   SanitizePostgresMessage(PQerrorMessage(conn_), secret_)));
}

bool PostgresConnection::Wait(bool read, bool write, absl::Time deadline) {
  for (;;) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd fd{};
    fd.fd = PQsocket(conn_);
    if (fd.fd < 0) return false;
    fd.events = static_cast<short>((read ? POLLIN : 0) | (write ? POLLOUT : 0));
    int ms = static_cast<int>(
        absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))));
    int rc = poll(&fd, 1, ms);
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
  }
}

absl::StatusOr<PostgresResult> PostgresConnection::Exec(
    const std::string& sql, const std::vector<PostgresParam>& params,
    absl::Time deadline) {
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    return absl::UnavailableError("postgresql: connection lost");
  }
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  for (const PostgresParam& param : params) {
    values.push_back(param.value.data());
    lengths.push_back(static_cast<int>(param.value.size()));
    formats.push_back(param.binary ? 1 : 0);
  }
  if (PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(params.size()),
                        /*paramTypes=*/nullptr, values.data(), lengths.data(),
                        formats.data(), /*resultFormat=*/0) == 0) {
    return Fail("send");
  }
  // Flush the statement, then read until the result is complete; every
  // wait ends at the deadline, after which the connection is abandoned
  // (the server's statement_timeout ends the statement there).
  for (;;) {
    int flushed = PQflush(conn_);
    if (flushed == 0) break;
    if (flushed < 0) return Fail("send");
    if (!Wait(/*read=*/true, /*write=*/true, deadline)) {
      broken_ = true;
      return absl::UnavailableError("postgresql: statement timed out");
    }
    if (PQconsumeInput(conn_) == 0) return Fail("receive");
  }
  PGresult* first = nullptr;
  for (;;) {
    while (PQisBusy(conn_) != 0) {
      if (!Wait(/*read=*/true, /*write=*/false, deadline)) {
        if (first != nullptr) PQclear(first);
        broken_ = true;
        return absl::UnavailableError("postgresql: statement timed out");
      }
      if (PQconsumeInput(conn_) == 0) {
        if (first != nullptr) PQclear(first);
        return Fail("receive");
      }
    }
    PGresult* next = PQgetResult(conn_);
    if (next == nullptr) break;
    if (first == nullptr) {
      first = next;
    } else {
      PQclear(next);
    }
  }
  PostgresResult result(first);
  if (first == nullptr) return Fail("receive");
  ExecStatusType status = PQresultStatus(first);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  if (PQstatus(conn_) == CONNECTION_BAD) broken_ = true;
  const char* sqlstate = PQresultErrorField(first, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(first, PG_DIAG_MESSAGE_PRIMARY);
  std::string message = absl::StrCat(
      "postgresql: ",
      SanitizePostgresMessage(
          primary != nullptr ? primary : PQresultErrorMessage(first), secret_),
      sqlstate != nullptr ? absl::StrCat(" (SQLSTATE ", sqlstate, ")") : "");
  if (IsStatementError(sqlstate)) return absl::InternalError(message);
  return absl::UnavailableError(message);
}

bool PostgresConnection::Healthy() {
  if (broken_ || PQstatus(conn_) != CONNECTION_OK ||
      PQtransactionStatus(conn_) != PQTRANS_IDLE) {
    return false;
  }
  // An idle connection has nothing to read unless the server said goodbye
  // (a FATAL notice on shutdown, then end of stream) or the peer reset it:
  // any unrequested traffic retires the connection. Nothing waits here.
  pollfd fd{};
  fd.fd = PQsocket(conn_);
  if (fd.fd < 0) return false;
  fd.events = POLLIN;
  if (poll(&fd, 1, 0) != 0) return false;
  return PQstatus(conn_) == CONNECTION_OK && PQisBusy(conn_) == 0;
}

}  // namespace payments::idempotency
