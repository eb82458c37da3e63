#include "lib/payments/reconciler.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/common/logger.h"
#include "lib/common/status_details.h"
#include "lib/payments/fingerprint.h"

namespace payments {
namespace {

using idempotency::Record;
using idempotency::RecordState;

const char* KindName(idempotency::OperationKind kind) {
  switch (kind) {
    case idempotency::OperationKind::kCreate:
      return "create";
    case idempotency::OperationKind::kCapture:
      return "capture";
    case idempotency::OperationKind::kRefund:
      return "refund";
    case idempotency::OperationKind::kReversal:
      return "reversal";
    case idempotency::OperationKind::kCancel:
      return "cancel";
  }
  return "create";
}

// When the record's current attempt stopped being able to reach Dojo: its
// recorded end, or, for an owner that vanished mid-attempt, its lease.
absl::Time AttemptEnd(const Record& record) {
  return record.ended_at != absl::InfinitePast() ? record.ended_at
                                                 : record.lease_expires_at;
}

SettleResult Outcome(Settlement settlement) {
  SettleResult result;
  result.settlement = settlement;
  return result;
}

SettleResult Failure(absl::Status error,
                     absl::Time next_check_at = absl::InfinitePast()) {
  SettleResult result = Outcome(Settlement::kFailed);
  result.error = std::move(error);
  result.next_check_at = next_check_at;
  return result;
}

CallContext Until(absl::Time deadline) {
  CallContext context;
  context.deadline = deadline;
  return context;
}

}  // namespace

std::string RecordedIntent(const v1::PaymentIntent& intent) {
  v1::PaymentIntent recorded = intent;
  recorded.clear_client_session_secret();
  recorded.clear_client_session_secret_expires_at();
  return recorded.SerializeAsString();
}

// One settlement: steps hop between the pool (journal) and the Dojo
// client's loop; the shared_ptr travels with each pending step.
class Reconciler::Settling final
    : public std::enable_shared_from_this<Settling> {
 public:
  Settling(Reconciler& reconciler, Record record, CallContext context,
           SettleDone done)
      : r_(reconciler),
        record_(std::move(record)),
        context_(std::move(context)),
        done_(std::move(done)) {}

  void Start() {
    r_.pool_.Post([self = shared_from_this()] { self->Begin(); });
  }

 private:
  void Begin() {
    if (record_.state == RecordState::kPending) {
      // Its owner vanished before MarkSent: nothing was ever sent.
      return SettleNotCreated("unsent");
    }
    const std::shared_ptr<const AccountKeys> accounts = r_.accounts_.Get();
    absl::StatusOr<absl::string_view> key = accounts->KeyFor(
        record_.key.account.empty() ? accounts->default_account()
                                    : record_.key.account);
    if (!key.ok()) {
      return Failed(absl::FailedPreconditionError(
          "the operation's account is no longer configured"));
    }
    if (!record_.key_id.empty() &&
        AccountKeys::EnvironmentOf(record_.key_id) !=
            AccountKeys::EnvironmentOf(AccountKeys::KeyId(*key))) {
      absl::Status status = absl::FailedPreconditionError(
          "the operation was sent with a key of another Dojo environment");
      SetErrorInfo(status, reason::kAccountMismatch,
                   {{"account", record_.key.account}});
      return Failed(std::move(status));
    }
    r_.dojo_.FindIntentsByReference(
        *key, record_.key.reference,
        record_.sent_at - r_.options_.clock_skew,
        AttemptEnd(record_) + r_.options_.clock_skew, context_,
        [self = shared_from_this(), key = std::string(*key)](
            absl::StatusOr<std::vector<v1::PaymentIntent>> found) mutable {
          self->r_.pool_.Post([self, key = std::move(key),
                               found = std::move(found)]() mutable {
            self->OnSearched(key, std::move(found));
          });
        });
  }

  void OnSearched(const std::string& api_key,
                  absl::StatusOr<std::vector<v1::PaymentIntent>> found) {
    if (!found.ok()) return Failed(found.status());
    std::vector<v1::PaymentIntent> ours;
    for (v1::PaymentIntent& intent : *found) {
      if (IsIntentOf(intent, record_.key.reference, record_.params)) {
        ours.push_back(std::move(intent));
      }
    }
    if (ours.empty()) return Absent();
    // Keep the journaled intent if there is one, else the oldest.
    auto kept = std::find_if(ours.begin(), ours.end(), [&](const auto& i) {
      return !record_.dojo_id.empty() && i.id() == record_.dojo_id;
    });
    if (kept == ours.end()) kept = ours.begin();
    v1::PaymentIntent intent = *kept;
    absl::Status resolved =
        r_.store_.Resolve(record_.key, record_.version, intent.id(),
                          RecordedIntent(intent), r_.clock_.Now());
    if (!resolved.ok()) return Finish(Failure(std::move(resolved)));
    Count("found");
    ours.erase(kept);
    SweepDuplicates(api_key, intent.id(), ours);
    SettleResult found_result = Outcome(Settlement::kFound);
    found_result.intent = std::move(intent);
    Finish(std::move(found_result));
  }

  // Nothing found: settled only with the settle period behind us.
  void Absent() {
    const absl::Time now = r_.clock_.Now();
    const absl::Time settled_at =
        AttemptEnd(record_) + r_.options_.settle_period;
    if (now >= settled_at) return SettleNotCreated("not_created");
    const absl::Duration delay =
        std::clamp(now - AttemptEnd(record_), r_.options_.recheck_initial,
                   r_.options_.recheck_max);
    const absl::Time next = std::min(now + delay, settled_at);
    absl::Status rescheduled =
        r_.store_.Reschedule(record_.key, record_.version, next);
    if (!rescheduled.ok()) return Finish(Failure(std::move(rescheduled)));
    Count("pending");
    SettleResult pending = Outcome(Settlement::kPending);
    pending.next_check_at = next;
    Finish(std::move(pending));
  }

  void SettleNotCreated(absl::string_view result) {
    absl::Status settled = r_.store_.SettleNotCreated(
        record_.key, record_.version, r_.clock_.Now());
    if (!settled.ok()) return Finish(Failure(std::move(settled)));
    Count(result);
    Finish(Outcome(Settlement::kNotCreated));
  }

  // Dojo (or the account) could not be asked: look again later.
  void Failed(absl::Status error) {
    Count("failed");
    const absl::Time next = r_.clock_.Now() + r_.options_.recheck_initial;
    (void)r_.store_.Reschedule(record_.key, record_.version, next);
    Finish(Failure(std::move(error), next));
  }

  // Every other intent made for this operation: cancel it while it is
  // Created (nobody can have paid it), report it in any case.
  void SweepDuplicates(const std::string& api_key, const std::string& kept,
                       const std::vector<v1::PaymentIntent>& duplicates) {
    for (const v1::PaymentIntent& duplicate : duplicates) {
      LogFields fields = {{"account", record_.key.account},
                          {"reference", record_.key.reference},
                          {"kept_intent_id", kept},
                          {"duplicate_intent_id", duplicate.id()}};
      if (duplicate.status() != v1::PAYMENT_INTENT_STATUS_CREATED) {
        Duplicate("kept", LogLevel::kError, fields);
        continue;
      }
      metrics::Metrics* metrics = r_.metrics_;
      r_.dojo_.CancelPaymentIntent(
          api_key, duplicate.id(),
          Until(r_.clock_.Now() + r_.options_.settle_timeout),
          [metrics, fields = std::move(fields)](
              absl::StatusOr<v1::PaymentIntent> canceled) mutable {
            if (!canceled.ok()) {
              fields.emplace_back("error",
                                  std::string(canceled.status().message()));
            }
            Duplicate(canceled.ok() ? "canceled" : "cancel_failed",
                      canceled.ok() ? LogLevel::kWarning : LogLevel::kError,
                      fields, metrics);
          });
    }
  }

  void Duplicate(absl::string_view action, LogLevel level,
                 const LogFields& fields) {
    Duplicate(action, level, fields, r_.metrics_);
  }
  static void Duplicate(absl::string_view action, LogLevel level,
                        LogFields fields, metrics::Metrics* metrics) {
    if (metrics != nullptr) metrics->DuplicateIntent(action);
    fields.emplace_back("action", std::string(action));
    Log(level, "duplicate_intent", fields);
  }

  void Count(absl::string_view result) {
    if (r_.metrics_ != nullptr) {
      r_.metrics_->Reconciliation(KindName(record_.key.kind), result);
    }
  }

  void Finish(SettleResult result) { std::move(done_)(std::move(result)); }

  Reconciler& r_;
  const Record record_;
  const CallContext context_;
  SettleDone done_;
};

Reconciler::Reconciler(idempotency::IdempotencyStore& store,
                       idempotency::WorkerPool& pool, dojo::DojoClient& dojo,
                       const Reloadable<AccountKeys>& accounts,
                       const Clock& clock, Timer& timer,
                       ReconcilerOptions options, metrics::Metrics* metrics)
    : store_(store),
      pool_(pool),
      dojo_(dojo),
      accounts_(accounts),
      clock_(clock),
      timer_(timer),
      options_(std::move(options)),
      metrics_(metrics),
      life_(std::make_shared<Life>()) {
  life_->reconciler = this;
}

Reconciler::~Reconciler() {
  Stop();
  absl::MutexLock lock(&life_->mu);
  life_->reconciler = nullptr;
}

void Reconciler::Settle(const Record& record, const CallContext& context,
                        SettleDone done) {
  std::make_shared<Settling>(*this, record, context, std::move(done))->Start();
}

void Reconciler::Start() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ || round_running_) return;
    round_running_ = true;
  }
  RunRound([this](int claimed) {
    // A full batch suggests more is due: the next round follows at once.
    ScheduleRound(claimed == options_.concurrency ? absl::ZeroDuration()
                                                  : options_.poll_interval);
  });
}

void Reconciler::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  mu_.Await(absl::Condition(
      +[](bool* running) { return !*running; }, &round_running_));
}

void Reconciler::ScheduleRound(absl::Duration delay) {
  {
    absl::MutexLock lock(&mu_);
    round_running_ = false;
    if (stopping_) return;
  }
  // The timer may outlive the reconciler: it reaches it through `life_`.
  timer_.RunAfter(delay, [life = life_] {
    absl::MutexLock lock(&life->mu);
    if (life->reconciler != nullptr) life->reconciler->Start();
  });
}

void Reconciler::RunRound(absl::AnyInvocable<void(int claimed) &&> done) {
  pool_.Post([this, done = std::move(done)]() mutable {
    const absl::Time now = clock_.Now();
    RefreshGauges(now);
    absl::StatusOr<std::vector<Record>> due =
        store_.ClaimDue(now, options_.instance_id, 2 * options_.settle_timeout,
                        options_.concurrency);
    if (!due.ok() || due->empty()) return std::move(done)(0);
    const int claimed = static_cast<int>(due->size());
    struct Round {
      std::atomic<int> remaining;
      absl::AnyInvocable<void(int) &&> done;
    };
    auto round = std::make_shared<Round>();
    round->remaining = claimed;
    round->done = std::move(done);
    for (const Record& record : *due) {
      Settle(record, Until(now + options_.settle_timeout),
             [round, claimed](SettleResult) {
               if (round->remaining.fetch_sub(1) == 1) {
                 std::move(round->done)(claimed);
               }
             });
    }
  });
}

void Reconciler::RefreshGauges(absl::Time now) {
  if (metrics_ == nullptr) return;
  absl::StatusOr<std::vector<idempotency::UnknownSummary>> summary =
      store_.SummarizeUnknown(now);
  if (!summary.ok()) return;
  std::map<std::string, std::pair<int64_t, double>> by_kind = {
      {"create", {0, 0}}};
  for (const idempotency::UnknownSummary& kind : *summary) {
    by_kind[KindName(kind.kind)] = {
        kind.count,
        std::max(0.0, absl::ToDoubleSeconds(now - kind.oldest))};
  }
  for (const auto& [kind, values] : by_kind) {
    metrics_->SetUnknownOperations(kind, values.first, values.second);
  }
}

}  // namespace payments
