#include "lib/payments/idempotent_creator.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "lib/common/status_details.h"
#include "lib/payments/account_keys.h"
#include "lib/payments/call_budget.h"
#include "lib/payments/fingerprint.h"

namespace payments {
namespace {

using idempotency::Record;
using idempotency::RecordState;

// The id of the intent a succeeded record holds.
std::string RecordedIntentId(const Record& record) {
  if (!record.dojo_id.empty()) return record.dojo_id;
  v1::PaymentIntent intent;
  if (!intent.ParseFromString(record.result)) return "";
  return intent.id();
}

}  // namespace

// One Create call: a small state machine whose steps hop between the worker
// pool (journal I/O), the Dojo client's loop and the timer. The shared_ptr
// travels with each pending step.
class IdempotentCreator::Call final
    : public std::enable_shared_from_this<Call> {
 public:
  Call(IdempotentCreator& creator, v1::CreateIntentRequest request,
       std::string api_key, CallContext context, CreateDone done)
      : creator_(creator),
        key_{idempotency::OperationKind::kCreate, request.account(),
             request.reference()},
        fingerprint_(CreateFingerprint(request)),
        params_(CreateParams(request)),
        key_id_(AccountKeys::KeyId(api_key)),
        owner_(absl::StrCat(creator.options_.instance_id, "/",
                            creator.next_call_id_.fetch_add(1))),
        request_(std::move(request)),
        api_key_(std::move(api_key)),
        budget_(creator.clock_, std::move(context),
                creator.options_.reply_margin, creator.options_.lease_margin,
                creator.options_.settle_reserve),
        done_(std::move(done)),
        poll_delay_(creator.options_.poll_initial) {}

  void Start() {
    if (ReplayedAtOnce()) return;
    OnPool([](Call& self) { self.Reserve(); });
  }

 private:
  // Runs `step` on the worker pool.
  template <typename Step>
  void OnPool(Step step) {
    creator_.pool_.Post([self = shared_from_this(),
                         step = std::move(step)]() mutable { step(*self); });
  }

  absl::Time Now() const { return budget_.Now(); }

  // Kept for the intent's whole life: longer if it expires later than the
  // default retention.
  absl::Duration Retention() const {
    absl::Duration retention = creator_.options_.retention;
    if (request_.has_expire_at()) {
      const absl::Time expires = absl::FromUnixNanos(
          google::protobuf::util::TimeUtil::TimestampToNanoseconds(
              request_.expire_at()));
      retention = std::max(retention, expires - Now() + absl::Hours(24));
    }
    return retention;
  }

  template <typename Op>
  auto Timed(absl::string_view operation, Op op) {
    const absl::Time start = absl::Now();
    auto result = op();
    if (creator_.metrics_ != nullptr) {
      creator_.metrics_->StoreOperation(
          operation, absl::ToDoubleSeconds(absl::Now() - start),
          StatusOf(result).ok());
    }
    return result;
  }
  static absl::Status StatusOf(const absl::Status& status) { return status; }
  template <typename T>
  static absl::Status StatusOf(const absl::StatusOr<T>& result) {
    return result.status();
  }

  void Count(absl::string_view result) {
    if (creator_.metrics_ != nullptr) {
      creator_.metrics_->IdempotencyResult(result);
    }
  }

  // A replay answered on the calling thread, without the hop to the worker
  // pool, when the store can read the record without waiting (see
  // IdempotencyStore::GetWithoutWaiting): the answer Reserve() -> Examine()
  // -> CheckAccount() gives a live succeeded record of this request and
  // this key. False, with nothing done, for anything else: the pool path
  // then decides, from its own read.
  bool ReplayedAtOnce() {
    if (budget_.Exhausted()) return false;
    std::optional<Record> record;
    const absl::Time start = absl::Now();
    if (!creator_.store_.GetWithoutWaiting(key_, Now(), &record)) return false;
    if (creator_.metrics_ != nullptr) {
      creator_.metrics_->StoreOperation(
          "get_at_once", absl::ToDoubleSeconds(absl::Now() - start), true);
    }
    if (!record.has_value() || record->state != RecordState::kSucceeded ||
        record->key_id != key_id_ ||
        !SameFingerprint(record->fingerprint, fingerprint_)) {
      return false;
    }
    Replay(*record);
    return true;
  }

  void Reserve() {
    if (budget_.Exhausted()) return Finish(budget_.Stopped());
    absl::StatusOr<idempotency::ReserveResult> reserved =
        Timed("reserve", [this] {
          return creator_.store_.Reserve(key_, fingerprint_, params_, key_id_,
                                         owner_, Now(), budget_.Lease(),
                                         Retention());
        });
    if (!reserved.ok()) return Finish(JournalUnavailable(reserved.status()));
    if (!reserved->acquired) return Examine(reserved->existing);
    Count("miss");
    absl::Status sent = Timed("mark_sent", [this] {
      return creator_.store_.MarkSent(key_, owner_, Now());
    });
    if (sent.code() == absl::StatusCode::kFailedPrecondition) {
      return Reexamine();  // Settled while we held it: look again.
    }
    if (!sent.ok()) {
      // Nothing was sent. Should Fail not get through either, the lapsed
      // lease lets the reconciler settle the record.
      (void)Timed("fail",
                  [this] { return creator_.store_.Fail(key_, owner_, Now()); });
      return Finish(JournalUnavailable(sent));
    }
    SendCreate();
  }

  // The one attempt of this call. Part of the time is kept for settling an
  // ambiguous answer.
  void SendCreate() {
    sent_ = true;
    creator_.dojo_.CreatePaymentIntent(
        api_key_, request_, budget_.Attempt(),
        [self = shared_from_this()](dojo::CreateAnswer answer) mutable {
          self->OnPool([answer = std::move(answer)](Call& call) mutable {
            call.OnCreated(std::move(answer));
          });
        });
  }

  void OnCreated(dojo::CreateAnswer answer) {
    if (answer.effect == dojo::Effect::kNone) {
      // Dojo holds nothing from this attempt: free the key. Should that
      // fail, the reconciler finds nothing and frees it after the settle
      // period.
      (void)Timed("fail",
                  [this] { return creator_.store_.Fail(key_, owner_, Now()); });
      return Finish(answer.result.status());
    }
    if (answer.effect == dojo::Effect::kHeld && answer.result.ok() &&
        IsIntentOf(*answer.result, key_.reference, params_)) {
      // Should the journal fail here, the record stays kSent until its
      // lease lapses, and the reconciler finds this intent.
      (void)Timed("succeed", [&] {
        return creator_.store_.Succeed(key_, owner_, answer.result->id(),
                                       RecordedIntent(*answer.result), Now());
      });
      return Finish(CreateOutcome{*std::move(answer.result), false});
    }
    // It may exist (or Dojo's answer is not this create's intent): never
    // sent again; settled from Dojo's state.
    if (creator_.metrics_ != nullptr) {
      creator_.metrics_->UnknownOutcome("create_payment_intent");
    }
    absl::Status marked = Timed("mark_unknown", [this] {
      return creator_.store_.MarkUnknown(key_, owner_, Now());
    });
    if (!marked.ok()) return OutcomeUnknown(Now() + absl::Seconds(1));
    Reexamine();
  }

  void Examine(const Record& record) {
    if (!SameFingerprint(record.fingerprint, fingerprint_)) {
      Count("mismatch");
      return Finish(ErrorWithReason(
          absl::StatusCode::kAlreadyExists,
          "this reference was already used with other parameters",
          reason::kReferenceReused, {{"reference", key_.reference}}));
    }
    switch (record.state) {
      case RecordState::kSucceeded:
        return CheckAccount(record);
      case RecordState::kPending:
      case RecordState::kSent:
        if (record.lease_expires_at > Now()) return Wait(record);
        return Settle(record);  // Its owner vanished.
      case RecordState::kUnknown:
        return Settle(record);
      case RecordState::kFailed:
      case RecordState::kSettledNotCreated:
        return Reserve();  // Freed since we looked.
    }
  }

  // Another call holds the key: look again later, while there is time to
  // answer.
  void Wait(const Record& record) {
    if (!waited_) Count("wait");
    waited_ = true;
    if (budget_.context().IsCancelled()) return Finish(budget_.Stopped());
    const absl::Duration delay = poll_delay_;
    if (Now() + delay >= budget_.AnswerBy()) {
      Count("in_progress");
      absl::Status status = ErrorWithReason(
          absl::StatusCode::kAborted,
          "another call with this reference is still in progress",
          reason::kOperationInProgress, {{"reference", key_.reference}});
      SetRetryInfo(status, std::clamp(record.lease_expires_at - Now(),
                                      creator_.options_.poll_initial,
                                      creator_.options_.poll_max));
      return Finish(std::move(status));
    }
    poll_delay_ = std::min(poll_delay_ * 2, creator_.options_.poll_max);
    creator_.timer_.RunAfter(
        delay, [self = shared_from_this()](absl::Status fired) {
          if (!fired.ok()) return self->Finish(ShuttingDown());
          self->OnPool([](Call& call) { call.Reexamine(); });
        });
  }

  void Reexamine() {
    absl::StatusOr<std::optional<Record>> record =
        Timed("get", [this] { return creator_.store_.Get(key_, Now()); });
    if (!record.ok()) return Finish(JournalUnavailable(record.status()));
    if (!record->has_value()) return Reserve();
    Examine(**record);
  }

  // The one reconciliation path, within this call's time.
  void Settle(const Record& record) {
    creator_.reconciler_.Settle(
        record, budget_.UntilAnswer(),
        [self = shared_from_this()](SettleResult result) mutable {
          self->OnSettled(std::move(result));
        });
  }

  void OnSettled(SettleResult result) {
    switch (result.settlement) {
      case Settlement::kFound:
        Count("reconciled");
        return Finish(CreateOutcome{std::move(result.intent), !sent_});
      case Settlement::kNotCreated:
        return Reserve();  // Proven absent: a new attempt cannot duplicate.
      case Settlement::kFailed:
        if (ChangedMeanwhile(result)) return Reexamine();
        [[fallthrough]];
      case Settlement::kPending:
        return OutcomeUnknown(result.next_check_at);
    }
  }

  void OutcomeUnknown(absl::Time next_check_at) {
    absl::Status status = absl::UnavailableError(
        "the payment intent may or may not have been created at Dojo; it is "
        "being checked: call again with the same reference after the "
        "RetryInfo delay");
    SetErrorInfo(status, reason::kOutcomeUnknown,
                 {{"reference", key_.reference}});
    SetRetryInfo(status, std::max(next_check_at - Now(), absl::Seconds(1)));
    Finish(std::move(status));
  }

  // A succeeded record is replayed only to the Dojo account that holds its
  // intent: the same key, or a key shown to see the intent (a rotation).
  void CheckAccount(const Record& record) {
    if (record.key_id == key_id_) return Replay(record);
    if (!record.key_id.empty() && AccountKeys::EnvironmentOf(record.key_id) !=
                                      AccountKeys::EnvironmentOf(key_id_)) {
      return AccountMismatch();
    }
    const std::string id = RecordedIntentId(record);
    if (id.empty()) {
      return Finish(absl::InternalError("the recorded result is unreadable"));
    }
    creator_.dojo_.GetPaymentIntent(
        api_key_, id, /*return_canceled=*/true, budget_.UntilAnswer(),
        [self = shared_from_this(), record,
         id](absl::StatusOr<v1::PaymentIntent> seen) mutable {
          self->OnPool([record = std::move(record), id = std::move(id),
                        seen = std::move(seen)](Call& call) mutable {
            call.OnAccountChecked(record, id, std::move(seen));
          });
        });
  }

  void OnAccountChecked(const Record& record, const std::string& id,
                        absl::StatusOr<v1::PaymentIntent> seen) {
    if (seen.ok() && seen->id() == id) {
      (void)Timed("rebind", [&] {
        return creator_.store_.Rebind(key_, record.version, key_id_);
      });
      Count("rebound");
      return Replay(record);
    }
    if (seen.ok() || seen.status().code() == absl::StatusCode::kNotFound) {
      return AccountMismatch();
    }
    Finish(seen.status());
  }

  void AccountMismatch() {
    Count("account_mismatch");
    Finish(ErrorWithReason(
        absl::StatusCode::kFailedPrecondition,
        "this reference was used with a key of another Dojo account or "
        "environment, whose intent this account's key cannot see",
        reason::kAccountMismatch,
        {{"account", key_.account}, {"reference", key_.reference}}));
  }

  void Replay(const Record& record) {
    v1::PaymentIntent intent;
    if (!intent.ParseFromString(record.result)) {
      return Finish(absl::InternalError("the recorded result is unreadable"));
    }
    Count("replay");
    Finish(CreateOutcome{std::move(intent), /*replay=*/true});
  }

  void Finish(absl::StatusOr<CreateOutcome> outcome) {
    std::move(done_)(std::move(outcome));
  }

  IdempotentCreator& creator_;
  const idempotency::Key key_;
  const std::string fingerprint_;
  const std::string params_;
  const std::string key_id_;
  const std::string owner_;
  const v1::CreateIntentRequest request_;
  const std::string api_key_;
  const CallBudget budget_;
  CreateDone done_;
  absl::Duration poll_delay_;
  bool waited_ = false;
  // This call sent a create (so an intent found for it is not a replay).
  bool sent_ = false;
};

IdempotentCreator::IdempotentCreator(idempotency::IdempotencyStore& store,
                                     idempotency::WorkerPool& pool,
                                     dojo::DojoClient& dojo,
                                     Reconciler& reconciler, const Clock& clock,
                                     Timer& timer, IdempotencyOptions options,
                                     metrics::Metrics* metrics)
    : store_(store),
      pool_(pool),
      dojo_(dojo),
      reconciler_(reconciler),
      clock_(clock),
      timer_(timer),
      options_(std::move(options)),
      metrics_(metrics) {}

void IdempotentCreator::Create(const v1::CreateIntentRequest& request,
                               std::string api_key, const CallContext& context,
                               CreateDone done) {
  std::make_shared<Call>(*this, request, std::move(api_key), context,
                         std::move(done))
      ->Start();
}

}  // namespace payments
