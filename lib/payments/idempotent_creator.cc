#include "lib/payments/idempotent_creator.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/common/status_details.h"
#include "lib/dojo/http_transport.h"
#include "lib/payments/fingerprint.h"

namespace payments {
namespace {

using idempotency::Record;
using idempotency::RecordState;

absl::Status StoreUnavailable(const absl::Status& cause) {
  absl::Status status = absl::UnavailableError(
      absl::StrCat("idempotency store unavailable, nothing was sent to Dojo: ",
                   cause.message()));
  SetErrorInfo(status, reason::kStoreUnavailable);
  SetRetryInfo(status, absl::Seconds(1));
  return status;
}

// Failures after which Dojo provably holds no intent from this call, so the
// key may be used again. Anything else might have created one.
bool IsDefiniteFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
      return true;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled: {
      std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(status);
      if (info.has_value() && info->reason() == reason::kOutcomeUnknown) {
        return false;
      }
      return dojo::GetTransportStage(status) == dojo::TransportStage::kNotSent;
    }
    default:
      return false;
  }
}

// What is recorded: the intent without its one-time client session secret.
std::string RecordedResult(const v1::PaymentIntent& intent) {
  v1::PaymentIntent recorded = intent;
  recorded.clear_client_session_secret();
  recorded.clear_client_session_secret_expires_at();
  return recorded.SerializeAsString();
}

}  // namespace

// One Create call: a small state machine whose steps hop between the worker
// pool (store I/O), the Dojo client's loop and the timer. The shared_ptr
// travels with each pending step.
class IdempotentCreator::Call final
    : public std::enable_shared_from_this<Call> {
 public:
  Call(IdempotentCreator& creator, v1::CreateIntentRequest request,
       std::string api_key, CallContext context, CreateDone done)
      : creator_(creator),
        key_{request.account(), request.reference()},
        fingerprint_(CreateFingerprint(request)),
        owner_(absl::StrCat(creator.options_.instance_id, "/",
                            creator.next_call_id_.fetch_add(1))),
        request_(std::move(request)),
        api_key_(std::move(api_key)),
        context_(std::move(context)),
        done_(std::move(done)),
        poll_delay_(creator.options_.poll_initial) {}

  void Start() {
    OnPool([](Call& self) { self.Reserve(); });
  }

 private:
  // Runs `step` on the worker pool.
  template <typename Step>
  void OnPool(Step step) {
    creator_.pool_.Post([self = shared_from_this(),
                         step = std::move(step)]() mutable { step(*self); });
  }

  absl::Duration Lease() const {
    return std::max(context_.Remaining(), absl::ZeroDuration()) +
           creator_.options_.lease_margin;
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

  void Reserve() {
    if (context_.Remaining() <= absl::ZeroDuration()) {
      return Finish(absl::DeadlineExceededError(
          "deadline passed before the create started"));
    }
    absl::StatusOr<idempotency::ReserveResult> reserved =
        Timed("reserve", [this] {
          return creator_.store_.Reserve(key_, fingerprint_, owner_,
                                         absl::Now(), Lease(),
                                         creator_.options_.retention);
        });
    if (!reserved.ok()) return Finish(StoreUnavailable(reserved.status()));
    if (reserved->acquired) {
      Count("miss");
      return SendCreate();
    }
    Examine(reserved->existing);
  }

  void Examine(const Record& record) {
    if (record.fingerprint != fingerprint_) {
      Count("mismatch");
      return Finish(ErrorWithReason(
          absl::StatusCode::kAlreadyExists,
          "this reference was already used with other parameters",
          reason::kReferenceReused, {{"reference", key_.reference}}));
    }
    const bool lease_live = record.state == RecordState::kInFlight &&
                            record.lease_expires_at > absl::Now();
    if (record.state == RecordState::kCompleted) return Replay(record);
    if (lease_live) {
      if (!waited_) Count("wait");
      waited_ = true;
      return WaitAndExamine();
    }
    TakeOver(record);
  }

  void Replay(const Record& record) {
    v1::PaymentIntent intent;
    if (!intent.ParseFromString(record.result)) {
      return Finish(absl::InternalError("the recorded result is unreadable"));
    }
    Count("replay");
    Finish(CreateOutcome{std::move(intent), /*replay=*/true});
  }

  // Another call holds the key: look again later, until the deadline.
  void WaitAndExamine() {
    if (context_.IsCancelled()) {
      return Finish(absl::CancelledError("the caller cancelled the call"));
    }
    const absl::Duration remaining = context_.Remaining();
    if (remaining <= absl::ZeroDuration()) {
      return Finish(absl::DeadlineExceededError(
          "another call with this reference is still in progress"));
    }
    const absl::Duration delay = std::min(poll_delay_, remaining);
    poll_delay_ = std::min(poll_delay_ * 2, creator_.options_.poll_max);
    creator_.timer_.RunAfter(delay, [self = shared_from_this()] {
      self->OnPool([](Call& call) { call.Reexamine(); });
    });
  }

  void Reexamine() {
    absl::StatusOr<std::optional<Record>> record =
        Timed("get", [this] { return creator_.store_.Get(key_, absl::Now()); });
    if (!record.ok()) return Finish(StoreUnavailable(record.status()));
    if (!record->has_value()) return Reserve();  // Released: try again.
    Examine(**record);
  }

  // The key's last owner left an unknown outcome (or died): take it over
  // and ask Dojo what happened before creating anything.
  void TakeOver(const Record& record) {
    absl::Status taken = Timed("take_over", [&] {
      return creator_.store_.TakeOver(key_, record.version, owner_, absl::Now(),
                                      Lease());
    });
    if (taken.code() == absl::StatusCode::kFailedPrecondition) {
      return WaitAndExamine();  // Someone else took it first.
    }
    if (!taken.ok()) return Finish(StoreUnavailable(taken));
    const absl::Duration margin = creator_.options_.reconcile_margin;
    creator_.dojo_.FindCreatedIntent(
        api_key_, key_.reference, request_.amount(),
        record.attempt_started_at - margin, absl::Now() + margin, context_,
        [self = shared_from_this()](
            absl::StatusOr<v1::PaymentIntent> found) mutable {
          self->OnPool([found = std::move(found)](Call& call) mutable {
            call.OnReconciled(std::move(found));
          });
        });
  }

  void OnReconciled(absl::StatusOr<v1::PaymentIntent> found) {
    if (found.ok()) {
      Count("reconciled");
      RecordResult(*found);
      return Finish(CreateOutcome{*std::move(found), /*replay=*/true});
    }
    if (found.status().code() == absl::StatusCode::kNotFound) {
      return SendCreate();  // Dojo holds none: creating cannot duplicate.
    }
    MarkUnknown();
    absl::Status status = absl::UnavailableError(absl::StrCat(
        "an earlier create with this reference may have reached Dojo and "
        "could not be checked: ",
        found.status().message()));
    SetErrorInfo(status, reason::kOutcomeUnknown,
                 {{"reference", key_.reference}});
    SetRetryInfo(status, absl::Seconds(1));
    Finish(std::move(status));
  }

  void SendCreate() {
    creator_.dojo_.CreatePaymentIntent(
        api_key_, request_, context_,
        [self = shared_from_this()](
            absl::StatusOr<v1::PaymentIntent> created) mutable {
          self->OnPool([created = std::move(created)](Call& call) mutable {
            call.OnCreated(std::move(created));
          });
        });
  }

  void OnCreated(absl::StatusOr<v1::PaymentIntent> created) {
    if (created.ok()) {
      RecordResult(*created);
      return Finish(CreateOutcome{*std::move(created), /*replay=*/false});
    }
    if (IsDefiniteFailure(created.status())) {
      // Nothing exists at Dojo: free the key. If this fails the lease
      // expires and the next call reconciles, finding nothing.
      (void)Timed("release",
                  [this] { return creator_.store_.Release(key_, owner_); });
    } else {
      MarkUnknown();
    }
    Finish(created.status());
  }

  // Records the finished result. Should the store fail, the record stays in
  // flight until its lease ends and the next call finds the intent through
  // reconciliation: nothing is lost or duplicated.
  void RecordResult(const v1::PaymentIntent& intent) {
    (void)Timed("complete", [&] {
      return creator_.store_.Complete(key_, owner_, RecordedResult(intent),
                                      absl::Now());
    });
  }

  void MarkUnknown() {
    (void)Timed("mark_unknown", [this] {
      return creator_.store_.MarkUnknown(key_, owner_, absl::Now());
    });
  }

  void Finish(absl::StatusOr<CreateOutcome> outcome) {
    std::move(done_)(std::move(outcome));
  }

  IdempotentCreator& creator_;
  const idempotency::Key key_;
  const std::string fingerprint_;
  const std::string owner_;
  const v1::CreateIntentRequest request_;
  const std::string api_key_;
  const CallContext context_;
  CreateDone done_;
  absl::Duration poll_delay_;
  bool waited_ = false;
};

IdempotentCreator::IdempotentCreator(idempotency::IdempotencyStore& store,
                                     idempotency::WorkerPool& pool,
                                     dojo::DojoClient& dojo, Timer& timer,
                                     IdempotencyOptions options,
                                     metrics::Metrics* metrics)
    : store_(store),
      pool_(pool),
      dojo_(dojo),
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
