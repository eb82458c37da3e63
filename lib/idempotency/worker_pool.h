#ifndef LIB_IDEMPOTENCY_WORKER_POOL_H_
#define LIB_IDEMPOTENCY_WORKER_POOL_H_

// A fixed set of threads for blocking work (idempotency store I/O), so that
// gRPC reactors and the HTTP event loop never block on disk or network.

#include <cstddef>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace payments::idempotency {

// Thread-safe. Tasks run in the order posted, each on one of the pool's
// threads, never inline in Post. The number of threads is fixed; the queue
// is not bounded (callers bound the work they start, e.g. by in-flight
// RPCs), and queued() tells how far behind the pool is. A task must not
// throw; it may Post further tasks.
class WorkerPool final {
 public:
  // Starts max(threads, 1) threads.
  explicit WorkerPool(int threads);
  // Stop().
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; never blocks on the task. Once Stop() has returned, runs
  // `task` at once on the calling thread instead, so no task is ever lost.
  void Post(absl::AnyInvocable<void() &&> task);

  // Drains: runs every task posted before (and any they post while
  // draining), then joins the threads. Blocks until done. Idempotent; must
  // not be called from a task.
  void Stop();

  int threads() const { return static_cast<int>(threads_.size()); }
  // Tasks posted but not yet started.
  size_t queued() const;

 private:
  void Run();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace payments::idempotency

#endif  // LIB_IDEMPOTENCY_WORKER_POOL_H_
