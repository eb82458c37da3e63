// Ties the emulator together: routes each request to the Dojo API or the
// control API, applies scripted faults and records the request log.
#ifndef TESTS_EMULATOR_EMULATOR_H_
#define TESTS_EMULATOR_EMULATOR_H_

#include <boost/asio/any_io_executor.hpp>
#include <chrono>

#include "tests/emulator/account_registry.h"
#include "tests/emulator/control.h"
#include "tests/emulator/faults.h"
#include "tests/emulator/http_types.h"
#include "tests/emulator/intent_store.h"
#include "tests/emulator/request_log.h"
#include "tests/emulator/routes.h"
#include "tests/emulator/webhook_client.h"

namespace dojo_emulator {

// Thread-safe; Handle may run concurrently on every io_context thread.
class Emulator final {
 public:
  // `search_lag` is the initial (and reset) search lag.
  Emulator(boost::asio::any_io_executor executor, AccountRegistry accounts,
           std::chrono::milliseconds search_lag = {});

  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // The server's request handler.
  void Handle(Request req, ReplyCallback done);

 private:
  void HandleDojo(const Request& req, const Target& target, ReplyCallback done);

  boost::asio::any_io_executor executor_;
  AccountRegistry accounts_;
  IntentStore store_;
  RequestLog log_;
  FaultRegistry faults_;
  WebhookClient webhooks_;
  Routes routes_;
  Control control_;
};

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_EMULATOR_H_
