#include "lib/dojo/curl_multi_transport.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "boost/asio.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/dojo/http_transport.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace payments::dojo {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// ---------------------------------------------------------------------------
// A loopback HTTP/1.1 (optionally TLS) server: Beast parses and serializes,
// one io_context thread serves every connection.

struct SeenRequest {
  std::string method;
  std::string target;
  HttpHeaders headers;  // Names as sent.
  std::string body;
  int client_port = 0;  // Identifies the connection.

  // The first header named `name` (any case), or nullopt.
  std::optional<std::string> Find(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (absl::AsciiStrToLower(key) ==
          absl::AsciiStrToLower(std::string(name)))
        return value;
    }
    return std::nullopt;
  }
};

struct Reply {
  bool close_without_answer = false;
  std::chrono::milliseconds delay{0};
  int status = 200;
  HttpHeaders headers;
  std::string body;
};

class LoopbackServer {
 public:
  using Handler = std::function<Reply(const SeenRequest&)>;

  // Plain HTTP unless `cert_file`/`key_file` (PEM) are given.
  explicit LoopbackServer(Handler handler, const std::string& cert_file = "",
                          const std::string& key_file = "")
      : handler_(std::move(handler)),
        acceptor_(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
    if (!cert_file.empty()) {
      tls_.emplace(asio::ssl::context::tls_server);
      tls_->use_certificate_chain_file(cert_file);
      tls_->use_private_key_file(key_file, asio::ssl::context::pem);
    }
    asio::co_spawn(io_, Accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  ~LoopbackServer() {
    io_.stop();
    thread_.join();
  }

  int port() const { return acceptor_.local_endpoint().port(); }

  std::string Url(std::string_view path) const {
    return absl::StrCat(tls_ ? "https" : "http", "://127.0.0.1:", port(),
                        std::string(path));
  }

  std::vector<SeenRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

  size_t request_count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }

  // Connections the peer has not closed yet.
  int open_connections() const { return open_connections_.load(); }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
      if (tls_) {
        asio::co_spawn(io_, ServeTls(std::move(socket)), asio::detached);
      } else {
        asio::co_spawn(io_, ServePlain(std::move(socket)), asio::detached);
      }
    }
  }

  asio::awaitable<void> ServePlain(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    co_await Serve(stream);
  }

  asio::awaitable<void> ServeTls(tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls_);
    boost::system::error_code error;
    co_await stream.async_handshake(
        asio::ssl::stream_base::server,
        asio::redirect_error(asio::use_awaitable, error));
    if (!error) co_await Serve(stream);
  }

  // Serves requests on one connection until the peer closes, an error, or a
  // Reply asks to close. Returning destroys (closes) the stream.
  template <typename Stream>
  asio::awaitable<void> Serve(Stream& stream) {
    open_connections_.fetch_add(1);
    struct Closed {
      std::atomic<int>& open;
      ~Closed() { open.fetch_sub(1); }
    } closed{open_connections_};
    beast::flat_buffer buffer;
    for (;;) {
      boost::system::error_code error;
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 << 20);
      co_await http::async_read(
          stream, buffer, parser,
          asio::redirect_error(asio::use_awaitable, error));
      if (error) co_return;
      http::request<http::string_body> request = parser.release();
      SeenRequest seen;
      seen.method = std::string(request.method_string());
      seen.target = std::string(request.target());
      for (const auto& field : request) {
        seen.headers.emplace_back(std::string(field.name_string()),
                                  std::string(field.value()));
      }
      seen.body = request.body();
      seen.client_port =
          beast::get_lowest_layer(stream).socket().remote_endpoint().port();
      Reply reply = handler_(seen);
      {
        std::lock_guard lock(mu_);
        requests_.push_back(std::move(seen));
      }
      if (reply.delay.count() > 0) {
        asio::steady_timer timer(io_, reply.delay);
        co_await timer.async_wait(
            asio::redirect_error(asio::use_awaitable, error));
      }
      if (reply.close_without_answer) co_return;
      http::response<http::string_body> response(
          static_cast<http::status>(reply.status), request.version());
      for (const auto& [name, value] : reply.headers) {
        response.set(name, value);
      }
      response.body() = reply.body;
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      co_await http::async_write(
          stream, response, asio::redirect_error(asio::use_awaitable, error));
      if (error || !request.keep_alive()) co_return;
    }
  }

  Handler handler_;
  std::optional<asio::ssl::context> tls_;  // Outlives io_'s coroutines.
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<SeenRequest> requests_;
  std::atomic<int> open_connections_{0};
};

// A TCP listener that never accepts: connections complete in the kernel
// backlog, then nothing is ever read or written.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(fd_, 16);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_;
};

// ---------------------------------------------------------------------------
// Helpers.

Reply Ok(std::string body = "ok") {
  Reply reply;
  reply.body = std::move(body);
  return reply;
}

std::unique_ptr<CurlMultiTransport> MakeTransport(
    CurlMultiTransport::Options options = {}) {
  auto transport = CurlMultiTransport::Create(std::move(options));
  EXPECT_TRUE(transport.ok()) << transport.status();
  return transport.ok() ? *std::move(transport) : nullptr;
}

absl::StatusOr<HttpResponse> SendAndWait(HttpTransport& transport,
                                         HttpRequest request) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<HttpResponse>>>();
  std::future<absl::StatusOr<HttpResponse>> future = promise->get_future();
  transport.Send(std::move(request),
                 [promise](absl::StatusOr<HttpResponse> result) {
                   promise->set_value(std::move(result));
                 });
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return absl::InternalError("test: no completion within 10 s");
  }
  return future.get();
}

HttpRequest Get(std::string url) {
  HttpRequest request;
  request.method = "GET";
  request.url = std::move(url);
  return request;
}

int ThreadCount() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++count;
  }
  return count;
}

// Runs `command` with /bin/sh, output discarded; true on a zero exit.
bool RunShell(const std::string& command) {
  return std::system(("(" + command + ") >/dev/null 2>&1").c_str()) == 0;
}

// ---------------------------------------------------------------------------

TEST(TransportStageTest, DefaultsToSent) {
  EXPECT_EQ(GetTransportStage(absl::UnavailableError("x")),
            TransportStage::kSent);
  absl::Status status = absl::UnavailableError("x");
  SetTransportStage(status, TransportStage::kNotSent);
  EXPECT_EQ(GetTransportStage(status), TransportStage::kNotSent);
  SetTransportStage(status, TransportStage::kSent);
  EXPECT_EQ(GetTransportStage(status), TransportStage::kSent);
}

TEST(HttpResponseTest, HeaderLookup) {
  HttpResponse response;
  response.headers = {{"retry-after", "3"}, {"x-a", "1"}, {"x-a", "2"}};
  EXPECT_EQ(response.Header("retry-after"), "3");
  EXPECT_EQ(response.Header("x-a"), "1");
  EXPECT_EQ(response.Header("missing"), "");
}

TEST(CurlMultiTransportTest, CreateRejectsBadOptions) {
  CurlMultiTransport::Options options;
  options.max_connections_per_host = 0;
  EXPECT_EQ(CurlMultiTransport::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = {};
  options.connect_timeout = absl::ZeroDuration();
  EXPECT_EQ(CurlMultiTransport::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = {};
  options.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(CurlMultiTransport::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CurlMultiTransportTest, GetRoundTrip) {
  LoopbackServer server([](const SeenRequest&) {
    Reply reply = Ok(R"({"id":"pi_1"})");
    reply.headers = {{"Content-Type", "application/json"},
                     {"X-Request-ID", "Trace-123"},
                     {"Retry-After", "7"}};
    return reply;
  });
  auto transport = MakeTransport();
  HttpRequest request = Get(server.Url("/payment-intents/pi_1?expand=a%20b"));
  request.headers = {{"Authorization", "Basic sk_sandbox_abc"},
                     {"version", "2026-02-27"},
                     {"X-Mixed-Case", "Keep  this  Value"}};
  auto response = SendAndWait(*transport, request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status_code, 200);
  EXPECT_EQ(response->body, R"({"id":"pi_1"})");
  EXPECT_EQ(response->Header("x-request-id"), "Trace-123");
  EXPECT_EQ(response->Header("retry-after"), "7");
  EXPECT_EQ(response->Header("content-type"), "application/json");
  for (const auto& [name, value] : response->headers) {
    EXPECT_EQ(name, absl::AsciiStrToLower(name));
  }

  std::vector<SeenRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/payment-intents/pi_1?expand=a%20b");
  EXPECT_EQ(seen[0].Find("Authorization"), "Basic sk_sandbox_abc");
  EXPECT_EQ(seen[0].Find("version"), "2026-02-27");
  EXPECT_EQ(seen[0].Find("X-Mixed-Case"), "Keep  this  Value");
  EXPECT_EQ(seen[0].Find("User-Agent"), "payments-gateway/1");
  EXPECT_EQ(seen[0].Find("Expect"), std::nullopt);
  EXPECT_EQ(seen[0].body, "");
}

TEST(CurlMultiTransportTest, PostRoundTripWithoutExpectContinue) {
  LoopbackServer server([](const SeenRequest&) {
    Reply reply = Ok("created");
    reply.status = 201;
    return reply;
  });
  auto transport = MakeTransport();
  HttpRequest request;
  request.method = "POST";
  request.url = server.Url("/payment-intents");
  request.headers = {{"Content-Type", "application/json"}};
  // Large enough that libcurl would normally ask for 100-continue.
  request.body =
      R"({"reference":"Order-1","pad":")" + std::string(2 << 20, 'x') + R"("})";
  auto response = SendAndWait(*transport, request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status_code, 201);
  EXPECT_EQ(response->body, "created");

  std::vector<SeenRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].body, request.body);
  EXPECT_EQ(seen[0].Find("Content-Type"), "application/json");
  EXPECT_EQ(seen[0].Find("Content-Length"),
            std::to_string(request.body.size()));
  EXPECT_EQ(seen[0].Find("Expect"), std::nullopt);
}

TEST(CurlMultiTransportTest, PostWithEmptyBodySendsContentLengthZero) {
  LoopbackServer server([](const SeenRequest&) { return Ok(); });
  auto transport = MakeTransport();
  HttpRequest request;
  request.method = "POST";
  request.url =
      server.Url("/payment-intents/pi_1/refresh-client-session-secret");
  auto response = SendAndWait(*transport, request);
  ASSERT_TRUE(response.ok()) << response.status();
  std::vector<SeenRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].Find("Content-Length"), "0");
  EXPECT_EQ(seen[0].Find("Content-Type"), std::nullopt);
  EXPECT_EQ(seen[0].body, "");
}

TEST(CurlMultiTransportTest, DeleteAndErrorStatusesAreResponses) {
  LoopbackServer server([](const SeenRequest&) {
    Reply reply = Ok(R"({"detail":"gone"})");
    reply.status = 404;
    return reply;
  });
  auto transport = MakeTransport();
  HttpRequest request;
  request.method = "DELETE";
  request.url = server.Url("/payment-intents/pi_1");
  auto response = SendAndWait(*transport, request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status_code, 404);
  ASSERT_EQ(server.request_count(), 1u);
  EXPECT_EQ(server.requests()[0].method, "DELETE");
}

TEST(CurlMultiTransportTest, RejectsHeaderInjectionAndBadUrls) {
  auto transport = MakeTransport();
  HttpRequest request = Get("http://127.0.0.1:1/x");
  request.headers = {{"X-Evil", "a\r\nHost: other"}};
  auto response = SendAndWait(*transport, request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetTransportStage(response.status()), TransportStage::kNotSent);

  response = SendAndWait(*transport, Get("ftp://127.0.0.1/x"));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);

  HttpRequest bad_method = Get("http://127.0.0.1:1/x");
  bad_method.method = "TRACE";
  response = SendAndWait(*transport, bad_method);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CurlMultiTransportTest, ConnectionRefusedIsUnavailableNotSent) {
  auto port = testing::PickFreePort();
  ASSERT_TRUE(port.ok()) << port.status();
  auto transport = MakeTransport();
  HttpRequest request = Get(absl::StrCat("http://127.0.0.1:", *port, "/x"));
  request.headers = {{"Authorization", "Basic sk_secret_value_123"}};
  auto response = SendAndWait(*transport, request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable)
      << response.status();
  EXPECT_EQ(GetTransportStage(response.status()), TransportStage::kNotSent);
  const std::string message(response.status().message());
  EXPECT_NE(message.find("connection refused"), std::string::npos) << message;
  EXPECT_NE(message.find(absl::StrCat("127.0.0.1:", *port)), std::string::npos);
  EXPECT_EQ(message.find("sk_secret"), std::string::npos);
}

TEST(CurlMultiTransportTest, CloseWithoutAnswerIsUnavailableSent) {
  LoopbackServer server([](const SeenRequest&) {
    Reply reply;
    reply.close_without_answer = true;
    return reply;
  });
  auto transport = MakeTransport();
  HttpRequest request;
  request.method = "POST";
  request.url = server.Url("/payment-intents");
  request.body = "{}";
  auto response = SendAndWait(*transport, request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable)
      << response.status();
  EXPECT_EQ(GetTransportStage(response.status()), TransportStage::kSent);
}

TEST(CurlMultiTransportTest, SlowResponseIsDeadlineExceededSent) {
  LoopbackServer server([](const SeenRequest&) {
    Reply reply = Ok();
    reply.delay = std::chrono::milliseconds(3000);
    return reply;
  });
  auto transport = MakeTransport();
  HttpRequest request = Get(server.Url("/slow"));
  request.timeout = absl::Milliseconds(300);
  const absl::Time start = absl::Now();
  auto response = SendAndWait(*transport, request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded)
      << response.status();
  EXPECT_EQ(GetTransportStage(response.status()), TransportStage::kSent);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(CurlMultiTransportTest, StalledTlsHandshakeIsUnavailableNotSent) {
  SilentListener listener;
  CurlMultiTransport::Options options;
  options.connect_timeout = absl::Milliseconds(300);
  auto transport = MakeTransport(options);
  auto response = SendAndWait(
      *transport,
      Get(absl::StrCat("https://127.0.0.1:", listener.port(), "/")));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable)
      << response.status();
  EXPECT_EQ(GetTransportStage(response.status()), TransportStage::kNotSent);
}

TEST(CurlMultiTransportTest, ThousandConcurrentRequestsOnOneThread) {
  constexpr int kRequests = 1000;
  LoopbackServer server([](const SeenRequest& seen) {
    Reply reply = Ok(seen.target);
    reply.delay = std::chrono::milliseconds(200);
    return reply;
  });
  CurlMultiTransport::Options options;
  options.max_connections_per_host = 250;
  auto transport = MakeTransport(options);
  const int threads_before = ThreadCount();

  std::atomic<int> ok_count{0};
  std::atomic<int> done_count{0};
  const absl::Time start = absl::Now();
  for (int i = 0; i < kRequests; ++i) {
    transport->Send(Get(server.Url(absl::StrCat("/r/", i))),
                    [&, i](absl::StatusOr<HttpResponse> result) {
                      if (result.ok() && result->status_code == 200 &&
                          result->body == absl::StrCat("/r/", i)) {
                        ok_count.fetch_add(1);
                      }
                      done_count.fetch_add(1);
                    });
  }
  EXPECT_GT(transport->ActiveRequests(), 0u);
  int max_threads = ThreadCount();
  while (done_count.load() < kRequests &&
         absl::Now() - start < absl::Seconds(8)) {
    max_threads = std::max(max_threads, ThreadCount());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(done_count.load(), kRequests);
  EXPECT_EQ(ok_count.load(), kRequests);
  EXPECT_EQ(max_threads, threads_before);
  EXPECT_EQ(ThreadCount(), threads_before);
  EXPECT_EQ(transport->ActiveRequests(), 0u);
  EXPECT_EQ(server.request_count(), static_cast<size_t>(kRequests));
}

TEST(CurlMultiTransportTest, ConnectionsAreReused) {
  LoopbackServer server([](const SeenRequest&) { return Ok(); });
  auto transport = MakeTransport();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(SendAndWait(*transport, Get(server.Url("/x"))).ok());
  }
  std::vector<SeenRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].client_port, seen[0].client_port);
  EXPECT_EQ(seen[2].client_port, seen[0].client_port);
}

// A request that must not be re-sent (a create) gets a connection of its
// own, which is closed after the answer rather than left idle in the pool:
// kept, every create would add one until the per-host limit.
TEST(CurlMultiTransportTest,
     UnrepeatableRequestsUseAndCloseTheirOwnConnection) {
  LoopbackServer server([](const SeenRequest&) { return Ok(); });
  auto transport = MakeTransport();
  ASSERT_TRUE(SendAndWait(*transport, Get(server.Url("/read"))).ok());
  for (int i = 0; i < 2; ++i) {
    HttpRequest create = Get(server.Url("/create"));
    create.reuse_connection = false;
    ASSERT_TRUE(SendAndWait(*transport, std::move(create)).ok());
  }
  ASSERT_TRUE(SendAndWait(*transport, Get(server.Url("/read"))).ok());
  std::vector<SeenRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_NE(seen[1].client_port, seen[0].client_port) << "not a reused one";
  EXPECT_NE(seen[2].client_port, seen[1].client_port)
      << "not the last create's";
  EXPECT_NE(seen[2].client_port, seen[0].client_port);
  EXPECT_EQ(seen[3].client_port, seen[0].client_port)
      << "reads keep reusing theirs";
  EXPECT_TRUE(payments::testing::WaitFor(
      [&] { return server.open_connections() == 1; }, absl::Seconds(2)))
      << server.open_connections() << " open: the creates' were kept";
}

TEST(CurlMultiTransportTest, CallbacksMaySendReentrantly) {
  LoopbackServer server([](const SeenRequest&) { return Ok(); });
  auto transport = MakeTransport();
  std::promise<absl::StatusOr<HttpResponse>> second;
  CurlMultiTransport* raw = transport.get();
  transport->Send(Get(server.Url("/first")),
                  [&, raw](absl::StatusOr<HttpResponse> first) {
                    ASSERT_TRUE(first.ok());
                    raw->Send(Get(server.Url("/second")),
                              [&](absl::StatusOr<HttpResponse> result) {
                                second.set_value(std::move(result));
                              });
                  });
  auto future = second.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(5)),
            std::future_status::ready);
  EXPECT_TRUE(future.get().ok());
  EXPECT_EQ(server.request_count(), 2u);
}

TEST(CurlMultiTransportTest, DestructorCancelsEveryRequestExactlyOnce) {
  constexpr int kInFlight = 20;
  LoopbackServer server([](const SeenRequest&) {
    Reply reply = Ok();
    reply.delay = std::chrono::milliseconds(10000);
    return reply;
  });
  auto transport = MakeTransport();
  CurlMultiTransport* raw = transport.get();
  absl::Mutex mu;
  std::vector<int> calls(kInFlight + 3, 0);
  std::vector<absl::StatusCode> codes(kInFlight + 3, absl::StatusCode::kOk);
  auto record = [&](int index) {
    return [&, index](absl::StatusOr<HttpResponse> result) {
      absl::MutexLock lock(&mu);
      ++calls[index];
      codes[index] = result.status().code();
    };
  };
  for (int i = 0; i < kInFlight; ++i) {
    if (i == 0) {
      // Its callback sends again during shutdown: that one is cancelled too.
      transport->Send(Get(server.Url("/0")),
                      [&, raw](absl::StatusOr<HttpResponse> result) {
                        record(0)(std::move(result));
                        raw->Send(Get(server.Url("/again")), record(kInFlight));
                      });
    } else {
      transport->Send(Get(server.Url(absl::StrCat("/", i))), record(i));
    }
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (server.request_count() < kInFlight && absl::Now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(server.request_count(), static_cast<size_t>(kInFlight));
  // A pending timer fires with CANCELLED; the retry it would have started is
  // sent during shutdown and cancelled as well.
  int timer_fired = 0;
  absl::Status timer_status;
  transport->RunAfter(absl::Seconds(60), [&, raw](absl::Status fired) {
    ++timer_fired;
    timer_status = fired;
    raw->Send(Get(server.Url("/retry")), record(kInFlight + 2));
  });
  // Queued but probably not started yet.
  transport->Send(Get(server.Url("/late")), record(kInFlight + 1));
  transport.reset();

  absl::MutexLock lock(&mu);
  for (int i = 0; i < kInFlight + 3; ++i) {
    EXPECT_EQ(calls[i], 1) << i;
    EXPECT_EQ(codes[i], absl::StatusCode::kCancelled) << i;
  }
  EXPECT_EQ(timer_fired, 1);
  EXPECT_EQ(timer_status.code(), absl::StatusCode::kCancelled);
}

TEST(CurlMultiTransportTest, AfterShutdownWorkIsCancelledOnTheCallersThread) {
  auto transport = MakeTransport();
  transport->Shutdown();
  transport->Shutdown();  // Idempotent.
  const std::thread::id caller = std::this_thread::get_id();
  int sent = 0;
  transport->Send(
      Get("http://127.0.0.1:9/x"), [&](absl::StatusOr<HttpResponse> result) {
        ++sent;
        EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled);
        EXPECT_EQ(GetTransportStage(result.status()), TransportStage::kNotSent);
        EXPECT_EQ(std::this_thread::get_id(), caller);
      });
  int fired = 0;
  transport->RunAfter(absl::Seconds(1), [&](absl::Status status) {
    ++fired;
    EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
    EXPECT_EQ(std::this_thread::get_id(), caller);
  });
  EXPECT_EQ(sent, 1);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(transport->ActiveRequests(), 0u);
}

TEST(CurlMultiTransportTest, ShutdownFiresPendingTimersInDueOrder) {
  auto transport = MakeTransport();
  std::vector<std::string> order;
  std::vector<absl::StatusCode> codes;
  auto add = [&](std::string name) {
    return [&, name](absl::Status status) {
      order.push_back(name);
      codes.push_back(status.code());
    };
  };
  transport->RunAfter(absl::Hours(2), add("later"));
  transport->RunAfter(absl::Hours(1), add("sooner"));
  transport->RunAfter(absl::InfiniteDuration(), add("never"));
  transport->Shutdown();
  EXPECT_EQ(order, (std::vector<std::string>{"sooner", "later", "never"}));
  EXPECT_THAT(codes, ::testing::Each(absl::StatusCode::kCancelled));
}

TEST(CurlMultiTransportTest, RunAfterOrdersByDeadline) {
  auto transport = MakeTransport();
  CurlMultiTransport* raw = transport.get();
  absl::Mutex mu;
  std::vector<std::string> order;
  std::promise<void> finished;
  auto add = [&](std::string name) {
    absl::MutexLock lock(&mu);
    order.push_back(std::move(name));
  };
  const absl::Time start = absl::Now();
  absl::Duration last_elapsed;
  // "c" is due long after "b2" (60 + 10 ms), so that a loaded machine
  // running "b" late cannot reorder them.
  transport->RunAfter(absl::Milliseconds(1000), [&](absl::Status) {
    add("c");
    last_elapsed = absl::Now() - start;
    finished.set_value();
  });
  auto named = [&](std::string name) {
    return [&, name](absl::Status status) {
      EXPECT_TRUE(status.ok());
      add(name);
    };
  };
  transport->RunAfter(absl::Milliseconds(30), named("a"));
  transport->RunAfter(absl::Milliseconds(60), [&, raw](absl::Status) {
    add("b");
    // Re-entrant, due before "c".
    raw->RunAfter(absl::Milliseconds(10), named("b2"));
  });
  transport->RunAfter(absl::ZeroDuration(), named("now1"));
  transport->RunAfter(absl::ZeroDuration(), named("now2"));
  ASSERT_EQ(finished.get_future().wait_for(std::chrono::seconds(5)),
            std::future_status::ready);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(order,
            (std::vector<std::string>{"now1", "now2", "a", "b", "b2", "c"}));
  EXPECT_GE(last_elapsed, absl::Milliseconds(1000));
}

// ---------------------------------------------------------------------------
// TLS against a CA generated for the test.

class CurlMultiTransportTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string config = dir_.File("openssl.cnf");
    std::ofstream(config) << R"([req]
distinguished_name = dn
prompt = no
[dn]
CN = payments test
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier = keyid
)";
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
    ASSERT_TRUE(RunShell(absl::StrCat(
        "openssl req -x509 -nodes -days 2 ", ec, " -config ", config,
        " -extensions ca -keyout ", dir_.File("ca.key"), " -out ", ca_file())));
    ASSERT_TRUE(RunShell(absl::StrCat(
        "openssl req -new -nodes ", ec, " -config ", config, " -keyout ",
        key_file(), " -out ", dir_.File("server.csr"))));
    ASSERT_TRUE(RunShell(
        absl::StrCat("openssl x509 -req -days 2 -in ", dir_.File("server.csr"),
                     " -CA ", ca_file(), " -CAkey ", dir_.File("ca.key"),
                     " -CAcreateserial -extfile ", config,
                     " -extensions server -out ", cert_file())));
  }

  std::string ca_file() const { return dir_.File("ca.pem"); }
  std::string cert_file() const { return dir_.File("server.pem"); }
  std::string key_file() const { return dir_.File("server.key"); }

  testing::TempDir dir_;
};

TEST_F(CurlMultiTransportTlsTest, VerifiesWithExtraCa) {
  LoopbackServer server([](const SeenRequest&) { return Ok("secure"); },
                        cert_file(), key_file());
  CurlMultiTransport::Options options;
  options.ca_file = ca_file();
  auto transport = MakeTransport(options);
  auto response = SendAndWait(*transport, Get(server.Url("/tls")));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status_code, 200);
  EXPECT_EQ(response->body, "secure");
}

TEST_F(CurlMultiTransportTlsTest, UnknownCaFailsVerificationNotSent) {
  LoopbackServer server([](const SeenRequest&) { return Ok("secure"); },
                        cert_file(), key_file());
  auto transport = MakeTransport();
  auto response = SendAndWait(*transport, Get(server.Url("/tls")));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable)
      << response.status();
  EXPECT_EQ(GetTransportStage(response.status()), TransportStage::kNotSent);
  EXPECT_EQ(server.request_count(), 0u);
}

}  // namespace
}  // namespace payments::dojo
