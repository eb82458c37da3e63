#ifndef TESTS_UNIT_PAYMENTS_FAKE_DOJO_H_
#define TESTS_UNIT_PAYMENTS_FAKE_DOJO_H_

// A scripted, in-process stand-in for Dojo behind the HttpTransport seam,
// on a manual clock: payment intents per account (a key's last 4
// characters name its account), create, get, search (pages, dates, cursor,
// a search lag) and cancel, and faults for the next creates: "processed then
// dropped", "never sent", "slow commit", a 5xx after processing, a wrong
// answer, or held until the test releases it. Answers are given inline on
// the sending thread. Thread-safe.

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/dojo/http_transport.h"
#include "tests/support/manual_clock.h"

namespace payments::testing {

enum class CreateFault {
  kProcessThenDrop,     // created; the connection drops before the answer
  kNeverSent,           // connect failure: nothing reaches Dojo
  kTimeoutUnprocessed,  // the attempt times out; Dojo never processed it
  kSlowCommit,          // created now, visible (get and search) only after
                        // slow_commit; the attempt times out
  kServerErrorAfterProcessing,  // created, answered 500
  kWrongAnswer,                 // created, but the answer is another intent
  kRejected,                    // 400, nothing created
  kHold,                        // no answer until ReleaseHeld()
};

class FakeDojo final : public dojo::HttpTransport {
 public:
  explicit FakeDojo(ManualClock& clock) : clock_(clock) {}

  void Send(dojo::HttpRequest request, dojo::HttpCallback done) override;
  void RunAfter(absl::Duration delay, TimerCallback fn) override {
    clock_.RunAfter(delay, std::move(fn));
  }

  // Applied to the next creates, in order.
  void FailNextCreate(CreateFault fault);
  void set_search_lag(absl::Duration lag);
  void set_slow_commit(absl::Duration delay);
  // Answers the held creates as `fault` says (kHold itself: 200).
  void ReleaseHeld(CreateFault fault);
  // Makes `count` other intents of `account` now, for busy windows.
  void AddIntents(const std::string& account, int count);
  // Creates an intent as another caller would (e.g. a duplicate).
  std::string AddIntent(const std::string& account,
                        const std::string& reference, int64_t amount,
                        absl::Time created_at);
  void SetStatus(const std::string& id, const std::string& status);
  // Runs `hook` once, on the sending thread and outside the fake's lock,
  // before the next GET is answered: someone else acting while Dojo is
  // being asked.
  void BeforeNextGet(absl::AnyInvocable<void() &&> hook);

  struct Intent {
    std::string id;
    std::string account;
    std::string reference;
    int64_t amount = 0;
    std::string currency;
    std::string status = "Created";
    absl::Time created_at;
    absl::Time committed_at;
  };
  // Every intent (committed or not) with `reference`, oldest first.
  std::vector<Intent> IntentsWithReference(const std::string& reference) const;
  // Requests seen, as "METHOD /path".
  std::vector<std::string> requests() const;
  int CountRequests(const std::string& method_and_path) const;
  // The (startDate, endDate) of every search, in order.
  std::vector<std::pair<std::string, std::string>> search_windows() const;
  int held() const;

 private:
  struct Held {
    dojo::HttpRequest request;
    dojo::HttpCallback done;
  };
  absl::StatusOr<dojo::HttpResponse> Handle(const dojo::HttpRequest& request,
                                            dojo::HttpCallback* done)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<dojo::HttpResponse> Create(const dojo::HttpRequest& request,
                                            CreateFault fault)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<dojo::HttpResponse> Search(const std::string& account,
                                            const std::string& body) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Insert(Intent intent) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ManualClock& clock_;
  mutable absl::Mutex mu_;
  std::vector<Intent> intents_ ABSL_GUARDED_BY(mu_);
  std::deque<CreateFault> faults_ ABSL_GUARDED_BY(mu_);
  std::vector<Held> held_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> requests_ ABSL_GUARDED_BY(mu_);
  mutable std::vector<std::pair<std::string, std::string>> windows_
      ABSL_GUARDED_BY(mu_);
  absl::Duration search_lag_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  absl::Duration slow_commit_ ABSL_GUARDED_BY(mu_) = absl::Seconds(8);
  int next_id_ ABSL_GUARDED_BY(mu_) = 0;
  absl::AnyInvocable<void() &&> before_next_get_ ABSL_GUARDED_BY(mu_);
};

}  // namespace payments::testing

#endif  // TESTS_UNIT_PAYMENTS_FAKE_DOJO_H_
