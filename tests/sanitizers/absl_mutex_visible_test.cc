// ThreadSanitizer build only: data guarded by an absl::Mutex is not a race.
// Without tsan_absl_mutex preloaded, TSan cannot see Debian's uninstrumented
// Abseil synchronise and reports one here.

#include <thread>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace {

TEST(AbslMutexVisibleTest, GuardedCounterIsNotARace) {
  absl::Mutex mu;
  absl::CondVar turn;
  int counter = 0;
  auto add = [&] {
    for (int i = 0; i < 10000; ++i) {
      absl::MutexLock lock(&mu);
      ++counter;
      turn.SignalAll();
    }
  };
  std::thread a(add);
  std::thread b(add);
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* value) { return *value == 20000; }, &counter));
  }
  a.join();
  b.join();
  EXPECT_EQ(counter, 20000);
}

}  // namespace
