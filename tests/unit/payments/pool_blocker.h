#ifndef TESTS_UNIT_PAYMENTS_POOL_BLOCKER_H_
#define TESTS_UNIT_PAYMENTS_POOL_BLOCKER_H_

#include <memory>

#include "absl/synchronization/mutex.h"
#include "lib/idempotency/worker_pool.h"

namespace payments::testing {

// Occupies `workers` workers of a pool from construction until Release()
// (or destruction), which returns only once every one of them has left its
// task: the tasks share their state with the blocker, never the test's
// stack.
class PoolBlocker final {
 public:
  PoolBlocker(idempotency::WorkerPool& pool, int workers)
      : workers_(workers), state_(std::make_shared<State>()) {
    for (int i = 0; i < workers; ++i) {
      pool.Post([state = state_] {
        absl::MutexLock lock(&state->mu);
        ++state->entered;
        state->mu.Await(absl::Condition(&state->released));
        ++state->left;
      });
    }
    absl::MutexLock lock(&state_->mu);
    state_->mu.Await(absl::Condition(this, &PoolBlocker::AllEntered));
  }
  ~PoolBlocker() { Release(); }

  PoolBlocker(const PoolBlocker&) = delete;
  PoolBlocker& operator=(const PoolBlocker&) = delete;

  void Release() {
    absl::MutexLock lock(&state_->mu);
    state_->released = true;
    state_->mu.Await(absl::Condition(this, &PoolBlocker::AllLeft));
  }

 private:
  struct State {
    absl::Mutex mu;
    int entered = 0;
    int left = 0;
    bool released = false;
  };
  bool AllEntered() const { return state_->entered == workers_; }
  bool AllLeft() const { return state_->left == workers_; }

  const int workers_;
  std::shared_ptr<State> state_;
};

}  // namespace payments::testing

#endif  // TESTS_UNIT_PAYMENTS_POOL_BLOCKER_H_
