#include "lib/payments/intent_operations.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/common/status_details.h"
#include "lib/payments/account_keys.h"
#include "lib/payments/call_budget.h"
#include "lib/payments/fingerprint.h"
#include "lib/payments/lifecycle_rules.h"

namespace payments {
namespace {

using idempotency::Key;
using idempotency::OperationKind;
using idempotency::Record;
using idempotency::RecordState;

// Whether a refusal of `kind` by Dojo may still hide its effect: the Dojo
// client sends refunds (same idempotencyKey) and cancels (DELETE) again
// after a lost answer, so their 409 may answer a repeat of a request that
// took effect or is still being processed (a refund under way, an intent
// the first DELETE canceled). Captures and reversals are never re-sent:
// their 409 is a plain refusal.
bool MayHideEffect(OperationKind kind, const absl::Status& status) {
  if (kind != OperationKind::kRefund && kind != OperationKind::kCancel) {
    return false;
  }
  std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(status);
  return info.has_value() && info->reason() == reason::kDojoConflict;
}

// What a sent operation produced.
struct Produced {
  std::string dojo_id;
  v1::Refund refund;
};

}  // namespace

// One operation call: a state machine whose steps hop between the worker
// pool (journal), the Dojo client's loop and the timer; the shared_ptr
// travels with each pending step.
class IntentOperations::Call final : public std::enable_shared_from_this<Call> {
 public:
  Call(IntentOperations& ops, OperationRequest request, CallContext context,
       OperationDone done)
      : ops_(ops),
        request_(std::move(request)),
        op_key_{request_.kind, request_.account,
                request_.key.empty()
                    ? request_.params.intent_id
                    : KeyedReference(request_.params.intent_id, request_.key)},
        lock_key_{OperationKind::kIntentLock, request_.account,
                  request_.params.intent_id},
        fingerprint_(OperationFingerprint(request_.kind, request_.params)),
        key_id_(AccountKeys::KeyId(request_.api_key)),
        owner_(absl::StrCat(ops.options_.instance_id, "/op",
                            ops.next_call_id_.fetch_add(1))),
        budget_(ops.clock_, std::move(context), ops.options_.reply_margin,
                ops.options_.lease_margin, ops.options_.settle_reserve),
        done_(std::move(done)),
        poll_delay_(ops.options_.poll_initial) {
    lock_params_.intent_id = request_.params.intent_id;
    lock_params_.guarded = op_key_;
  }

  void Start() {
    OnPool([](Call& self) { self.Examine(); });
  }

 private:
  template <typename Step>
  void OnPool(Step step) {
    ops_.pool_.Post([self = shared_from_this(),
                     step = std::move(step)]() mutable { step(*self); });
  }

  absl::Time Now() const { return budget_.Now(); }
  const char* Kind() const {
    return idempotency::OperationKindName(request_.kind);
  }
  void Count(absl::string_view result) {
    if (ops_.metrics_ != nullptr) {
      ops_.metrics_->LifecycleOperation(Kind(), result);
    }
  }

  // The operation's own record decides first: replay, refuse, wait, settle
  // or go on.
  void Examine() {
    if (budget_.Exhausted()) return Finish(budget_.Stopped());
    absl::StatusOr<std::optional<Record>> record =
        ops_.store_.Get(op_key_, Now());
    if (!record.ok()) return Finish(JournalUnavailable(record.status()));
    if (!record->has_value()) return AcquireLock();
    const Record& existing = **record;
    if (!SameFingerprint(existing.fingerprint, fingerprint_)) {
      Count("mismatch");
      return Finish(ErrorWithReason(
          absl::StatusCode::kAlreadyExists,
          absl::StrCat("this ", Kind(),
                       " key was already used with other "
                       "parameters"),
          request_.kind == OperationKind::kCapture ? "CAPTURE_KEY_REUSED"
                                                   : "REFUND_KEY_REUSED",
          {{absl::StrCat(Kind(), "_key"), request_.key}}));
    }
    switch (existing.state) {
      case RecordState::kSucceeded:
        // Sent by this call and settled by another settler: the lock this
        // call left unknown is freed here too.
        if (sent_) ReleaseSettledLock();
        Count("replay");
        return ReadBack(existing.dojo_id, existing.result, /*replay=*/true);
      case RecordState::kPending:
      case RecordState::kSent:
        if (existing.lease_expires_at > Now()) {
          return Wait(existing.lease_expires_at,
                      [](Call& call) { call.Examine(); });
        }
        return Settle(existing);
      case RecordState::kUnknown:
        return Settle(existing);
      case RecordState::kFailed:
      case RecordState::kSettledNotCreated:
        return AcquireLock();
    }
  }

  // The intent lock serialises every money-moving operation on the intent.
  void AcquireLock() {
    if (++lock_attempts_ > 100 || Now() >= budget_.AnswerBy()) {
      return InProgress(Now() + ops_.options_.poll_max);
    }
    absl::StatusOr<idempotency::ReserveResult> reserved = ops_.store_.Reserve(
        lock_key_, "lock", lock_params_.ToJson(), key_id_, owner_, Now(),
        budget_.Lease(), ops_.options_.retention);
    if (!reserved.ok()) return Finish(JournalUnavailable(reserved.status()));
    if (reserved->acquired) return ReadIntent();
    const Record& lock = reserved->existing;
    const bool live = (lock.state == RecordState::kPending ||
                       lock.state == RecordState::kSent) &&
                      lock.lease_expires_at > Now();
    if (live) {
      return Wait(lock.lease_expires_at,
                  [](Call& call) { call.AcquireLock(); });
    }
    // An earlier operation on the intent left it unknown (or its owner
    // died): settle that first.
    ops_.reconciler_.Settle(
        lock, budget_.UntilAnswer(),
        [self = shared_from_this()](SettleResult result) mutable {
          self->OnPool([result = std::move(result)](Call& call) mutable {
            if (result.settlement == Settlement::kNotCreated ||
                ChangedMeanwhile(result)) {
              return call.AcquireLock();
            }
            call.BlockedByUnsettled(result.next_check_at);
          });
        });
  }

  // Under the lock: the intent as Dojo holds it now decides.
  void ReadIntent() {
    ops_.dojo_.GetPaymentIntent(
        request_.api_key, request_.params.intent_id, /*return_canceled=*/true,
        budget_.UntilAnswer(),
        [self = shared_from_this()](
            absl::StatusOr<v1::PaymentIntent> intent) mutable {
          self->OnPool([intent = std::move(intent)](Call& call) mutable {
            call.OnIntent(std::move(intent));
          });
        });
  }

  void OnIntent(absl::StatusOr<v1::PaymentIntent> intent) {
    if (!intent.ok()) {
      ReleaseLock();
      return Finish(intent.status());
    }
    const Precondition precondition = CheckOperation(
        request_.kind, request_.params, request_.currency, *intent);
    if (precondition.verdict == Verdict::kRefused) {
      ReleaseLock();
      Count("refused");
      return Finish(precondition.refusal);
    }
    if (precondition.verdict == Verdict::kAlreadyDone) {
      ReleaseLock();
      Count("replay");
      OperationOutcome outcome;
      outcome.intent = *std::move(intent);
      outcome.replay = true;
      return Finish(std::move(outcome));
    }
    OperationParams params = request_.params;
    params.captures_before = intent->captures_size();
    absl::StatusOr<idempotency::ReserveResult> reserved = ops_.store_.Reserve(
        op_key_, fingerprint_, params.ToJson(), key_id_, owner_, Now(),
        budget_.Lease(), ops_.options_.retention);
    if (!reserved.ok()) {
      ReleaseLock();
      return Finish(JournalUnavailable(reserved.status()));
    }
    if (!reserved->acquired) {
      ReleaseLock();  // Someone else went first with this key.
      return Examine();
    }
    // Journaled as sent before it is sent: lock first, then the operation.
    absl::Status sent = ops_.store_.MarkSent(lock_key_, owner_, Now());
    if (sent.ok()) sent = ops_.store_.MarkSent(op_key_, owner_, Now());
    if (!sent.ok()) {
      (void)ops_.store_.Fail(op_key_, owner_, Now());
      ReleaseLock();
      return Finish(JournalUnavailable(sent));
    }
    Send();
  }

  void Send() {
    sent_ = true;
    Count("sent");
    const CallContext attempt = budget_.Attempt();
    auto on_answer = [self = shared_from_this()](
                         dojo::OperationAnswer<Produced> answer) mutable {
      self->OnPool([answer = std::move(answer)](Call& call) mutable {
        call.OnAnswer(std::move(answer));
      });
    };
    const OperationParams& p = request_.params;
    dojo::DojoClient& dojo = ops_.dojo_;
    switch (request_.kind) {
      case OperationKind::kCapture:
        return dojo.CapturePaymentIntent(
            request_.api_key, p.intent_id, p.amount, p.tips_amount, attempt,
            [on_answer = std::move(on_answer)](
                dojo::OperationAnswer<std::string> answer) mutable {
              on_answer(WithId(std::move(answer)));
            });
      case OperationKind::kReversal:
        return dojo.ReversePaymentIntent(
            request_.api_key, p.intent_id, attempt,
            [on_answer = std::move(on_answer)](
                dojo::OperationAnswer<std::string> answer) mutable {
              on_answer(WithId(std::move(answer)));
            });
      case OperationKind::kCancel:
        return dojo.CancelPaymentIntent(
            request_.api_key, p.intent_id, attempt,
            [on_answer = std::move(on_answer)](
                dojo::OperationAnswer<v1::PaymentIntent> answer) mutable {
              dojo::OperationAnswer<Produced> effect{Produced{}, answer.effect};
              if (answer.result.ok()) {
                effect.result->dojo_id = answer.result->id();
              } else {
                effect.result = answer.result.status();
              }
              on_answer(std::move(effect));
            });
      case OperationKind::kRefund:
        return dojo.RefundPaymentIntent(
            request_.api_key, p.intent_id,
            RefundIdempotencyKey(request_.account, p.intent_id, request_.key),
            p.amount, p.reason, p.notes, attempt,
            [on_answer = std::move(on_answer), amount = p.amount](
                dojo::OperationAnswer<v1::Refund> answer) mutable {
              dojo::OperationAnswer<Produced> effect{Produced{}, answer.effect};
              if (answer.result.ok()) {
                answer.result->set_amount(amount);
                effect.result->dojo_id = answer.result->id();
                effect.result->refund = *std::move(answer.result);
              } else {
                effect.result = answer.result.status();
              }
              on_answer(std::move(effect));
            });
      case OperationKind::kCreate:
      case OperationKind::kIntentLock:
        break;
    }
  }

  static dojo::OperationAnswer<Produced> WithId(
      dojo::OperationAnswer<std::string> answer) {
    dojo::OperationAnswer<Produced> effect{Produced{}, answer.effect};
    if (answer.result.ok()) {
      effect.result->dojo_id = *std::move(answer.result);
    } else {
      effect.result = answer.result.status();
    }
    return effect;
  }

  void OnAnswer(dojo::OperationAnswer<Produced> answer) {
    if (answer.effect == dojo::Effect::kNone &&
        !MayHideEffect(request_.kind, answer.result.status())) {
      (void)ops_.store_.Fail(op_key_, owner_, Now());
      ReleaseLock();
      return Finish(answer.result.status());
    }
    if (answer.effect == dojo::Effect::kHeld && answer.result.ok()) {
      const std::string result = request_.kind == OperationKind::kRefund
                                     ? answer.result->refund.SerializeAsString()
                                     : "";
      // Should the journal fail here, the record stays kSent until its
      // lease lapses and the reconciler finds the effect.
      (void)ops_.store_.Succeed(op_key_, owner_, answer.result->dojo_id, result,
                                Now());
      ReleaseLock();
      return ReadBack(answer.result->dojo_id, result, /*replay=*/false);
    }
    // It may have happened: never sent blindly again; settled from Dojo.
    Count("unknown");
    if (ops_.metrics_ != nullptr) {
      ops_.metrics_->UnknownOutcome(absl::StrCat(
          request_.kind == OperationKind::kReversal ? "reverse" : Kind(),
          "_payment_intent"));
    }
    (void)ops_.store_.MarkUnknown(lock_key_, owner_, Now());
    absl::Status marked = ops_.store_.MarkUnknown(op_key_, owner_, Now());
    if (!marked.ok()) return OutcomeUnknown(Now() + absl::Seconds(1));
    absl::StatusOr<std::optional<Record>> record =
        ops_.store_.Get(op_key_, Now());
    if (!record.ok() || !record->has_value()) {
      return OutcomeUnknown(Now() + absl::Seconds(1));
    }
    Settle(**record);
  }

  // The one reconciliation path, within this call's time.
  void Settle(const Record& record) {
    ops_.reconciler_.Settle(
        record, budget_.UntilAnswer(),
        [self = shared_from_this()](SettleResult result) mutable {
          self->OnPool([result = std::move(result)](Call& call) mutable {
            call.OnSettled(std::move(result));
          });
        });
  }

  void OnSettled(SettleResult result) {
    switch (result.settlement) {
      case Settlement::kFound:
        ReleaseSettledLock();
        return ReadBack(result.dojo_id, result.result, /*replay=*/!sent_);
      case Settlement::kNotCreated:
        ReleaseSettledLock();
        return AcquireLock();  // Proven absent: a new attempt is safe.
      case Settlement::kFailed:
        if (ChangedMeanwhile(result)) return Examine();
        [[fallthrough]];
      case Settlement::kPending:
        return OutcomeUnknown(result.next_check_at);
    }
  }

  // Frees the lock this call holds (kPending or kSent).
  void ReleaseLock() { (void)ops_.store_.Fail(lock_key_, owner_, Now()); }

  // Frees the lock left kUnknown by this operation once it is settled. The
  // reconciler may reschedule the lock between the read and the release: a
  // changed lock is read again.
  void ReleaseSettledLock() {
    for (int attempt = 0; attempt < 3; ++attempt) {
      absl::StatusOr<std::optional<Record>> lock =
          ops_.store_.Get(lock_key_, Now());
      if (!lock.ok() || !lock->has_value()) return;
      std::optional<OperationParams> guarding =
          OperationParams::FromJson((*lock)->params);
      if ((*lock)->state != RecordState::kUnknown || !guarding.has_value() ||
          !guarding->guarded.has_value() ||
          guarding->guarded->reference != op_key_.reference ||
          guarding->guarded->kind != op_key_.kind) {
        return;
      }
      absl::Status released =
          ops_.store_.SettleNotCreated(lock_key_, (*lock)->version, Now());
      if (released.code() != absl::StatusCode::kFailedPrecondition) return;
    }
  }

  // The intent after the operation, as Dojo holds it now.
  void ReadBack(std::string dojo_id, std::string result, bool replay) {
    OperationOutcome outcome;
    outcome.dojo_id = std::move(dojo_id);
    outcome.replay = replay;
    if (request_.kind == OperationKind::kRefund) {
      (void)outcome.refund.ParseFromString(result);
    }
    ops_.dojo_.GetPaymentIntent(
        request_.api_key, request_.params.intent_id, /*return_canceled=*/true,
        budget_.UntilAnswer(),
        [self = shared_from_this(), outcome = std::move(outcome)](
            absl::StatusOr<v1::PaymentIntent> intent) mutable {
          // The operation stands even if the read-back fails: the intent
          // is then left unset.
          if (intent.ok()) outcome.intent = *std::move(intent);
          self->Finish(std::move(outcome));
        });
  }

  // Another operation on the intent (or this key) is in flight: look again
  // later, while there is time to answer.
  template <typename Step>
  void Wait(absl::Time owner_lease_end, Step step) {
    if (budget_.context().IsCancelled()) return Finish(budget_.Stopped());
    const absl::Duration delay = poll_delay_;
    if (Now() + delay >= budget_.AnswerBy()) return InProgress(owner_lease_end);
    poll_delay_ = std::min(poll_delay_ * 2, ops_.options_.poll_max);
    ops_.timer_.RunAfter(
        delay, [self = shared_from_this(), step](absl::Status fired) mutable {
          if (!fired.ok()) return self->Finish(ShuttingDown());
          self->OnPool(std::move(step));
        });
  }

  void InProgress(absl::Time owner_lease_end) {
    Count("in_progress");
    absl::Status status = ErrorWithReason(
        absl::StatusCode::kAborted,
        "another operation on this payment intent is in progress",
        reason::kOperationInProgress,
        {{"payment_intent_id", request_.params.intent_id}});
    SetRetryInfo(status,
                 std::clamp(owner_lease_end - Now(), ops_.options_.poll_initial,
                            ops_.options_.poll_max));
    Finish(std::move(status));
  }

  // An earlier operation on the intent is still unsettled: this one was
  // not sent.
  void BlockedByUnsettled(absl::Time next_check_at) {
    Count("in_progress");
    absl::Status status = ErrorWithReason(
        absl::StatusCode::kAborted,
        "an earlier operation on this payment intent has an unknown outcome "
        "that is being settled; nothing was sent for this one",
        reason::kOperationInProgress,
        {{"payment_intent_id", request_.params.intent_id}});
    SetRetryInfo(status, std::max(next_check_at - Now(), absl::Seconds(1)));
    Finish(std::move(status));
  }

  void OutcomeUnknown(absl::Time next_check_at) {
    absl::Status status = absl::UnavailableError(absl::StrCat(
        "the ", Kind(),
        " may or may not have happened at Dojo; it is being "
        "checked: call again with the same parameters after the RetryInfo "
        "delay"));
    SetErrorInfo(status, reason::kOutcomeUnknown,
                 {{"payment_intent_id", request_.params.intent_id}});
    SetRetryInfo(status, std::max(next_check_at - Now(), absl::Seconds(1)));
    Finish(std::move(status));
  }

  void Finish(absl::StatusOr<OperationOutcome> outcome) {
    std::move(done_)(std::move(outcome));
  }

  IntentOperations& ops_;
  const OperationRequest request_;
  const Key op_key_;
  const Key lock_key_;
  OperationParams lock_params_;
  const std::string fingerprint_;
  const std::string key_id_;
  const std::string owner_;
  const CallBudget budget_;
  OperationDone done_;
  absl::Duration poll_delay_;
  int lock_attempts_ = 0;
  // This call sent the operation (so an effect found for it is no replay).
  bool sent_ = false;
};

IntentOperations::IntentOperations(idempotency::IdempotencyStore& store,
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

void IntentOperations::Run(OperationRequest request, const CallContext& context,
                           OperationDone done) {
  std::make_shared<Call>(*this, std::move(request), context, std::move(done))
      ->Start();
}

}  // namespace payments
