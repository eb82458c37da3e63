// Linked into every executable of the ThreadSanitizer build only.
//
// Debian's Abseil is not built with ThreadSanitizer, so TSan cannot see its
// mutexes synchronise and reports every access they guard as a race. These
// definitions of absl::Mutex and absl::CondVar's out-of-line members take
// precedence over the shared library's (an executable's symbols come first,
// also for calls from inside the libraries, gRPC's among them), tell TSan
// about each lock and unlock, and call the library's own code for the rest.

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <type_traits>

#include "absl/synchronization/mutex.h"

#define PAYMENTS_STR2(x) #x
#define PAYMENTS_STR(x) PAYMENTS_STR2(x)

// ThreadSanitizer's runtime (dynamic annotations).
extern "C" void AnnotateIgnoreReadsBegin(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);

namespace {

// The library's definition of absl::<inline namespace>::<member>, given the
// member's mangled suffix.
template <typename Fn>
Fn Real(const char* member) {
  const std::string ns = PAYMENTS_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string symbol =
      "_ZN4absl" + std::to_string(ns.size()) + ns + member;
  void* address = dlsym(RTLD_NEXT, symbol.c_str());
  if (address == nullptr) {
    std::fprintf(stderr, "tsan_absl_mutex: %s not found\n", symbol.c_str());
    std::abort();
  }
  return reinterpret_cast<Fn>(address);
}

// The library's members call one another (AwaitWithTimeout calls
// AwaitWithDeadline, Notification calls LockWhen...), and those calls land
// here too: only the outermost one on a thread is annotated.
thread_local int depth = 0;

class Outermost {
 public:
  Outermost() : outermost_(depth++ == 0) {}
  ~Outermost() { --depth; }
  explicit operator bool() const { return outermost_; }

 private:
  const bool outermost_;
};

bool EvalIgnoringAccesses(void* cond) {
  AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
  const bool met = static_cast<const absl::Condition*>(cond)->Eval();
  AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
  return met;
}

// Abseil evaluates a waiter's condition under the mutex but on whichever
// thread is unlocking it, inside the library's own lock and unlock code,
// which TSan does not see synchronise. Those reads (of the condition and of
// what it looks at, under the mutex by Abseil's contract) are not judged.
// The void* constructor keeps the reading of the wrapper itself inside the
// uninstrumented library.
absl::Condition IgnoringAccesses(const absl::Condition& cond) {
  return absl::Condition(&EvalIgnoringAccesses,
                         const_cast<absl::Condition*>(&cond));
}

// How each kind of member is told to TSan, around the library's own code.
template <typename Call>
auto Acquire(void* mu, unsigned flags, Call call) {
  Outermost outermost;
  if (outermost) __tsan_mutex_pre_lock(mu, flags);
  auto result = call();
  if (outermost) __tsan_mutex_post_lock(mu, flags, 0);
  return result;
}

template <typename Call>
bool TryAcquire(void* mu, unsigned flags, Call call) {
  Outermost outermost;
  if (outermost) __tsan_mutex_pre_lock(mu, flags | __tsan_mutex_try_lock);
  const bool locked = call();
  if (outermost) {
    __tsan_mutex_post_lock(
        mu,
        flags | (locked ? __tsan_mutex_try_lock : __tsan_mutex_try_lock_failed),
        0);
  }
  return locked;
}

template <typename Call>
void Release(void* mu, unsigned flags, Call call) {
  Outermost outermost;
  if (outermost) __tsan_mutex_pre_unlock(mu, flags);
  call();
  if (outermost) __tsan_mutex_post_unlock(mu, flags);
}

// Await and CondVar::Wait release the mutex and take it again inside the
// library: to TSan, an unlock followed by a lock.
template <typename Call>
auto ReleaseAndReacquire(void* mu, Call call) {
  Outermost outermost;
  if (outermost) {
    __tsan_mutex_pre_unlock(mu, 0);
    __tsan_mutex_post_unlock(mu, 0);
  }
  auto result = call();
  if (outermost) {
    __tsan_mutex_pre_lock(mu, 0);
    __tsan_mutex_post_lock(mu, 0, 0);
  }
  return result;
}

struct Void {};
template <typename Fn, typename... Args>
auto Invoke(Fn fn, Args... args) {
  if constexpr (std::is_void_v<std::invoke_result_t<Fn, Args...>>) {
    fn(args...);
    return Void{};
  } else {
    return fn(args...);
  }
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

#define REAL(type, member) static const auto real = Real<type>(member)

void Mutex::Lock() {
  REAL(void (*)(Mutex*), "5Mutex4LockEv");
  Acquire(this, 0, [&] { return Invoke(real, this); });
}

bool Mutex::TryLock() {
  REAL(bool (*)(Mutex*), "5Mutex7TryLockEv");
  return TryAcquire(this, 0, [&] { return real(this); });
}

void Mutex::Unlock() {
  REAL(void (*)(Mutex*), "5Mutex6UnlockEv");
  Release(this, 0, [&] { real(this); });
}

void Mutex::ReaderLock() {
  REAL(void (*)(Mutex*), "5Mutex10ReaderLockEv");
  Acquire(this, __tsan_mutex_read_lock, [&] { return Invoke(real, this); });
}

bool Mutex::ReaderTryLock() {
  REAL(bool (*)(Mutex*), "5Mutex13ReaderTryLockEv");
  return TryAcquire(this, __tsan_mutex_read_lock, [&] { return real(this); });
}

void Mutex::ReaderUnlock() {
  REAL(void (*)(Mutex*), "5Mutex12ReaderUnlockEv");
  Release(this, __tsan_mutex_read_lock, [&] { real(this); });
}

void Mutex::LockWhen(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&), "5Mutex8LockWhenERKNS0_9ConditionE");
  const Condition ignoring = IgnoringAccesses(cond);
  Acquire(this, 0, [&] { return Invoke(real, this, std::cref(ignoring)); });
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  REAL(bool (*)(Mutex*, const Condition&, Duration),
       "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  const Condition ignoring = IgnoringAccesses(cond);
  return Acquire(this, 0, [&] { return real(this, ignoring, timeout); });
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  REAL(bool (*)(Mutex*, const Condition&, Time),
       "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  const Condition ignoring = IgnoringAccesses(cond);
  return Acquire(this, 0, [&] { return real(this, ignoring, deadline); });
}

void Mutex::Await(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&), "5Mutex5AwaitERKNS0_9ConditionE");
  const Condition ignoring = IgnoringAccesses(cond);
  ReleaseAndReacquire(this,
                      [&] { return Invoke(real, this, std::cref(ignoring)); });
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  REAL(bool (*)(Mutex*, const Condition&, Duration),
       "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  const Condition ignoring = IgnoringAccesses(cond);
  return ReleaseAndReacquire(this,
                             [&] { return real(this, ignoring, timeout); });
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  REAL(bool (*)(Mutex*, const Condition&, Time),
       "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  const Condition ignoring = IgnoringAccesses(cond);
  return ReleaseAndReacquire(this,
                             [&] { return real(this, ignoring, deadline); });
}

void CondVar::Wait(Mutex* mu) {
  REAL(void (*)(CondVar*, Mutex*), "7CondVar4WaitEPNS0_5MutexE");
  ReleaseAndReacquire(mu, [&] { return Invoke(real, this, mu); });
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  REAL(bool (*)(CondVar*, Mutex*, Duration),
       "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  return ReleaseAndReacquire(mu, [&] { return real(this, mu, timeout); });
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  REAL(bool (*)(CondVar*, Mutex*, Time),
       "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  return ReleaseAndReacquire(mu, [&] { return real(this, mu, deadline); });
}

ABSL_NAMESPACE_END
}  // namespace absl
