// PostgresStore without a server: URL handling, unreachable and silent
// servers, and the masking of credentials. The behaviour against a real
// server is in tests/idempotency.

#include "lib/idempotency/postgres_store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/idempotency/idempotency_store.h"
#include "lib/idempotency/postgres_connection.h"

namespace payments::idempotency {
namespace {

constexpr char kPassword[] = "s3cret-Pa55word";
const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

// A loopback TCP socket bound to a free port. Listening, it accepts
// connections into its backlog and never answers (a hung server); not
// listening, connections are refused.
class LoopbackSocket final {
 public:
  explicit LoopbackSocket(bool listen_too) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        (listen_too && listen(fd_, 16) != 0)) {
      ADD_FAILURE() << "cannot set up a loopback socket";
    }
    port_ = ntohs(addr.sin_port);
  }
  ~LoopbackSocket() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string UrlFor(int port) {
  return absl::StrCat("postgresql://payments:", kPassword, "@127.0.0.1:", port,
                      "/payments");
}

TEST(PostgresStoreTest, UnparsableConnectionStringsAreInvalidArgument) {
  for (const std::string& conninfo :
       {absl::StrCat("postgresql://u:", kPassword, "@host:notaport/db?x=y"),
        absl::StrCat("postgresql://u:", kPassword, "@h/db?nosuchoption=1"),
        absl::StrCat("password=", kPassword, " host='unterminated")}) {
    absl::StatusOr<std::unique_ptr<PostgresStore>> store =
        PostgresStore::Open(conninfo);
    EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument)
        << conninfo;
    EXPECT_FALSE(absl::StrContains(store.status().ToString(), kPassword));
  }
}

TEST(PostgresStoreTest, ConnectTimeoutZeroIsRejected) {
  EXPECT_EQ(PostgresStore::Open("postgresql://u@127.0.0.1/db?connect_timeout=0")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      PostgresStore::Open("postgresql://u@127.0.0.1/db", {.max_connections = 0})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(PostgresStoreTest, OpenStoreAcceptsBothSchemesWithoutConnecting) {
  LoopbackSocket refused(/*listen_too=*/false);
  for (const std::string scheme : {"postgresql://", "postgres://"}) {
    absl::StatusOr<std::unique_ptr<IdempotencyStore>> store =
        OpenStore(absl::StrCat(scheme, "u:", kPassword,
                               "@127.0.0.1:", refused.port(), "/db"));
    EXPECT_TRUE(store.ok()) << store.status();
  }
}

TEST(PostgresStoreTest, UnreachableServerIsUnavailableAtOnce) {
  LoopbackSocket refused(/*listen_too=*/false);
  absl::StatusOr<std::unique_ptr<IdempotencyStore>> store =
      OpenStore(UrlFor(refused.port()));
  ASSERT_TRUE(store.ok()) << store.status();
  const absl::Time start = absl::Now();
  absl::Status ping = (*store)->Ping();
  absl::Status migrate = (*store)->Migrate();
  absl::StatusOr<ReserveResult> reserve =
      (*store)->Reserve(Key{.account = "a", .reference = "r"}, "fp", "", "",
                        "owner", kNow, absl::Seconds(30), absl::Hours(1));
  absl::Status settle =
      (*store)->SettleNotCreated(Key{.account = "", .reference = "r"}, 1, kNow);
  absl::StatusOr<std::vector<Record>> claim =
      (*store)->ClaimDue(kNow, "reconciler", absl::Seconds(30), 10);
  absl::StatusOr<std::optional<absl::Time>> event =
      (*store)->RememberEvent("evt", kNow, absl::Hours(1));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  for (const absl::Status& status : {ping, migrate, reserve.status(), settle,
                                     claim.status(), event.status()}) {
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
    EXPECT_FALSE(absl::StrContains(status.ToString(), kPassword)) << status;
    EXPECT_LT(status.message().size(), 300u);
  }
}

TEST(PostgresStoreTest, SilentServerTimesOutAtConnectTimeout) {
  LoopbackSocket silent(/*listen_too=*/true);
  absl::StatusOr<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(
      UrlFor(silent.port()), {.connect_timeout = absl::Seconds(1)});
  ASSERT_TRUE(store.ok()) << store.status();
  const absl::Time start = absl::Now();
  absl::Status ping = (*store)->Ping();
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(ping.code(), absl::StatusCode::kUnavailable) << ping;
  EXPECT_GE(took, absl::Milliseconds(900));
  EXPECT_LT(took, absl::Seconds(3));
  EXPECT_FALSE(absl::StrContains(ping.ToString(), kPassword));
}

TEST(PostgresStoreTest, UrlConnectTimeoutTakesPrecedence) {
  LoopbackSocket silent(/*listen_too=*/true);
  absl::StatusOr<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(
      absl::StrCat(UrlFor(silent.port()), "?connect_timeout=1"),
      {.connect_timeout = absl::Seconds(30)});
  ASSERT_TRUE(store.ok()) << store.status();
  const absl::Time start = absl::Now();
  EXPECT_EQ((*store)->Ping().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST(SanitizePostgresMessageTest, KeepsOneShortLineWithoutTheSecret) {
  EXPECT_EQ(
      SanitizePostgresMessage("bad password xyz for u\nDETAIL: more", "xyz"),
      "bad password *** for u");
  EXPECT_EQ(SanitizePostgresMessage("trailing  \n", ""), "trailing");
  std::string longer = SanitizePostgresMessage(std::string(1000, 'a'), "");
  EXPECT_LE(longer.size(), 210u);
}

}  // namespace
}  // namespace payments::idempotency
