#include "tests/emulator/request_log.h"

namespace dojo_emulator {

void RequestLog::Append(LogEntry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  entry.seq = next_seq_++;
  entries_.push_back(std::move(entry));
}

Json RequestLog::ToJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  Json requests = Json::array();
  for (const LogEntry& e : entries_) {
    Json item = {{"seq", e.seq},
                 {"receivedAt", e.received_at},
                 {"method", e.method},
                 {"path", e.path},
                 {"query", e.query},
                 {"version", e.version},
                 {"account", e.account},
                 {"authorization", e.authorization},
                 {"contentType", e.content_type},
                 {"body", e.body},
                 {"status", e.status},
                 {"faulted", e.faulted}};
    if (!e.intent_id.empty()) item["intentId"] = e.intent_id;
    if (e.idempotency_key) item["idempotencyKey"] = *e.idempotency_key;
    requests.push_back(std::move(item));
  }
  return Json{{"requests", std::move(requests)}};
}

void RequestLog::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
}

}  // namespace dojo_emulator
