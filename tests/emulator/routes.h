// The emulated Dojo REST API: /payment-intents and friends.
#ifndef TESTS_EMULATOR_ROUTES_H_
#define TESTS_EMULATOR_ROUTES_H_

#include <string>

#include "tests/emulator/account_registry.h"
#include "tests/emulator/http_types.h"
#include "tests/emulator/intent_store.h"
#include "tests/emulator/timestamps.h"

namespace dojo_emulator {

// The circumstances of one request.
struct RequestContext {
  TimePoint received_at = Clock::now();  // "now" for everything it does
  // The store batch its writes go to; kNoBatch: they are visible at once.
  IntentStore::Batch batch = IntentStore::kNoBatch;
};

struct RouteResult {
  Response response;
  std::string intent_id;  // the intent the request created or addressed
};

// Thread-safe (the store is).
class Routes final {
 public:
  explicit Routes(IntentStore* store) : store_(store) {}

  // Answers one request whose Authorization header was checked as `auth`.
  // Every response carries `trace_id` (problem bodies and x-trace-id).
  RouteResult Handle(const Request& req, const Target& target,
                     const AuthResult& auth, const std::string& trace_id,
                     const RequestContext& ctx);

 private:
  RouteResult Create(const Request& req, const std::string& account,
                     const std::string& trace_id, const RequestContext& ctx);
  RouteResult Get(const std::string& id, const Target& target,
                  const std::string& account, const std::string& trace_id);
  RouteResult Refresh(const std::string& id, const std::string& account,
                      const std::string& trace_id, const RequestContext& ctx);
  RouteResult Cancel(const std::string& id, const std::string& account,
                     const std::string& trace_id, const RequestContext& ctx);
  RouteResult Search(const Request& req, const std::string& account,
                     const std::string& trace_id);

  IntentStore* store_;
};

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_ROUTES_H_
