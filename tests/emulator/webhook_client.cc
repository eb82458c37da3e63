#include "tests/emulator/webhook_client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <regex>

namespace dojo_emulator {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// One delivery; keeps itself alive through the handlers it schedules.
class Delivery : public std::enable_shared_from_this<Delivery> {
 public:
  Delivery(net::any_io_executor executor, std::chrono::milliseconds timeout,
           std::function<void(int)> done)
      : resolver_(net::make_strand(executor)),
        stream_(resolver_.get_executor()),
        timeout_(timeout),
        done_(std::move(done)) {}

  void Start(std::string host, std::string port,
             http::request<http::string_body> req) {
    req_ = std::move(req);
    stream_.expires_after(timeout_);
    resolver_.async_resolve(
        host, port,
        [self = shared_from_this()](beast::error_code ec,
                                    tcp::resolver::results_type results) {
          if (ec) return self->Finish(0);
          self->stream_.async_connect(
              results, [self](beast::error_code ec, const tcp::endpoint&) {
                if (ec) return self->Finish(0);
                self->OnConnect();
              });
        });
  }

 private:
  void OnConnect() {
    http::async_write(
        stream_, req_,
        [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) return self->Finish(0);
          http::async_read(self->stream_, self->buffer_, self->res_,
                           [self](beast::error_code ec, size_t) {
                             self->Finish(ec ? 0 : self->res_.result_int());
                           });
        });
  }

  void Finish(int status) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    if (done_) {
      auto done = std::move(done_);
      done_ = nullptr;
      done(status);
    }
  }

  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  std::chrono::milliseconds timeout_;
  std::function<void(int)> done_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

const std::regex& UrlPattern() {
  static const std::regex kUrl(
      R"(^http://([^/:?#]+|\[[^\]]+\])(?::(\d{1,5}))?([/?][^\s]*)?$)");
  return kUrl;
}

}  // namespace

bool WebhookClient::IsSupportedUrl(const std::string& url) {
  return std::regex_match(url, UrlPattern());
}

void WebhookClient::Post(const std::string& url, std::string body,
                         std::string signature, std::function<void(int)> done) {
  std::smatch m;
  if (!std::regex_match(url, m, UrlPattern())) {
    net::post(executor_, [done = std::move(done)] { done(0); });
    return;
  }
  std::string host = m[1].str();
  if (host.front() == '[') host = host.substr(1, host.size() - 2);
  std::string port = m[2].matched ? m[2].str() : "80";
  std::string target = m[3].matched ? m[3].str() : "/";
  if (target.front() == '?') target = "/" + target;

  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, m[1].str() + (m[2].matched ? ":" + port : ""));
  req.set(http::field::user_agent, "dojo-emulator");
  req.set(http::field::content_type, "application/json");
  req.set("dojo-signature", signature);
  req.keep_alive(false);
  req.body() = std::move(body);
  req.prepare_payload();
  std::make_shared<Delivery>(executor_, timeout_, std::move(done))
      ->Start(host, port, std::move(req));
}

}  // namespace dojo_emulator
