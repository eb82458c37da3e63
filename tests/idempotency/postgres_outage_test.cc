// A PostgreSQL outage, with the server started by the ctest fixture
// (postgres_fixture.sh): while it is stopped every operation fails promptly
// with UNAVAILABLE; once it is back the same store object works again.
// Also a hung server (processes stopped with SIGSTOP): operations end by
// their timeouts instead of parking the caller.

#include <dirent.h>
#include <signal.h>
#include <sys/types.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/idempotency/idempotency_store.h"
#include "lib/idempotency/postgres_store.h"
#include "tests/idempotency/postgres_test_env.h"

namespace payments::idempotency::testing {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);
constexpr absl::Duration kLease = absl::Seconds(30);
constexpr absl::Duration kRetention = absl::Hours(24);

class PostgresOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::optional<std::string> url = PostgresTestUrl();
    std::optional<std::string> dir = PostgresTestClusterDir();
    if (!url.has_value() || !dir.has_value()) {
      GTEST_SKIP() << "needs the ctest PostgreSQL fixture";
    }
    script_ = POSTGRES_TEST_SCRIPT;
    url_ = *url;
    dir_ = *dir;
    absl::Status wiped = WipePostgresDatabase(url_);
    ASSERT_TRUE(wiped.ok()) << wiped;
  }

  void TearDown() override {
    if (!dir_.empty()) Server("start");  // Leave it running for the others.
  }

  // scripts/postgres-test.sh start|stop on the fixture's cluster.
  bool Server(const std::string& action) {
    std::string command =
        absl::StrCat(script_, " ", action, " '", dir_, "' >/dev/null");
    if (action == "stop") command += " 2>&1";
    return std::system(command.c_str()) == 0;
  }

  std::string script_;
  std::string url_;
  std::string dir_;
};

// Runs `op` and checks it failed with UNAVAILABLE within `limit`.
template <typename Op>
void ExpectPromptlyUnavailable(const char* name, Op op,
                               absl::Duration limit = absl::Seconds(5)) {
  const absl::Time start = absl::Now();
  absl::Status status = op();
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable)
      << name << ": " << status;
  EXPECT_LT(took, limit) << name;
}

TEST_F(PostgresOutageTest, StoreRecoversByItselfAfterServerRestart) {
  absl::StatusOr<std::unique_ptr<IdempotencyStore>> opened = OpenStore(url_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  IdempotencyStore& store = **opened;
  ASSERT_TRUE(store.Migrate().ok());
  const Key done{.account = "acct", .reference = "Order-before"};
  ASSERT_TRUE(store
                  .Reserve(done, "fp", "1 GBP", "k", "owner-a", kNow, kLease,
                           kRetention)
                  .ok());
  ASSERT_TRUE(store.MarkSent(done, "owner-a", kNow).ok());
  ASSERT_TRUE(store.Succeed(done, "owner-a", "pi_1", "intent", kNow).ok());
  const Key unknown{.account = "acct", .reference = "Order-unknown"};
  ASSERT_TRUE(store
                  .Reserve(unknown, "fp", "1 GBP", "k", "owner-a", kNow, kLease,
                           kRetention)
                  .ok());
  ASSERT_TRUE(store.MarkSent(unknown, "owner-a", kNow).ok());
  ASSERT_TRUE(store.MarkUnknown(unknown, "owner-a", kNow).ok());
  // Several pooled connections, all of which the outage will break.
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&] { EXPECT_TRUE(store.Ping().ok()); });
    }
    for (std::thread& thread : threads) thread.join();
  }

  ASSERT_TRUE(Server("stop"));
  const Key key{.account = "acct", .reference = "Order-during"};
  ExpectPromptlyUnavailable("ping", [&] { return store.Ping(); });
  ExpectPromptlyUnavailable("reserve", [&] {
    return store
        .Reserve(key, "fp", "1 GBP", "k", "owner-b", kNow, kLease, kRetention)
        .status();
  });
  ExpectPromptlyUnavailable("get",
                            [&] { return store.Get(done, kNow).status(); });
  ExpectPromptlyUnavailable(
      "mark sent", [&] { return store.MarkSent(key, "owner-b", kNow); });
  ExpectPromptlyUnavailable("succeed", [&] {
    return store.Succeed(key, "owner-b", "pi", "x", kNow);
  });
  ExpectPromptlyUnavailable(
      "resolve", [&] { return store.Resolve(unknown, 3, "pi", "x", kNow); });
  ExpectPromptlyUnavailable("claim due", [&] {
    return store.ClaimDue(kNow, "reconciler", kLease, 10).status();
  });
  ExpectPromptlyUnavailable("list attempts",
                            [&] { return store.ListAttempts(done).status(); });
  ExpectPromptlyUnavailable("summarize unknown", [&] {
    return store.SummarizeUnknown(kNow).status();
  });
  ExpectPromptlyUnavailable("remember event", [&] {
    return store.RememberEvent("evt", kNow, kRetention).status();
  });
  ExpectPromptlyUnavailable("migrate", [&] { return store.Migrate(); });
  ExpectPromptlyUnavailable("ping again", [&] { return store.Ping(); });

  ASSERT_TRUE(Server("start"));
  // The same object, not recreated: the first call after the restart works.
  absl::Status ping = store.Ping();
  EXPECT_TRUE(ping.ok()) << ping;
  absl::StatusOr<std::optional<Record>> got = store.Get(done, kNow);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->result, "intent");
  absl::StatusOr<ReserveResult> reserved = store.Reserve(
      key, "fp", "1 GBP", "k", "owner-b", kNow, kLease, kRetention);
  ASSERT_TRUE(reserved.ok()) << reserved.status();
  EXPECT_TRUE(reserved->acquired);
  // The journal kept what happened before the outage.
  absl::StatusOr<std::vector<Record>> due =
      store.ClaimDue(kNow, "reconciler", kLease, 10);
  ASSERT_TRUE(due.ok()) << due.status();
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].key.reference, "Order-unknown");
  EXPECT_TRUE(
      store.Resolve(unknown, (*due)[0].version, "pi_2", "intent", kNow).ok());
  // Idle pooled connections from before the restart are not handed out.
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      absl::Status status = store.Ping();
      EXPECT_TRUE(status.ok()) << status;
    });
  }
  for (std::thread& thread : threads) thread.join();
}

TEST_F(PostgresOutageTest, IdleConnectionsBrokenByARestartAreReplaced) {
  absl::StatusOr<std::unique_ptr<IdempotencyStore>> opened = OpenStore(url_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  IdempotencyStore& store = **opened;
  ASSERT_TRUE(store.Migrate().ok());
  // Restart while the store holds an idle connection and makes no call.
  ASSERT_TRUE(Server("stop"));
  ASSERT_TRUE(Server("start"));
  for (int i = 0; i < 3; ++i) {
    absl::Status ping = store.Ping();
    EXPECT_TRUE(ping.ok()) << "call " << i << ": " << ping;
  }
}

// The postmaster's PID (first line of postmaster.pid) and its children.
std::vector<pid_t> ClusterPids(const std::string& data_dir) {
  std::vector<pid_t> pids;
  std::ifstream pid_file(data_dir + "/postmaster.pid");
  std::string line;
  pid_t postmaster = 0;
  if (!std::getline(pid_file, line) || !absl::SimpleAtoi(line, &postmaster) ||
      postmaster <= 0) {
    return pids;
  }
  pids.push_back(postmaster);
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  while (dirent* entry = readdir(proc)) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
    std::string text((std::istreambuf_iterator<char>(stat)),
                     std::istreambuf_iterator<char>());
    // Fields after the command name (which may hold spaces): state, ppid.
    size_t close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 1));
    std::string state;
    pid_t ppid = 0;
    if (rest >> state >> ppid && ppid == postmaster) pids.push_back(pid);
  }
  closedir(proc);
  return pids;
}

// SIGSTOPs the cluster's processes; SIGCONTs them when destroyed.
class FrozenServer final {
 public:
  explicit FrozenServer(std::vector<pid_t> pids) : pids_(std::move(pids)) {
    for (pid_t pid : pids_) kill(pid, SIGSTOP);
  }
  ~FrozenServer() {
    for (pid_t pid : pids_) kill(pid, SIGCONT);
  }
  FrozenServer(const FrozenServer&) = delete;
  FrozenServer& operator=(const FrozenServer&) = delete;

 private:
  std::vector<pid_t> pids_;
};

TEST_F(PostgresOutageTest, HungServerCannotParkCallers) {
  absl::StatusOr<std::unique_ptr<PostgresStore>> opened =
      PostgresStore::Open(url_, {.max_connections = 2,
                                 .connect_timeout = absl::Seconds(1),
                                 .statement_timeout = absl::Seconds(1),
                                 .acquire_timeout = absl::Seconds(1)});
  ASSERT_TRUE(opened.ok()) << opened.status();
  PostgresStore& store = **opened;
  ASSERT_TRUE(store.Migrate().ok());
  ASSERT_TRUE(store.Ping().ok());  // One pooled, established connection.
  std::vector<pid_t> pids = ClusterPids(dir_ + "/data");
  ASSERT_GE(pids.size(), 2u);
  {
    FrozenServer frozen(pids);
    // The pooled connection: its statement times out on the client side.
    ExpectPromptlyUnavailable(
        "statement on a frozen server", [&] { return store.Ping(); },
        absl::Seconds(4));
    // A new connection: connecting times out.
    ExpectPromptlyUnavailable(
        "connect to a frozen server", [&] { return store.Ping(); },
        absl::Seconds(4));
  }
  // Thawed: the store works again.
  absl::Status ping = absl::UnknownError("not tried");
  for (int i = 0; i < 20 && !ping.ok(); ++i) {
    ping = store.Ping();
    if (!ping.ok()) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(ping.ok()) << ping;
}

}  // namespace
}  // namespace payments::idempotency::testing
