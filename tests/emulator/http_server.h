// HTTP/1.1 (keep-alive) server over plain TCP and TLS, built on Beast.
// Fully asynchronous: connections and delayed replies cost no threads.
#ifndef TESTS_EMULATOR_HTTP_SERVER_H_
#define TESTS_EMULATOR_HTTP_SERVER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/emulator/http_types.h"

namespace dojo_emulator {

class HttpServer final {
 public:
  // `handler` is called on io_context threads, concurrently for different
  // connections; one request at a time per connection.
  HttpServer(boost::asio::io_context& ioc, Handler handler);
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `address:port` (port 0: any free port) and starts accepting.
  // `tls` (which must outlive the server) selects HTTPS. Returns the bound
  // port, or nullopt with `error` set.
  std::optional<uint16_t> Listen(const std::string& address, uint16_t port,
                                 boost::asio::ssl::context* tls,
                                 std::string* error);

  // Stops accepting new connections; open ones finish their current request.
  void Stop();

 private:
  class Listener;

  boost::asio::io_context& ioc_;
  std::shared_ptr<const Handler> handler_;
  std::vector<std::shared_ptr<Listener>> listeners_;
};

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_HTTP_SERVER_H_
