// The emulated Dojo REST API: /payment-intents and friends.
#ifndef TESTS_EMULATOR_ROUTES_H_
#define TESTS_EMULATOR_ROUTES_H_

#include <atomic>
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

  // What a refund whose idempotencyKey was already used on the intent, but
  // with a different body, gets: false (the default) -> 409 Conflict; true
  // -> the first refund again (see README.md).
  void SetReplayMismatchedRefunds(bool replay) { replay_mismatched_ = replay; }
  bool ReplayMismatchedRefunds() const { return replay_mismatched_; }

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
  RouteResult Capture(const Request& req, const std::string& id,
                      const std::string& account, const std::string& trace_id,
                      const RequestContext& ctx);
  RouteResult Reverse(const std::string& id, const std::string& account,
                      const std::string& trace_id, const RequestContext& ctx);
  RouteResult Refund(const Request& req, const std::string& id,
                     const std::string& account, const std::string& trace_id,
                     const RequestContext& ctx);
  RouteResult GetRefund(const std::string& refund_id,
                        const std::string& account,
                        const std::string& trace_id);
  RouteResult SetAmount(const Request& req, const std::string& id,
                        const std::string& account, const std::string& trace_id,
                        const RequestContext& ctx);

  IntentStore* store_;
  std::atomic<bool> replay_mismatched_{false};
};

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_ROUTES_H_
