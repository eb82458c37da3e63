// The control API under /_emulator/: test hooks, no authentication.
#ifndef TESTS_EMULATOR_CONTROL_H_
#define TESTS_EMULATOR_CONTROL_H_

#include <chrono>

#include "tests/emulator/faults.h"
#include "tests/emulator/http_types.h"
#include "tests/emulator/intent_store.h"
#include "tests/emulator/request_log.h"
#include "tests/emulator/webhook_client.h"

namespace dojo_emulator {

// Thread-safe. The pointers must outlive this object.
class Control final {
 public:
  // `default_search_lag` is what POST /_emulator/reset restores.
  Control(IntentStore* store, RequestLog* log, FaultRegistry* faults,
          WebhookClient* webhooks,
          std::chrono::milliseconds default_search_lag = {})
      : store_(store),
        log_(log),
        faults_(faults),
        webhooks_(webhooks),
        default_search_lag_(default_search_lag) {}

  // Answers a request whose path starts with /_emulator. Calls `done` once,
  // possibly later from another thread (webhook delivery).
  void Handle(const Request& req, const Target& target, ReplyCallback done);

 private:
  Response SetStatus(const std::string& id, const Request& req);
  Response ListIntents(const Target& target);
  Response BulkCreate(const Request& req);
  Response Settings() const;
  Response UpdateSettings(const Request& req);
  Response AddFault(const Request& req);
  void SendWebhook(const Request& req, ReplyCallback done);
  Response SignWebhookBody(const Request& req);

  IntentStore* store_;
  RequestLog* log_;
  FaultRegistry* faults_;
  WebhookClient* webhooks_;
  std::chrono::milliseconds default_search_lag_;
};

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_CONTROL_H_
