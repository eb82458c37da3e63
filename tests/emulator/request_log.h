// The log of Dojo API requests, for test assertions.
#ifndef TESTS_EMULATOR_REQUEST_LOG_H_
#define TESTS_EMULATOR_REQUEST_LOG_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/emulator/http_types.h"

namespace dojo_emulator {

// One Dojo API request. Never holds the API key: only the account name and
// the outcome of the Authorization check.
struct LogEntry {
  uint64_t seq = 0;  // assigned by RequestLog::Append
  std::string received_at;
  std::string method;
  std::string path;
  std::string query;
  std::string version;        // the `version` header, "" if absent
  std::string account;        // "" unless authenticated (or forbidden)
  std::string authorization;  // ok|missing|malformed|unknown|forbidden
  std::string content_type;
  std::optional<std::string> idempotency_key;  // the header, when sent
  std::string body;
  int status = 0;  // 0 when the connection was dropped
  std::string intent_id;
  bool faulted = false;  // answered or shaped by a scripted fault
};

// Thread-safe.
class RequestLog final {
 public:
  void Append(LogEntry entry);
  // {"requests":[...]} in arrival order.
  Json ToJson() const;
  void Clear();

 private:
  mutable std::mutex mu_;
  uint64_t next_seq_ = 1;
  std::vector<LogEntry> entries_;
};

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_REQUEST_LOG_H_
