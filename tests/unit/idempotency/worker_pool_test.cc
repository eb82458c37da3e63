#include "lib/idempotency/worker_pool.h"

#include <atomic>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace payments::idempotency {
namespace {

TEST(WorkerPoolTest, DestructorRunsEveryPostedTaskFirst) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(2);
    for (int i = 0; i < 1000; ++i) pool.Post([&ran] { ++ran; });
  }
  EXPECT_EQ(ran.load(), 1000);
}

TEST(WorkerPoolTest, TasksPostedByTasksWhileDrainingRunToo) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(1);
    pool.Post([&] {
      pool.Post([&] {
        ++ran;
        pool.Post([&ran] { ++ran; });
      });
    });
  }
  EXPECT_EQ(ran.load(), 2);
}

TEST(WorkerPoolTest, AfterStopATaskRunsOnTheCallersThread) {
  WorkerPool pool(2);
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) pool.Post([&ran] { ++ran; });
  pool.Stop();
  EXPECT_EQ(ran.load(), 100);
  pool.Stop();  // Idempotent.
  std::thread::id ran_on;
  pool.Post([&ran_on] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(WorkerPoolTest, TasksPostedFromOutsideDuringStopAllRun) {
  std::atomic<int> ran{0};
  WorkerPool pool(2);
  std::thread poster([&] {
    for (int i = 0; i < 20000; ++i) pool.Post([&ran] { ++ran; });
  });
  pool.Stop();
  poster.join();
  EXPECT_EQ(ran.load(), 20000);
}

TEST(WorkerPoolTest, RunsTasksInParallelOnItsOwnThreads) {
  constexpr int kThreads = 4;
  std::latch all_running(kThreads);
  std::atomic<int> on_caller_thread{0};
  const std::thread::id caller = std::this_thread::get_id();
  {
    WorkerPool pool(kThreads);
    EXPECT_EQ(pool.threads(), kThreads);
    for (int i = 0; i < kThreads; ++i) {
      // Each task waits for all the others: only completes if they all run
      // at the same time.
      pool.Post([&] {
        if (std::this_thread::get_id() == caller) ++on_caller_thread;
        all_running.arrive_and_wait();
      });
    }
  }
  EXPECT_EQ(on_caller_thread.load(), 0);
}

TEST(WorkerPoolTest, OneThreadRunsTasksInOrder) {
  std::vector<int> order;
  absl::Mutex mu;
  {
    WorkerPool pool(1);
    for (int i = 0; i < 100; ++i) {
      pool.Post([&, i] {
        absl::MutexLock lock(&mu);
        order.push_back(i);
      });
    }
  }
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(WorkerPoolTest, AcceptsMoveOnlyTasksAndReportsItsQueue) {
  std::atomic<int> value{0};
  std::latch release(1);
  {
    WorkerPool pool(0);  // At least one thread.
    EXPECT_EQ(pool.threads(), 1);
    pool.Post([&release] { release.wait(); });
    auto owned = std::make_unique<int>(42);
    pool.Post([&value, owned = std::move(owned)] { value = *owned; });
    // The first task blocks the only thread, so the second is queued
    // (possibly both, if the worker has not started yet).
    EXPECT_GE(pool.queued(), 1u);
    release.count_down();
  }
  EXPECT_EQ(value.load(), 42);
}

}  // namespace
}  // namespace payments::idempotency
