// payments-server against the emulator over HTTP/2: nghttpx (TLS, ALPN h2)
// fronts the emulator, which itself only speaks HTTP/1.1, so the service's
// libcurl transport negotiates h2 exactly as it does with api.dojo.tech.
//
// - Http2Test: the five RPCs, with proof from nghttpx's access log that every
//   upstream request was HTTP/2 (ALPN h2), and the create fault matrix over
//   HTTP/2 with the same outcomes as over HTTP/1.1
//   (journal_fault_matrix_test.cc) and exactly one intent per reference.
// - Http2ResendTest: a create must never be re-sent by libcurl itself. A TCP
//   relay between the service and nghttpx lets the test kill the HTTP/2
//   connection while a create on it waits for its answer, after another
//   request has been multiplexed onto the same connection (which is what
//   makes libcurl 7.88 treat the connection as "reused" and re-send requests
//   that saw no response byte: lib/transfer.c, Curl_retry_request()).

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/dojo/curl_multi_transport.h"
#include "payments/v1/payments_service.grpc.pb.h"
#include "tests/integration/create_fault_test.h"
#include "tests/integration/rpc_test_util.h"
#include "tests/integration/stack_test.h"
#include "tests/integration/test_stack.h"
#include "tests/support/wait_for.h"

namespace payments::testing {
namespace {

using nlohmann::json;

std::string Unique(absl::string_view what) {
  return absl::StrCat("Order-h2-", what, "-", absl::ToUnixMicros(absl::Now()));
}

// A byte-for-byte TCP relay on 127.0.0.1 (it never parses what it carries:
// TLS passes through untouched). The test can cut every relayed connection
// at once, either with a TCP reset (what a crashed peer or a middlebox
// produces) or with an orderly close (FIN). One thread; loopback writes are
// small and done blocking.
class TcpRelay final {
 public:
  enum class Cut { kReset, kClose };

  static absl::StatusOr<std::unique_ptr<TcpRelay>> Start(int target_port) {
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0) return absl::InternalError("relay: socket");
    const int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        listen(listener, 64) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) !=
            0) {
      close(listener);
      return absl::InternalError("relay: bind/listen");
    }
    int wake[2];
    if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
      close(listener);
      return absl::InternalError("relay: pipe");
    }
    std::unique_ptr<TcpRelay> relay(new TcpRelay(
        listener, ntohs(address.sin_port), target_port, wake[0], wake[1]));
    relay->thread_ = std::thread([r = relay.get()] { r->Run(); });
    return relay;
  }

  ~TcpRelay() {
    stop_ = true;
    Wake();
    thread_.join();
    for (const Pair& pair : pairs_) {
      close(pair.client);
      close(pair.upstream);
    }
    close(listener_);
    close(wake_read_);
    close(wake_write_);
  }

  int port() const { return port_; }
  int accepted() const { return accepted_.load(); }

  // Cuts every connection relayed so far (both sides) and waits until done.
  void CutAll(Cut how) {
    std::promise<void> done;
    {
      absl::MutexLock lock(&mu_);
      cut_ = how;
      cut_done_ = &done;
    }
    Wake();
    done.get_future().wait();
  }

 private:
  struct Pair {
    int client;
    int upstream;
  };

  TcpRelay(int listener, int port, int target_port, int wake_read,
           int wake_write)
      : listener_(listener),
        port_(port),
        target_port_(target_port),
        wake_read_(wake_read),
        wake_write_(wake_write) {}

  void Wake() { (void)!write(wake_write_, "x", 1); }

  int ConnectUpstream() const {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(target_port_);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&address),
                           sizeof(address)) == 0) {
      return fd;
    }
    if (fd >= 0) close(fd);
    return -1;
  }

  static void CloseSocket(int fd, Cut how) {
    if (how == Cut::kReset) {
      // SO_LINGER 0: close() sends RST instead of FIN.
      const linger abort{.l_onoff = 1, .l_linger = 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
    }
    close(fd);
  }

  // Copies what `from` has to `to`; false once either side is done.
  static bool Pump(int from, int to) {
    char buffer[64 * 1024];
    const ssize_t n = read(from, buffer, sizeof(buffer));
    if (n <= 0) return false;
    for (ssize_t written = 0; written < n;) {
      const ssize_t w = write(to, buffer + written, n - written);
      if (w <= 0) return false;
      written += w;
    }
    return true;
  }

  void Run() {
    while (!stop_) {
      std::vector<pollfd> fds = {{listener_, POLLIN, 0},
                                 {wake_read_, POLLIN, 0}};
      for (const Pair& pair : pairs_) {
        fds.push_back({pair.client, POLLIN, 0});
        fds.push_back({pair.upstream, POLLIN, 0});
      }
      if (poll(fds.data(), fds.size(), 1000) < 0) continue;
      if (fds[1].revents != 0) {
        char drain[64];
        while (read(wake_read_, drain, sizeof(drain)) > 0) {
        }
        std::promise<void>* done = nullptr;
        Cut how = Cut::kReset;
        {
          absl::MutexLock lock(&mu_);
          std::swap(done, cut_done_);
          how = cut_;
        }
        if (done != nullptr) {
          for (const Pair& pair : pairs_) {
            CloseSocket(pair.client, how);
            CloseSocket(pair.upstream, how);
          }
          pairs_.clear();
          done->set_value();
          continue;  // `fds` names closed sockets.
        }
      }
      std::vector<Pair> kept;
      for (size_t i = 0; i < pairs_.size(); ++i) {
        const Pair& pair = pairs_[i];
        bool open = true;
        if (fds[2 + 2 * i].revents != 0) {
          open = Pump(pair.client, pair.upstream);
        }
        if (open && fds[3 + 2 * i].revents != 0) {
          open = Pump(pair.upstream, pair.client);
        }
        if (open) {
          kept.push_back(pair);
        } else {
          close(pair.client);
          close(pair.upstream);
        }
      }
      pairs_ = std::move(kept);
      if (fds[0].revents != 0) {
        const int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client >= 0) {
          const int upstream = ConnectUpstream();
          if (upstream < 0) {
            close(client);
          } else {
            pairs_.push_back({client, upstream});
            accepted_.fetch_add(1);
          }
        }
      }
    }
  }

  const int listener_;
  const int port_;
  const int target_port_;
  const int wake_read_;
  const int wake_write_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::vector<Pair> pairs_;  // Relay thread only.

  absl::Mutex mu_;
  Cut cut_ ABSL_GUARDED_BY(mu_) = Cut::kReset;
  std::promise<void>* cut_done_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// Helpers shared by both suites.
class Http2StackTest : public CreateFaultTest {
 protected:
  static StackOptions Options() {
    StackOptions options = FaultOptions();
    options.http2_proxy = true;
    return options;
  }

  void SetUp() override {
    StackTest::SetUp();
    proxy_log_start_ = stack_->ProxyAccessLog().size();
  }

  // nghttpx's access log lines written since this test started.
  std::vector<std::string> ProxyLog() const {
    std::vector<std::string> log = stack_->ProxyAccessLog();
    log.erase(log.begin(),
              log.begin() + std::min(proxy_log_start_, log.size()));
    return log;
  }

  // This test's access log lines for `method path`, waiting briefly for them
  // to be written (nghttpx logs when the stream closes).
  std::vector<std::string> ProxyLines(const std::string& method,
                                      const std::string& path,
                                      size_t at_least = 1) const {
    std::vector<std::string> lines;
    WaitFor(
        [&] {
          lines.clear();
          for (const std::string& line : ProxyLog()) {
            if (absl::StrContains(line,
                                  absl::StrCat(" ", method, " ", path, " "))) {
              lines.push_back(line);
            }
          }
          return lines.size() >= at_least;
        },
        absl::Seconds(3));
    return lines;
  }

  size_t proxy_log_start_ = 0;

  // Every request nghttpx forwarded in this test arrived over TLS with
  // ALPN h2.
  void ExpectAllHttp2() const {
    const std::vector<std::string> log = ProxyLog();
    ASSERT_FALSE(log.empty()) << "nothing went through nghttpx";
    for (const std::string& line : log) {
      EXPECT_TRUE(absl::StartsWith(line, "h2 HTTP/2 ")) << line;
    }
  }
};

class Http2Test : public Http2StackTest {
 protected:
  static void SetUpTestSuite() { StartStack(Options()); }
};

TEST_F(Http2Test, FiveRpcsReachDojoOverHttp2) {
  auto stub = Stub();
  // CreateIntent, with the client session secret (a second POST).
  v1::CreateIntentRequest create = MinimalCreate(Unique("five"));
  create.set_include_client_session_secret(true);
  v1::CreateIntentResponse created;
  grpc::Status status =
      stub->CreateIntent(ContextWithDeadline().get(), create, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string id = created.intent().id();
  EXPECT_FALSE(created.intent().client_session_secret().empty());

  v1::GetIntentRequest get;
  get.set_id(id);
  v1::GetIntentResponse got;
  status = stub->GetIntent(ContextWithDeadline().get(), get, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.intent().id(), id);
  EXPECT_EQ(got.intent().amount().value(), 1250);

  v1::CreatePaymentLinkRequest link;
  link.set_reference(Unique("link"));
  link.mutable_amount()->set_value(990);
  link.mutable_amount()->set_currency_code("EUR");
  link.mutable_config()->set_title("Pay over h2");
  link.mutable_expire_at()->set_seconds(
      absl::ToUnixSeconds(absl::Now() + absl::Hours(48)));
  v1::CreatePaymentLinkResponse linked;
  status = stub->CreatePaymentLink(ContextWithDeadline().get(), link, &linked);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(absl::StrContains(linked.payment_link(),
                                "/checkout/" + linked.intent().id()));

  v1::RefreshClientSessionSecretRequest refresh;
  refresh.set_id(id);
  v1::RefreshClientSessionSecretResponse refreshed;
  status = stub->RefreshClientSessionSecret(ContextWithDeadline().get(),
                                            refresh, &refreshed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(refreshed.client_session_secret().empty());
  EXPECT_NE(refreshed.client_session_secret(),
            created.intent().client_session_secret());

  // Verification is local (no Dojo call), but it is one of the five and
  // must work on this stack too.
  v1::VerifyWebhookRequest verify;
  verify.set_body(std::string(kDocsBody));
  verify.set_signature(std::string(kDocsSignature));
  v1::VerifyWebhookResponse verified;
  status = stub->VerifyWebhook(ContextWithDeadline().get(), verify, &verified);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(verified.event().id(), "evt_hnnHxIKR_Uy6bhZCusCltw");

  // The emulator answered every upstream request, and each one reached it
  // through nghttpx's HTTP/2 frontend.
  const std::string refresh_path =
      "/payment-intents/" + id + "/refresh-client-session-secret";
  EXPECT_EQ(UpstreamSequence(),
            (std::vector<std::string>{
                "POST /payment-intents 200", "POST " + refresh_path + " 200",
                "GET /payment-intents/" + id + " 200",
                "POST /payment-intents 200", "POST " + refresh_path + " 200"}));
  EXPECT_EQ(ProxyLines("POST", "/payment-intents", 2),
            (std::vector<std::string>{"h2 HTTP/2 POST /payment-intents 200",
                                      "h2 HTTP/2 POST /payment-intents 200"}));
  EXPECT_EQ(ProxyLines("GET", "/payment-intents/" + id),
            (std::vector<std::string>{"h2 HTTP/2 GET /payment-intents/" + id +
                                      " 200"}));
  EXPECT_EQ(ProxyLines("POST", refresh_path, 2).size(), 2u);
  ExpectAllHttp2();
}

// The create fault matrix over HTTP/2. The faults are the emulator's, behind
// nghttpx: a dropped backend connection reaches the service as a 502 on its
// stream instead of a dead connection, so these also check that neither
// nghttpx nor libcurl re-sends the create, and that the outcomes match
// journal_fault_matrix_test.cc's over HTTP/1.1.
TEST_F(Http2Test, SlowCommitPastTheDeadline) {
  const std::string reference = Unique("slow-commit");
  const double before = Settled();
  Script("POST", "/payment-intents",
         json::parse(R"([{"commitDelayMs":8000}])"));
  const FirstCall first = Call(reference);
  ExpectOutcomeUnknown(first);
  ExpectExactlyOnce(reference, first, before);
  EXPECT_EQ(UpstreamCount("POST", "/payment-intents"), 1);
  ExpectAllHttp2();
}

TEST_F(Http2Test, ProcessedThenDropped) {
  const std::string reference = Unique("dropped-after");
  const double before = Settled();
  Script("POST", "/payment-intents",
         json::parse(R"([{"processThenDrop":true}])"));
  const FirstCall first = Call(reference);
  // Found by the call's own search, as over HTTP/1.1.
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  ExpectExactlyOnce(reference, first, before);
  EXPECT_EQ(UpstreamCount("POST", "/payment-intents"), 1);
  EXPECT_EQ(ProxyLines("POST", "/payment-intents").at(0),
            "h2 HTTP/2 POST /payment-intents 502");
  ExpectAllHttp2();
}

TEST_F(Http2Test, ServerErrorAfterProcessing) {
  const std::string reference = Unique("5xx-after");
  const double before = Settled();
  Script("POST", "/payment-intents",
         json::parse(R"([{"processThenStatus":503}])"));
  const FirstCall first = Call(reference);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  ExpectExactlyOnce(reference, first, before);
  EXPECT_EQ(UpstreamCount("POST", "/payment-intents"), 1);
  ExpectAllHttp2();
}

// Unprocessed, but the service cannot know: unknown until the settle period
// passed with nothing found; then the later call creates the one intent.
TEST_F(Http2Test, DroppedBeforeProcessing) {
  const std::string reference = Unique("dropped-before");
  const double before = Settled();
  Script("POST", "/payment-intents", json::parse(R"([{"drop":true}])"));
  const FirstCall first = Call(reference);
  ExpectOutcomeUnknown(first);
  ExpectExactlyOnce(reference, first, before);
  EXPECT_EQ(UpstreamCount("POST", "/payment-intents"), 2)
      << "sent again only after settling as not created";
  EXPECT_EQ(ProxyLines("POST", "/payment-intents", 2),
            (std::vector<std::string>{"h2 HTTP/2 POST /payment-intents 502",
                                      "h2 HTTP/2 POST /payment-intents 200"}));
  ExpectAllHttp2();
}

// The service reaches nghttpx through a TcpRelay the test can cut.
class Http2ResendTest : public Http2StackTest {
 protected:
  static void SetUpTestSuite() {
    StackOptions options = Options();
    options.front_dojo = [](int dojo_port) -> absl::StatusOr<int> {
      auto relay = TcpRelay::Start(dojo_port);
      if (!relay.ok()) return relay.status();
      relay_ = relay->release();
      return relay_->port();
    };
    StartStack(std::move(options));
  }
  static void TearDownTestSuite() {
    StackTest::TearDownTestSuite();  // The servers go before the relay.
    delete relay_;
    relay_ = nullptr;
  }

  void SetUp() override {
    Http2StackTest::SetUp();
    // No idle connection left in the service's pool: the create opens its
    // own, and the read below can only share that one.
    relay_->CutAll(TcpRelay::Cut::kClose);
    absl::SleepFor(absl::Milliseconds(200));
  }

  // An intent made through the control API (no upstream call by the
  // service), for a read the service can send.
  static std::string SomeIntentId() {
    const std::string prefix = Unique("other");
    auto made = stack_->Control(
        "POST", "/_emulator/payment-intents/bulk",
        json{{"account", "default"},
             {"count", 1},
             {"referencePrefix", prefix},
             {"amount", {{"value", 100}, {"currencyCode", "GBP"}}}});
    EXPECT_TRUE(made.ok()) << made.status();
    // References are the prefix plus a 0-based index.
    const std::vector<json> intents = Intents(prefix + "0");
    EXPECT_EQ(intents.size(), 1u);
    return intents.empty() ? "" : intents[0]["id"].get<std::string>();
  }

  // A create waits for a slow commit; a read is multiplexed onto the
  // create's HTTP/2 connection and answered; then the connection is cut
  // with `how`. Returns the create's result.
  FirstCall CreateThenCut(const std::string& reference, TcpRelay::Cut how) {
    const std::string other = SomeIntentId();
    Script("POST", "/payment-intents",
           json::parse(R"([{"commitDelayMs":3000}])"));
    FirstCall first;
    std::thread caller([&] { first = Call(reference); });
    // The emulator has the create (logged at receipt).
    EXPECT_TRUE(
        WaitFor([&] { return UpstreamCount("POST", "/payment-intents") == 1; },
                absl::Seconds(3)));
    v1::GetIntentRequest get;
    get.set_id(other);
    v1::GetIntentResponse got;
    const grpc::Status read =
        Stub()->GetIntent(ContextWithDeadline().get(), get, &got);
    EXPECT_TRUE(read.ok()) << read.error_message();
    EXPECT_EQ(relay_->accepted(), accepted_before_ + 1)
        << "the read must share the create's connection";
    relay_->CutAll(how);
    caller.join();
    return first;
  }

  void ExpectNotResent(const std::string& reference, const FirstCall& first,
                       double before) {
    // Either the call's own search found the one intent, or the outcome is
    // unknown (the slow commit hides it); never a second create.
    std::printf("first call: %s %s after %lld ms\n",
                first.status.ok() ? "OK" : "error",
                ReasonOf(first.status).c_str(),
                static_cast<long long>(absl::ToInt64Milliseconds(first.took)));
    if (first.status.ok()) {
      EXPECT_FALSE(first.response.idempotent_replay());
    } else {
      ExpectOutcomeUnknown(first);
    }
    EXPECT_EQ(UpstreamCount("POST", "/payment-intents"), 1)
        << "libcurl re-sent the create: "
        << absl::StrJoin(UpstreamSequence(), ", ");
    ExpectExactlyOnce(reference, first, before);
    EXPECT_EQ(UpstreamCount("POST", "/payment-intents"), 1);
  }

  inline static TcpRelay* relay_ = nullptr;
  int accepted_before_ = 0;
};

// An orderly close (FIN) of a shared HTTP/2 connection: libcurl 7.88 fails
// the open stream with CURLE_PARTIAL_FILE ("HTTP/2 stream was not closed
// cleanly before end of the underlying stream"), which it never retries.
TEST_F(Http2ResendTest, CreateOnSharedConnectionClosedIsNotResent) {
  const std::string reference = Unique("fin");
  const double before = Settled();
  accepted_before_ = relay_->accepted();
  const FirstCall first = CreateThenCut(reference, TcpRelay::Cut::kClose);
  ExpectNotResent(reference, first, before);
}

// A TCP reset of a shared HTTP/2 connection: the open stream fails with
// CURLE_RECV_ERROR, and libcurl 7.88 re-sends any request that saw no
// response byte on a connection whose `bits.reuse` is set, which the
// multiplexed read set on the create's fresh connection (lib/multi.c
// MSTATE_PERFORM -> Curl_retry_request()). The transport refuses that second
// send (CurlMultiTransport's pre-request callback); without it the emulator
// receives the create twice and holds two intents.
TEST_F(Http2ResendTest, CreateOnSharedConnectionResetIsNotResent) {
  const std::string reference = Unique("rst");
  const double before = Settled();
  accepted_before_ = relay_->accepted();
  const FirstCall first = CreateThenCut(reference, TcpRelay::Cut::kReset);
  ExpectNotResent(reference, first, before);
}

}  // namespace
}  // namespace payments::testing
