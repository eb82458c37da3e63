#include "tests/emulator/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <type_traits>

namespace dojo_emulator {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(120);
constexpr auto kIoTimeout = std::chrono::seconds(30);
constexpr uint64_t kBodyLimit = 8 * 1024 * 1024;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One connection: read a request, hand it to the handler, write (or withhold)
// the reply, repeat while the client keeps the connection alive. All work
// runs on the connection's strand.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Session(tcp::socket&& socket, ssl::context* tls,
          std::shared_ptr<const Handler> handler)
      : stream_(MakeStream(std::move(socket), tls)),
        timer_(stream_.get_executor()),
        handler_(std::move(handler)) {}

  void Start() {
    net::dispatch(stream_.get_executor(),
                  [self = this->shared_from_this()] { self->OnStart(); });
  }

 private:
  static Stream MakeStream(tcp::socket&& socket, ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *tls);
    } else {
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void OnStart() {
    if constexpr (kTls) {
      Lowest().expires_after(kIoTimeout);
      stream_.async_handshake(
          ssl::stream_base::server,
          [self = this->shared_from_this()](beast::error_code ec) {
            if (ec) return self->Abort();
            self->DoRead();
          });
    } else {
      DoRead();
    }
  }

  void DoRead() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    Lowest().expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](
                         beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return DoEof();
    if (ec) return Abort();
    Request req = parser_->release();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    Lowest().expires_never();
    auto self = this->shared_from_this();
    (*handler_)(std::move(req), [self](Reply reply) {
      net::dispatch(self->stream_.get_executor(),
                    [self, reply = std::move(reply)]() mutable {
                      self->OnReply(std::move(reply));
                    });
    });
  }

  void OnReply(Reply reply) {
    if (reply.delay.count() <= 0) return Finish(std::move(reply));
    timer_.expires_after(reply.delay);
    timer_.async_wait([self = this->shared_from_this(),
                       reply = std::move(reply)](beast::error_code) mutable {
      self->Finish(std::move(reply));
    });
  }

  void Finish(Reply reply) {
    if (reply.drop) return Abort();
    res_ = std::move(reply.response);
    res_.version(version_);
    res_.keep_alive(keep_alive_);
    res_.prepare_payload();
    Lowest().expires_after(kIoTimeout);
    http::async_write(
        stream_, res_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) {
          if (ec) return self->Abort();
          if (!self->keep_alive_) return self->DoEof();
          self->DoRead();
        });
  }

  // Orderly close: TLS close_notify, then a TCP FIN.
  void DoEof() {
    if constexpr (kTls) {
      Lowest().expires_after(kIoTimeout);
      stream_.async_shutdown([self = this->shared_from_this()](
                                 beast::error_code) { self->Abort(); });
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  // Closes the TCP connection without another byte of HTTP (or TLS).
  void Abort() {
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close();
  }

  Stream stream_;
  net::steady_timer timer_;
  std::shared_ptr<const Handler> handler_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response res_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

}  // namespace

class HttpServer::Listener
    : public std::enable_shared_from_this<HttpServer::Listener> {
 public:
  Listener(net::io_context& ioc, ssl::context* tls,
           std::shared_ptr<const Handler> handler)
      : ioc_(ioc),
        acceptor_(net::make_strand(ioc)),
        retry_timer_(acceptor_.get_executor()),
        tls_(tls),
        handler_(std::move(handler)) {}

  std::optional<uint16_t> Open(const tcp::endpoint& endpoint,
                               std::string* error) {
    beast::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      *error = "cannot listen on " + endpoint.address().to_string() + ":" +
               std::to_string(endpoint.port()) + ": " + ec.message();
      return std::nullopt;
    }
    return acceptor_.local_endpoint().port();
  }

  void Start() {
    net::dispatch(acceptor_.get_executor(),
                  [self = shared_from_this()] { self->DoAccept(); });
  }

  void Stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_timer_.cancel();
    });
  }

 private:
  void DoAccept() {
    acceptor_.async_accept(
        net::make_strand(ioc_),
        [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
          self->OnAccept(ec, std::move(socket));
        });
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Typically EMFILE: back off briefly instead of spinning.
      retry_timer_.expires_after(std::chrono::milliseconds(50));
      retry_timer_.async_wait([self = shared_from_this()](beast::error_code e) {
        if (!e) self->DoAccept();
      });
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (tls_ != nullptr) {
      std::make_shared<Session<TlsStream>>(std::move(socket), tls_, handler_)
          ->Start();
    } else {
      std::make_shared<Session<PlainStream>>(std::move(socket), nullptr,
                                             handler_)
          ->Start();
    }
    DoAccept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  ssl::context* tls_;
  std::shared_ptr<const Handler> handler_;
};

HttpServer::HttpServer(net::io_context& ioc, Handler handler)
    : ioc_(ioc),
      handler_(std::make_shared<const Handler>(std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

std::optional<uint16_t> HttpServer::Listen(const std::string& address,
                                           uint16_t port, ssl::context* tls,
                                           std::string* error) {
  beast::error_code ec;
  net::ip::address ip = net::ip::make_address(address, ec);
  if (ec) {
    *error = "bad bind address '" + address + "'";
    return std::nullopt;
  }
  auto listener = std::make_shared<Listener>(ioc_, tls, handler_);
  std::optional<uint16_t> bound = listener->Open({ip, port}, error);
  if (!bound) return std::nullopt;
  listener->Start();
  listeners_.push_back(std::move(listener));
  return bound;
}

void HttpServer::Stop() {
  for (auto& listener : listeners_) listener->Stop();
  listeners_.clear();
}

}  // namespace dojo_emulator
