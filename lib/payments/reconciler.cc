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
#include "lib/payments/lifecycle_rules.h"
#include "lib/payments/operation_params.h"

namespace payments {
namespace {

using idempotency::Record;
using idempotency::RecordState;

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

// Dojo's 409 to a refund sent again with its idempotencyKey: a request
// with that key is still being processed (or the key holds a refund), so it
// is no evidence that the refund does not exist.
bool IsConflict(const absl::Status& status) {
  std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(status);
  return info.has_value() && info->reason() == reason::kDojoConflict;
}

}  // namespace

bool ChangedMeanwhile(const SettleResult& result) {
  return result.settlement == Settlement::kFailed &&
         result.error.code() == absl::StatusCode::kFailedPrecondition &&
         !GetErrorInfo(result.error).has_value();
}

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
      absl::Status status = absl::FailedPreconditionError(
          "the operation's account is no longer configured");
      SetErrorInfo(status, reason::kUnknownAccount,
                   {{"account", record_.key.account}});
      return Failed(std::move(status));
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
    api_key_ = std::string(*key);
    switch (record_.key.kind) {
      case idempotency::OperationKind::kCreate:
        return SearchForCreate();
      case idempotency::OperationKind::kIntentLock:
        return SettleLock();
      case idempotency::OperationKind::kRefund:
        return ResendRefund();
      case idempotency::OperationKind::kCapture:
      case idempotency::OperationKind::kReversal:
      case idempotency::OperationKind::kCancel:
        return ReadIntent();
    }
  }

  // A create: search the attempt's window for intents with its reference.
  void SearchForCreate() {
    r_.dojo_.FindIntentsByReference(
        api_key_, record_.key.reference,
        record_.sent_at - r_.options_.clock_skew,
        AttemptEnd(record_) + r_.options_.clock_skew, context_,
        [self = shared_from_this()](
            absl::StatusOr<std::vector<v1::PaymentIntent>> found) mutable {
          self->r_.pool_.Post([self, found = std::move(found)]() mutable {
            self->OnSearched(self->api_key_, std::move(found));
          });
        });
  }

  // A capture, reversal or cancel: Dojo's intent tells whether it happened.
  void ReadIntent() {
    std::optional<OperationParams> params =
        OperationParams::FromJson(record_.params);
    if (!params.has_value()) {
      return Failed(absl::InternalError("journaled params are unreadable"));
    }
    r_.dojo_.GetPaymentIntent(
        api_key_, params->intent_id, /*return_canceled=*/true, context_,
        [self = shared_from_this(),
         params = *params](absl::StatusOr<v1::PaymentIntent> intent) mutable {
          self->r_.pool_.Post([self, params = std::move(params),
                               intent = std::move(intent)]() mutable {
            self->OnIntentRead(params, std::move(intent));
          });
        });
  }

  void OnIntentRead(const OperationParams& params,
                    absl::StatusOr<v1::PaymentIntent> intent) {
    if (!intent.ok()) return Failed(intent.status());
    const OperationEvidence evidence =
        EvidenceOf(record_.key.kind, params, *intent);
    if (evidence.happened) {
      absl::Status resolved = r_.store_.Resolve(
          record_.key, record_.version, evidence.dojo_id, "", r_.clock_.Now());
      if (!resolved.ok()) return Finish(Failure(std::move(resolved)));
      Count("found");
      SettleResult found = Outcome(Settlement::kFound);
      found.intent = *std::move(intent);
      found.dojo_id = evidence.dojo_id;
      return Finish(std::move(found));
    }
    if (evidence.impossible) return SettleNotCreated("not_created");
    Absent();
  }

  // A refund carries Dojo's idempotencyKey: sending it again returns the
  // first refund if there was one, so it is settled by asking again.
  void ResendRefund() {
    std::optional<OperationParams> params =
        OperationParams::FromJson(record_.params);
    const size_t slash = record_.key.reference.find('/');
    if (!params.has_value() || slash == std::string::npos) {
      return Failed(absl::InternalError("journaled params are unreadable"));
    }
    r_.dojo_.RefundPaymentIntent(
        api_key_, params->intent_id,
        RefundIdempotencyKey(record_.key.account, params->intent_id,
                             record_.key.reference.substr(slash + 1)),
        params->amount, params->reason, params->notes, context_,
        [self = shared_from_this(), amount = params->amount](
            dojo::OperationAnswer<v1::Refund> answer) mutable {
          self->r_.pool_.Post(
              [self, amount, answer = std::move(answer)]() mutable {
                self->OnRefundAnswer(amount, std::move(answer));
              });
        });
  }

  void OnRefundAnswer(int64_t amount,
                      dojo::OperationAnswer<v1::Refund> answer) {
    if (answer.effect == dojo::Effect::kNone) {
      // A 409 is no evidence of absence: looked at again later, until the
      // settle period has passed.
      if (IsConflict(answer.result.status())) return Absent();
      return SettleNotCreated("not_created");
    }
    if (answer.effect != dojo::Effect::kHeld || !answer.result.ok()) {
      return Failed(answer.result.status());
    }
    answer.result->set_amount(amount);
    absl::Status resolved =
        r_.store_.Resolve(record_.key, record_.version, answer.result->id(),
                          answer.result->SerializeAsString(), r_.clock_.Now());
    if (!resolved.ok()) return Finish(Failure(std::move(resolved)));
    Count("found");
    SettleResult found = Outcome(Settlement::kFound);
    found.dojo_id = answer.result->id();
    found.result = answer.result->SerializeAsString();
    Finish(std::move(found));
  }

  // An intent lock is released once the operation it guards is settled.
  void SettleLock() {
    std::optional<OperationParams> params =
        OperationParams::FromJson(record_.params);
    if (!params.has_value() || !params->guarded.has_value()) {
      return SettleNotCreated("not_created");  // Guards nothing.
    }
    idempotency::Key guarded = *params->guarded;
    guarded.account = record_.key.account;
    absl::StatusOr<std::optional<Record>> operation =
        r_.store_.Get(guarded, r_.clock_.Now());
    if (!operation.ok()) return Failed(operation.status());
    if (!operation->has_value() || IsSettled((*operation)->state)) {
      return SettleNotCreated("not_created");
    }
    if (!NeedsSettling(**operation)) {
      // Still in its owner's hands: the lock stays.
      return Failed(absl::UnavailableError(
          "the operation the intent lock guards is still in flight"));
    }
    r_.Settle(**operation, context_,
              [self = shared_from_this()](SettleResult result) mutable {
                if (result.settlement == Settlement::kFound ||
                    result.settlement == Settlement::kNotCreated) {
                  return self->SettleNotCreated("not_created");
                }
                // Another settler (the operation's own call, or this
                // round settling it too) got there first: look again.
                if (ChangedMeanwhile(result) && !self->looked_again_) {
                  self->looked_again_ = true;
                  return self->SettleLock();
                }
                self->Failed(absl::UnavailableError(
                    "the operation the intent lock guards is not settled"));
              });
  }

  static bool IsSettled(RecordState state) {
    return state == RecordState::kSucceeded || idempotency::IsFree(state);
  }

  // Whether `record` still waits for a settlement (unknown, or abandoned by
  // its owner).
  bool NeedsSettling(const Record& record) const {
    if (record.state == RecordState::kUnknown) return true;
    return (record.state == RecordState::kPending ||
            record.state == RecordState::kSent) &&
           record.lease_expires_at <= r_.clock_.Now();
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
              dojo::OperationAnswer<v1::PaymentIntent> answer) mutable {
            const absl::StatusOr<v1::PaymentIntent>& canceled = answer.result;
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
      r_.metrics_->Reconciliation(
          idempotency::OperationKindName(record_.key.kind), result);
    }
  }

  void Finish(SettleResult result) { std::move(done_)(std::move(result)); }

  Reconciler& r_;
  const Record record_;
  const CallContext context_;
  SettleDone done_;
  std::string api_key_;
  // SettleLock read the guarded operation again after losing a race.
  bool looked_again_ = false;
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
  timer_.RunAfter(delay, [life = life_](absl::Status fired) {
    if (!fired.ok()) return;  // Shutting down: no further rounds.
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
      {"create", {0, 0}},   {"capture", {0, 0}}, {"refund", {0, 0}},
      {"reversal", {0, 0}}, {"cancel", {0, 0}},  {"intent_lock", {0, 0}}};
  for (const idempotency::UnknownSummary& kind : *summary) {
    by_kind[idempotency::OperationKindName(kind.kind)] = {
        kind.count, absl::ToDoubleSeconds(kind.oldest - absl::UnixEpoch())};
  }
  for (const auto& [kind, values] : by_kind) {
    metrics_->SetUnknownOperations(kind, values.first, values.second);
  }
}

}  // namespace payments
