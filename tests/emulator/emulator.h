// Ties the emulator together: routes each request to the Dojo API or the
// control API, applies scripted faults and records the request log.
#ifndef TESTS_EMULATOR_EMULATOR_H_
#define TESTS_EMULATOR_EMULATOR_H_

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <string>

#include "tests/emulator/account_registry.h"
#include "tests/emulator/auto_expiry.h"
#include "tests/emulator/control.h"
#include "tests/emulator/faults.h"
#include "tests/emulator/http_types.h"
#include "tests/emulator/intent_store.h"
#include "tests/emulator/request_log.h"
#include "tests/emulator/routes.h"
#include "tests/emulator/webhook_client.h"
#include "tests/emulator/webhook_notifier.h"

namespace dojo_emulator {

// The flags' settings; each is also what POST /_emulator/reset restores.
struct EmulatorOptions {
  std::chrono::milliseconds search_lag{0};
  std::string webhook_url;  // "" = no status webhooks
  std::string webhook_secret;
  double auto_expire_scale = 1.0;  // 0 < scale <= 1
};

// Thread-safe; Handle may run concurrently on every io_context thread.
class Emulator final {
 public:
  Emulator(boost::asio::any_io_executor executor, AccountRegistry accounts,
           const EmulatorOptions& options = {});
  ~Emulator() { Shutdown(); }

  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // The server's request handler.
  void Handle(Request req, ReplyCallback done);

  // Cancels the auto-expiry timers and starts no new ones. Call before
  // stopping the io_context. Pending commits and webhook deliveries are
  // abandoned with the io_context.
  void Shutdown() { expiry_.Shutdown(); }

 private:
  void HandleDojo(const Request& req, const Target& target, ReplyCallback done);

  boost::asio::any_io_executor executor_;
  AccountRegistry accounts_;
  IntentStore store_;
  RequestLog log_;
  FaultRegistry faults_;
  WebhookClient webhooks_;
  WebhookNotifier notifier_;
  AutoExpiry expiry_;
  Routes routes_;
  Control control_;
};

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_EMULATOR_H_
