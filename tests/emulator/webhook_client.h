// Delivers webhook events over plain HTTP, asynchronously.
#ifndef TESTS_EMULATOR_WEBHOOK_CLIENT_H_
#define TESTS_EMULATOR_WEBHOOK_CLIENT_H_

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <string>

namespace dojo_emulator {

class WebhookClient final {
 public:
  explicit WebhookClient(
      boost::asio::any_io_executor executor,
      std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : executor_(std::move(executor)), timeout_(timeout) {}

  // True for the URLs Post accepts: "http://host[:port][/path]".
  static bool IsSupportedUrl(const std::string& url);

  // POSTs `body` to `url` ("http://host[:port][/path]") with Content-Type
  // application/json and the `dojo-signature` header, then calls `done` once,
  // on an executor thread, with the response status (0 on any failure,
  // including a malformed URL or the timeout).
  void Post(const std::string& url, std::string body, std::string signature,
            std::function<void(int)> done);

 private:
  boost::asio::any_io_executor executor_;
  std::chrono::milliseconds timeout_;
};

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_WEBHOOK_CLIENT_H_
