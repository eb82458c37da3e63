#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace payments::testing {
namespace {

ChildProcess::Options Command(
    std::string binary, std::vector<std::string> args, std::string log_path,
    std::vector<std::pair<std::string, std::string>> extra_env = {}) {
  ChildProcess::Options options;
  options.binary = std::move(binary);
  options.args = std::move(args);
  options.log_path = std::move(log_path);
  options.extra_env = std::move(extra_env);
  return options;
}

TEST(ChildProcessTest, RunsWithEnvAndLogsOutput) {
  TempDir dir;
  const std::string log = dir.File("child.log");
  auto child = ChildProcess::Start(
      Command("sh", {"-c", "echo out=$PAYMENTS_TEST_VAR; echo err >&2; exit 3"},
              log, {{"PAYMENTS_TEST_VAR", "hello"}}));
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_GT((*child)->pid(), 0);
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while ((*child)->IsRunning() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ((*child)->Stop(), 3);
  auto contents = ReadFile(log);
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_EQ(*contents, "out=hello\nerr\n");
}

TEST(ChildProcessTest, StopSignalsAndEscalates) {
  TempDir dir;
  auto child =
      ChildProcess::Start(Command("/bin/sleep", {"30"}, dir.File("log")));
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_TRUE((*child)->IsRunning());
  EXPECT_EQ((*child)->Stop(SIGTERM, absl::Seconds(5)), 128 + SIGTERM);
  EXPECT_FALSE((*child)->IsRunning());
  EXPECT_EQ((*child)->Stop(), 128 + SIGTERM);  // Idempotent.

  auto stubborn = ChildProcess::Start(Command(
      "sh", {"-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"},
      dir.File("log2")));
  ASSERT_TRUE(stubborn.ok());
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(dir.File("log2")).value_or("") == "ready\n"; },
      absl::Seconds(5)))
      << "the trap was not installed";
  EXPECT_EQ((*stubborn)->Stop(SIGTERM, absl::Milliseconds(200)), 128 + SIGKILL);
}

TEST(ChildProcessTest, MissingBinaryFails) {
  TempDir dir;
  auto child =
      ChildProcess::Start(Command("/nonexistent/binary", {}, dir.File("log")));
  EXPECT_FALSE(child.ok());
}

TEST(WaitForTest, PickedPortsLieBelowTheEphemeralRange) {
  int first_ephemeral = 0;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> first_ephemeral;
  ASSERT_GT(first_ephemeral, 0);
  std::set<int> ports;
  for (int i = 0; i < 50; ++i) {
    auto port = PickFreePort();
    ASSERT_TRUE(port.ok()) << port.status();
    EXPECT_GE(*port, 20000);
    EXPECT_LT(*port, first_ephemeral);
    ports.insert(*port);
  }
  EXPECT_GT(ports.size(), 40u) << "picks are not spread out";
}

TEST(WaitForTest, PortsAndFiles) {
  auto port = PickFreePort();
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_EQ(WaitForTcpPort(*port, absl::Milliseconds(50)).code(),
            absl::StatusCode::kDeadlineExceeded);

  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(*port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  ASSERT_EQ(listen(fd, 4), 0);
  EXPECT_TRUE(WaitForTcpPort(*port, absl::Seconds(1)).ok());
  close(fd);

  TempDir dir;
  const std::string path = dir.File("ready");
  EXPECT_EQ(WaitForFile(path, absl::Milliseconds(30)).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ReadFile(path).status().code(), absl::StatusCode::kNotFound);
  { std::ofstream(path) << "x"; }
  EXPECT_TRUE(WaitForFile(path, absl::Seconds(1)).ok());
  EXPECT_EQ(*ReadFile(path), "x");
}

// Sets PAYMENTS_TEST_KEEP_DIRS (or removes it) for one test, then restores
// what the suite was run with (scripts/test.sh sets it).
class KeepDirs {
 public:
  explicit KeepDirs(bool keep) {
    if (const char* value = std::getenv(kName)) saved_ = value;
    if (keep) {
      setenv(kName, "1", 1);
    } else {
      unsetenv(kName);
    }
  }
  ~KeepDirs() {
    if (saved_.has_value()) {
      setenv(kName, saved_->c_str(), 1);
    } else {
      unsetenv(kName);
    }
  }

 private:
  static constexpr char kName[] = "PAYMENTS_TEST_KEEP_DIRS";
  std::optional<std::string> saved_;
};

std::string FilledTempDir() {
  TempDir dir;
  std::filesystem::create_directories(dir.File("a/b"));
  std::ofstream(dir.File("a/b/c")) << "data";
  EXPECT_TRUE(std::filesystem::is_directory(dir.path()));
  return dir.path();
}

TEST(TempDirTest, RemovedRecursively) {
  KeepDirs keep(false);
  EXPECT_FALSE(std::filesystem::exists(FilledTempDir()));
}

TEST(TempDirTest, KeptWhenAskedForTheSecretsScan) {
  KeepDirs keep(true);
  const std::string path = FilledTempDir();
  EXPECT_TRUE(std::filesystem::exists(path + "/a/b/c"));
  std::filesystem::remove_all(path);
}

}  // namespace
}  // namespace payments::testing
