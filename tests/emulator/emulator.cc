#include "tests/emulator/emulator.h"

#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "tests/emulator/random_ids.h"
#include "tests/emulator/timestamps.h"

namespace dojo_emulator {

Emulator::Emulator(boost::asio::any_io_executor executor,
                   AccountRegistry accounts, const EmulatorOptions& options)
    : executor_(executor),
      accounts_(std::move(accounts)),
      webhooks_(executor),
      notifier_(&webhooks_, options.webhook_url, options.webhook_secret),
      expiry_(executor, &store_, options.auto_expire_scale),
      routes_(&store_),
      control_(ControlDeps{&store_, &log_, &faults_, &webhooks_, &notifier_,
                           &expiry_, &routes_, options.search_lag}) {
  store_.SetSearchLag(options.search_lag);
  // Every committed status change: start or drop the expiry timer, and send
  // the status webhook.
  store_.SetStatusListener(
      [this](const StoredIntent& intent, const std::string& /*old_status*/) {
        expiry_.OnStatusChange(intent);
        notifier_.OnStatusChange(intent);
      });
}

void Emulator::Handle(Request req, ReplyCallback done) {
  Target target = SplitTarget(req.target());
  if (target.path == "/_emulator" || target.path.rfind("/_emulator/", 0) == 0) {
    control_.Handle(req, target, std::move(done));
    return;
  }
  HandleDojo(req, target, std::move(done));
}

void Emulator::HandleDojo(const Request& req, const Target& target,
                          ReplyCallback done) {
  std::optional<std::string_view> auth_header;
  if (auto it = req.find(http::field::authorization); it != req.end()) {
    auth_header = it->value();
  }
  AuthResult auth = accounts_.Authenticate(auth_header);
  std::string trace_id = NewTraceId();
  RequestContext ctx;  // received now

  LogEntry entry;
  entry.received_at = FormatTimestamp(ctx.received_at);
  entry.method = std::string(req.method_string());
  entry.path = target.path;
  entry.query = target.query;
  if (auto it = req.find("version"); it != req.end()) {
    entry.version = std::string(it->value());
  }
  entry.account = auth.account;
  entry.authorization = std::string(OutcomeName(auth.outcome));
  if (auto it = req.find(http::field::content_type); it != req.end()) {
    entry.content_type = std::string(it->value());
  }
  if (auto it = req.find("idempotencyKey"); it != req.end()) {
    entry.idempotency_key = std::string(it->value());
  }
  entry.body = req.body();

  Reply reply;
  std::optional<FaultStep> step = faults_.Next(entry.method, target.path);
  const bool slow_commit = step && step->commit_delay.count() > 0;
  if (slow_commit) ctx.batch = store_.NewBatch();
  if (step && !step->RunsHandler()) {
    reply.response = RenderFaultResponse(*step, trace_id);
  } else {
    RouteResult result = routes_.Handle(req, target, auth, trace_id, ctx);
    reply.response = std::move(result.response);
    entry.intent_id = std::move(result.intent_id);
    if (step && step->process_then_status) {
      // The effect happened; the answer says it failed.
      FaultStep answer = *step;
      answer.status = step->process_then_status;
      reply.response = RenderFaultResponse(answer, trace_id);
    }
  }
  if (step) {
    entry.faulted = true;
    reply.delay = step->delay;
    reply.drop = step->drop || step->process_then_drop;
  }
  entry.status = reply.drop ? 0 : reply.response.result_int();
  log_.Append(std::move(entry));
  if (!slow_commit) return done(std::move(reply));

  // Slow commit: publish the handler's writes, and only then release the
  // answer (or the drop; `delay` then counts from the commit). The timer
  // parks no thread, and the commit happens even if the client has gone.
  // At shutdown a pending commit is abandoned with the io_context.
  auto timer = std::make_shared<boost::asio::steady_timer>(executor_,
                                                           step->commit_delay);
  timer->async_wait(
      [this, timer, batch = ctx.batch, reply = std::move(reply),
       done = std::move(done)](boost::system::error_code) mutable {
        store_.Commit(batch);
        done(std::move(reply));
      });
}

}  // namespace dojo_emulator
