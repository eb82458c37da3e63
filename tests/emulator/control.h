// The control API under /_emulator/: test hooks, no authentication.
#ifndef TESTS_EMULATOR_CONTROL_H_
#define TESTS_EMULATOR_CONTROL_H_

#include <chrono>

#include "tests/emulator/auto_expiry.h"
#include "tests/emulator/faults.h"
#include "tests/emulator/http_types.h"
#include "tests/emulator/intent_store.h"
#include "tests/emulator/request_log.h"
#include "tests/emulator/routes.h"
#include "tests/emulator/webhook_client.h"
#include "tests/emulator/webhook_notifier.h"

namespace dojo_emulator {

// What the control API works on. The pointers must outlive the Control.
struct ControlDeps {
  IntentStore* store = nullptr;
  RequestLog* log = nullptr;
  FaultRegistry* faults = nullptr;
  WebhookClient* webhooks = nullptr;
  WebhookNotifier* notifier = nullptr;
  AutoExpiry* expiry = nullptr;
  Routes* routes = nullptr;
  // What POST /_emulator/reset restores.
  std::chrono::milliseconds default_search_lag{0};
};

// Thread-safe.
class Control final {
 public:
  explicit Control(const ControlDeps& deps)
      : store_(deps.store),
        log_(deps.log),
        faults_(deps.faults),
        webhooks_(deps.webhooks),
        notifier_(deps.notifier),
        expiry_(deps.expiry),
        routes_(deps.routes),
        default_search_lag_(deps.default_search_lag) {}

  // Answers a request whose path starts with /_emulator. Calls `done` once,
  // possibly later from another thread (webhook delivery).
  void Handle(const Request& req, const Target& target, ReplyCallback done);

 private:
  Response SetStatus(const std::string& id, const Request& req);
  Response AuthorizeIntent(const std::string& id);
  Response ExpireIntent(const std::string& id);
  Response ListRefunds(const std::string& id);
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
  WebhookNotifier* notifier_;
  AutoExpiry* expiry_;
  Routes* routes_;
  std::chrono::milliseconds default_search_lag_;
};

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_CONTROL_H_
