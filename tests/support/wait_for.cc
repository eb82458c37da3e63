#include "tests/support/wait_for.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace payments::testing {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(20);
// Picked ports lie between this and the kernel's ephemeral range.
constexpr int kLowestPickedPort = 20000;

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

bool CanConnect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address = Loopback(port);
  const bool connected =
      connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return connected;
}

bool CanBind(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address = Loopback(port);
  const bool bound =
      bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return bound;
}

// The first port of net.ipv4.ip_local_port_range (Linux's default if the
// file cannot be read).
int FirstEphemeralPort() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int first = 0;
  if (range >> first && first > 0) return first;
  return 32768;
}

}  // namespace

absl::StatusOr<int> PickFreePort() {
  // Below the range the kernel hands out to outgoing connections, so no
  // client socket of a parallel test can be holding the port when the server
  // binds it. Ports are drawn at random so that parallel tests rarely try the
  // same one.
  const int first_ephemeral = FirstEphemeralPort();
  if (first_ephemeral - kLowestPickedPort < 1000) {
    return absl::FailedPreconditionError(
        absl::StrCat("the ephemeral port range starts at ", first_ephemeral,
                     ", too close to ", kLowestPickedPort));
  }
  thread_local std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pick(kLowestPickedPort,
                                          first_ephemeral - 1);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = pick(random);
    if (CanBind(port)) return port;
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("100 ports below ", first_ephemeral, " were all in use"));
}

absl::Status WaitForTcpPort(int port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (CanConnect(port)) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("nothing listens on 127.0.0.1:", port, " after ",
                       absl::FormatDuration(timeout)));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

absl::Status WaitForFile(const std::string& path, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    struct stat info;
    if (stat(path.c_str(), &info) == 0) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          path, " did not appear within ", absl::FormatDuration(timeout)));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    if (error == ENOENT) return absl::NotFoundError(path);
    return absl::InternalError(absl::StrCat(path, ": ", std::strerror(error)));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat(path, ": read error"));
  return contents.str();
}

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return true;
}

}  // namespace payments::testing
