#ifndef LIB_PAYMENTS_CALL_BUDGET_H_
#define LIB_PAYMENTS_CALL_BUDGET_H_

// How one journaled call (a create or a lifecycle operation) spends the
// caller's time: every step's deadline, the lease it takes on a key, and the
// part of the time its one attempt at Dojo may use. The one place these
// decisions are made, for both state machines.

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "lib/common/call_context.h"
#include "lib/common/clock.h"

namespace payments {

class CallBudget final {
 public:
  // `clock` must outlive the budget.
  CallBudget(const Clock& clock, CallContext context,
             absl::Duration reply_margin, absl::Duration lease_margin,
             absl::Duration settle_reserve)
      : clock_(clock),
        context_(std::move(context)),
        reply_margin_(reply_margin),
        lease_margin_(lease_margin),
        settle_reserve_(settle_reserve) {}

  absl::Time Now() const { return clock_.Now(); }
  const CallContext& context() const { return context_; }

  // Every answer leaves the reply margin of the caller's deadline.
  absl::Time AnswerBy() const { return context_.deadline - reply_margin_; }
  // Whether the call must stop now (cancelled, or no time left to answer),
  // and the status it then answers with.
  bool Exhausted() const {
    return context_.IsCancelled() || Now() >= AnswerBy();
  }
  absl::Status Stopped() const { return context_.StoppedStatus(Now()); }

  // A step that must end in time for the answer.
  CallContext Until(absl::Time deadline) const {
    CallContext bounded = context_;
    bounded.deadline = deadline;
    return bounded;
  }
  CallContext UntilAnswer() const { return Until(AnswerBy()); }

  // The one attempt at Dojo: it leaves a quarter of the usable time, at
  // most `settle_reserve`, for settling an ambiguous answer in the call.
  CallContext Attempt() const {
    const absl::Duration usable = AnswerBy() - Now();
    return Until(AnswerBy() - std::min(usable / 4, settle_reserve_));
  }

  // A lease on a key: the caller's remaining time plus the lease margin.
  absl::Duration Lease() const {
    return std::max(context_.deadline - Now(), absl::ZeroDuration()) +
           lease_margin_;
  }

 private:
  const Clock& clock_;
  const CallContext context_;
  const absl::Duration reply_margin_;
  const absl::Duration lease_margin_;
  const absl::Duration settle_reserve_;
};

// UNAVAILABLE, reason STORE_UNAVAILABLE with RetryInfo, for a journal
// failure before anything was sent (INVALID_ARGUMENT passes as it is).
absl::Status JournalUnavailable(const absl::Status& cause);

// UNAVAILABLE for a call whose wait was cut short by the server shutting
// down (its timer fired CANCELLED): nothing more was sent to Dojo.
absl::Status ShuttingDown();

}  // namespace payments

#endif  // LIB_PAYMENTS_CALL_BUDGET_H_
