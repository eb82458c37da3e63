#include "tests/emulator/problem_details.h"

namespace dojo_emulator {
namespace {

// The `type` URIs ASP.NET's ProblemDetailsFactory uses by default.
std::string ProblemType(int status) {
  switch (status) {
    case 400:
      return "https://tools.ietf.org/html/rfc7231#section-6.5.1";
    case 401:
      return "https://tools.ietf.org/html/rfc7235#section-3.1";
    case 403:
      return "https://tools.ietf.org/html/rfc7231#section-6.5.3";
    case 404:
      return "https://tools.ietf.org/html/rfc7231#section-6.5.4";
    case 405:
      return "https://tools.ietf.org/html/rfc7231#section-6.5.5";
    case 409:
      return "https://tools.ietf.org/html/rfc7231#section-6.5.8";
    case 415:
      return "https://tools.ietf.org/html/rfc7231#section-6.5.13";
    case 422:
      return "https://tools.ietf.org/html/rfc4918#section-11.2";
    case 429:
      return "https://tools.ietf.org/html/rfc6585#section-4";
    case 500:
      return "https://tools.ietf.org/html/rfc7231#section-6.6.1";
    case 502:
      return "https://tools.ietf.org/html/rfc7231#section-6.6.3";
    case 503:
      return "https://tools.ietf.org/html/rfc7231#section-6.6.4";
    case 504:
      return "https://tools.ietf.org/html/rfc7231#section-6.6.5";
    default:
      return "about:blank";
  }
}

constexpr char kProblemJson[] = "application/problem+json; charset=utf-8";

}  // namespace

Response ProblemResponse(int status, const std::string& detail,
                         const std::string& trace_id) {
  Json body = Json::object();
  body["type"] = ProblemType(status);
  std::string_view reason =
      http::obsolete_reason(static_cast<http::status>(status));
  body["title"] = reason.empty() ? "Error" : std::string(reason);
  body["status"] = status;
  if (!detail.empty()) body["detail"] = detail;
  body["traceId"] = trace_id;
  return MakeResponse(static_cast<http::status>(status), kProblemJson,
                      body.dump());
}

Response ValidationProblemResponse(const Json& errors,
                                   const std::string& trace_id) {
  Json body = Json::object();
  body["type"] = ProblemType(400);
  body["title"] = "One or more validation errors occurred.";
  body["status"] = 400;
  body["traceId"] = trace_id;
  body["errors"] = errors;
  return MakeResponse(http::status::bad_request, kProblemJson, body.dump());
}

}  // namespace dojo_emulator
