#include "tests/support/child_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

extern char** environ;

namespace payments::testing {
namespace {

int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    Options options) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    absl::string_view text(*entry);
    bool overridden = false;
    for (const auto& [name, value] : options.extra_env) {
      if (text.size() > name.size() && text[name.size()] == '=' &&
          text.substr(0, name.size()) == name) {
        overridden = true;
      }
    }
    if (!overridden) env.emplace_back(text);
  }
  for (const auto& [name, value] : options.extra_env) {
    env.push_back(absl::StrCat(name, "=", value));
  }
  std::vector<std::string> args = {options.binary};
  args.insert(args.end(), options.args.begin(), options.args.end());

  auto pointers = [](std::vector<std::string>& strings) {
    std::vector<char*> result;
    for (std::string& s : strings) result.push_back(s.data());
    result.push_back(nullptr);
    return result;
  };
  std::vector<char*> argv = pointers(args);
  std::vector<char*> envp = pointers(env);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO,
                                   options.log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  pid_t pid = 0;
  const bool search_path = options.binary.find('/') == std::string::npos;
  const int error = search_path
                        ? posix_spawnp(&pid, options.binary.c_str(), &actions,
                                       nullptr, argv.data(), envp.data())
                        : posix_spawn(&pid, options.binary.c_str(), &actions,
                                      nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot start ", options.binary, ": ", std::strerror(error)));
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

ChildProcess::~ChildProcess() {
  if (!exit_code_.has_value()) Stop(SIGTERM, absl::Seconds(5));
}

bool ChildProcess::Reap(bool blocking) {
  if (exit_code_.has_value()) return true;
  int wait_status = 0;
  pid_t result;
  do {
    result = waitpid(pid_, &wait_status, blocking ? 0 : WNOHANG);
  } while (result < 0 && errno == EINTR);
  if (result == pid_) {
    exit_code_ = ExitCode(wait_status);
    return true;
  }
  if (result < 0) {  // ECHILD: reaped elsewhere; nothing left to wait for.
    exit_code_ = -1;
    return true;
  }
  return false;
}

bool ChildProcess::IsRunning() { return !Reap(/*blocking=*/false); }

int ChildProcess::Stop(int signal, absl::Duration timeout) {
  if (Reap(/*blocking=*/false)) return *exit_code_;
  kill(pid_, signal);
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (Reap(/*blocking=*/false)) return *exit_code_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (Reap(/*blocking=*/false)) return *exit_code_;
  kill(pid_, SIGKILL);
  Reap(/*blocking=*/true);
  return *exit_code_;
}

}  // namespace payments::testing
