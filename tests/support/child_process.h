#ifndef TESTS_SUPPORT_CHILD_PROCESS_H_
#define TESTS_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace payments::testing {

// A child process started with posix_spawn, for integration tests.
//
// The child inherits this process's environment plus `extra_env` (which
// overrides variables of the same name); its stdout and stderr are appended
// to `log_path`. It is only ever signalled by its PID. Not thread-safe: use
// one ChildProcess from one thread. The destructor stops a running child
// (SIGTERM, SIGKILL after 5 s).
class ChildProcess final {
 public:
  struct Options {
    std::string binary;             // A path; without '/', searched in PATH.
    std::vector<std::string> args;  // Not including argv[0].
    std::vector<std::pair<std::string, std::string>> extra_env;
    std::string log_path;  // Created if missing, appended to.
  };

  // Fails (with the errno text) if the log cannot be opened or the binary
  // cannot be executed.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(Options options);

  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // True until the child has exited (reaps it if it has).
  bool IsRunning();

  // Sends `signal`, waits up to `timeout` for the exit, then SIGKILLs and
  // waits. Returns the exit code: the exit status if the child exited,
  // 128 + the signal number if a signal ended it. Calling it again (or after
  // the child exited by itself) returns the same code without signalling.
  int Stop(int signal = SIGTERM, absl::Duration timeout = absl::Seconds(10));

  // SIGKILL and wait; returns the exit code as Stop() does.
  int Kill() { return Stop(SIGKILL, absl::ZeroDuration()); }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}

  // Reaps the child if it has exited; blocking waits for it.
  bool Reap(bool blocking);

  pid_t pid_;
  std::optional<int> exit_code_;
};

}  // namespace payments::testing

#endif  // TESTS_SUPPORT_CHILD_PROCESS_H_
