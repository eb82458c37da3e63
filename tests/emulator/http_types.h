// Types shared by the emulator's HTTP plumbing and its handlers.
#ifndef TESTS_EMULATOR_HTTP_TYPES_H_
#define TESTS_EMULATOR_HTTP_TYPES_H_

#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dojo_emulator {

namespace http = boost::beast::http;

// Ordered so that responses keep the field order they were built in (the
// webhook payload's key order is part of its signature).
using Json = nlohmann::ordered_json;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// What the server does with one request: answer it, possibly after a delay,
// or close the connection without answering.
struct Reply {
  Response response;
  std::chrono::milliseconds delay{0};
  bool drop = false;
};

// Handlers may call the callback on any thread, exactly once.
using ReplyCallback = std::function<void(Reply)>;
using Handler = std::function<void(Request, ReplyCallback)>;

// A request target split at the first '?'.
struct Target {
  std::string path;
  std::string query;
};
Target SplitTarget(std::string_view target);

// "/a/b/c" -> {"a", "b", "c"}; empty segments are kept except a trailing one.
std::vector<std::string> SplitPath(std::string_view path);

// The percent-decoded value of the first `name` parameter in `query`.
std::optional<std::string> QueryParam(std::string_view query,
                                      std::string_view name);

// A response with the given body; sets Content-Type unless it is empty.
Response MakeResponse(http::status status, std::string content_type,
                      std::string body);
Response JsonResponse(http::status status, const Json& body);

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_HTTP_TYPES_H_
