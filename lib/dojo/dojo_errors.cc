#include "lib/dojo/dojo_errors.h"

#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lib/common/status_details.h"
#include "lib/common/utf8.h"
#include "lib/dojo/retry_policy.h"
#include "nlohmann/json.hpp"

namespace payments::dojo {
namespace {

using Json = nlohmann::json;

// Details travel in HTTP/2 trailers: keep them to a few hundred bytes.
constexpr size_t kMaxViolations = 8;
constexpr size_t kMaxTextLength = 160;
constexpr size_t kMaxTraceIdLength = 64;
constexpr size_t kMaxFieldLength = 64;
constexpr size_t kMaxDescriptionLength = 100;
// Budget of the serialized BadRequest; with ErrorInfo (trace id <= 64) and
// the Any type URLs the details stay under 512 bytes.
constexpr size_t kMaxBadRequestBytes = 256;
constexpr absl::Duration kDefaultRetryDelay = absl::Seconds(1);
constexpr absl::Duration kMaxRetryDelay = absl::Seconds(60);

// Dojo's text is untrusted and ends up in proto3 strings (ErrorInfo,
// BadRequest), which a client cannot parse unless they are valid UTF-8.
std::string Truncate(absl::string_view text, size_t max = kMaxTextLength) {
  return utf8::Truncate(text, max);
}

// The string under the first of `keys` (in that order of preference, any
// case) present in a JSON object.
std::string StringMember(const Json& object,
                         std::initializer_list<absl::string_view> keys) {
  if (!object.is_object()) return "";
  for (absl::string_view wanted : keys) {
    for (const auto& [key, value] : object.items()) {
      if (value.is_string() && absl::EqualsIgnoreCase(key, wanted)) {
        return value.get<std::string>();
      }
    }
  }
  return "";
}

const Json* ObjectMember(const Json& object, absl::string_view wanted) {
  if (!object.is_object()) return nullptr;
  for (const auto& [key, value] : object.items()) {
    if (absl::EqualsIgnoreCase(key, wanted)) return &value;
  }
  return nullptr;
}

// Problem details as far as the body is one; empty otherwise.
struct Problem {
  std::string message;
  std::string trace_id;
  std::vector<FieldViolation> violations;
};

Problem ParseProblem(absl::string_view body) {
  Problem problem;
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return problem;
  problem.message = StringMember(json, {"detail", "title", "message"});
  problem.trace_id = StringMember(json, {"traceId"});
  const Json* errors = ObjectMember(json, "errors");
  if (errors != nullptr && errors->is_object()) {
    size_t bytes = 0;
    for (const auto& [field, messages] : errors->items()) {
      if (problem.violations.size() == kMaxViolations) break;
      std::string description;
      if (messages.is_array() && !messages.empty() && messages[0].is_string()) {
        description = messages[0].get<std::string>();
      } else if (messages.is_string()) {
        description = messages.get<std::string>();
      }
      FieldViolation violation{
          Truncate(DojoFieldToProtoPath(field), kMaxFieldLength),
          Truncate(description, kMaxDescriptionLength)};
      // ~6 bytes of protobuf framing per violation.
      const size_t cost =
          violation.field.size() + violation.description.size() + 6;
      if (!problem.violations.empty() && bytes + cost > kMaxBadRequestBytes) {
        break;
      }
      bytes += cost;
      problem.violations.push_back(std::move(violation));
    }
  }
  return problem;
}

// Retry-After, or a default when absent; capped so a hostile header
// cannot park callers.
absl::Duration RetryDelayOf(const HttpResponse& response) {
  return std::min(RetryAfterOf(response).value_or(kDefaultRetryDelay),
                  kMaxRetryDelay);
}

std::string SnakeCase(absl::string_view word) {
  std::string out;
  for (size_t i = 0; i < word.size(); ++i) {
    const char c = word[i];
    if (absl::ascii_isupper(c)) {
      const bool after_lower = i > 0 && absl::ascii_islower(word[i - 1]);
      const bool before_lower = i > 0 && i + 1 < word.size() &&
                                absl::ascii_isupper(word[i - 1]) &&
                                absl::ascii_islower(word[i + 1]);
      if (after_lower || before_lower) out.push_back('_');
      out.push_back(absl::ascii_tolower(c));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string DojoFieldToProtoPath(absl::string_view dojo_field) {
  absl::ConsumePrefix(&dojo_field, "$.");
  absl::ConsumePrefix(&dojo_field, "$");
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(dojo_field, '.')) {
    // "ItemLines[0]" -> "item_lines[0]".
    const size_t bracket = part.find('[');
    const absl::string_view name = part.substr(0, bracket);
    std::string converted = SnakeCase(name);
    if (bracket != absl::string_view::npos) {
      absl::StrAppend(&converted, part.substr(bracket));
    }
    parts.push_back(std::move(converted));
  }
  return Truncate(absl::StrJoin(parts, "."));
}

absl::Status StatusFromHttpError(const HttpResponse& response) {
  const int code = response.status_code;
  const Problem problem = ParseProblem(response.body);
  std::map<std::string, std::string> metadata = {
      {"http_status", absl::StrCat(code)}};
  if (!problem.trace_id.empty()) {
    metadata["trace_id"] = Truncate(problem.trace_id, kMaxTraceIdLength);
  }
  const std::string detail =
      problem.message.empty() ? ""
                              : absl::StrCat(": ", Truncate(problem.message));

  absl::Status status;
  if (code == 400 || code == 422) {
    status = absl::InvalidArgumentError(
        absl::StrCat("Dojo rejected the request", detail));
    if (!problem.violations.empty()) {
      SetBadRequest(status, problem.violations);
    }
    SetErrorInfo(status, reason::kDojoRejected, metadata);
  } else if (code == 401) {
    status = absl::FailedPreconditionError(
        "Dojo rejected the API key of this account");
    SetErrorInfo(status, reason::kDojoUnauthorized, metadata);
  } else if (code == 403) {
    status = absl::FailedPreconditionError(
        "the API key of this account lacks access to this Dojo operation");
    SetErrorInfo(status, reason::kDojoForbidden, metadata);
  } else if (code == 404) {
    status = absl::NotFoundError(absl::StrCat("not found at Dojo", detail));
    SetErrorInfo(status, reason::kDojoNotFound, metadata);
  } else if (code == 409 || code == 405) {
    // The intent's state does not allow the operation (e.g. a capture of
    // an intent not authorised, a custom amount not enabled): retrying will
    // not help until the state changes.
    status = absl::FailedPreconditionError(
        absl::StrCat("the intent's state at Dojo does not allow this", detail));
    SetErrorInfo(
        status,
        code == 409 ? reason::kDojoConflict : reason::kDojoMethodNotAllowed,
        metadata);
  } else if (code == 429) {
    status = absl::ResourceExhaustedError("Dojo is rate limiting this account");
    SetErrorInfo(status, reason::kDojoRateLimited, metadata);
    SetRetryInfo(status, RetryDelayOf(response));
  } else if (code >= 500) {
    status = absl::UnavailableError(
        absl::StrCat("Dojo is unavailable (HTTP ", code, ")"));
    SetErrorInfo(status, reason::kDojoUnavailable, metadata);
    SetRetryInfo(status, RetryDelayOf(response));
  } else {
    // Other 4xx: a request we should never have built.
    status = absl::InternalError(
        absl::StrCat("unexpected answer from Dojo (HTTP ", code, ")", detail));
    SetErrorInfo(status, reason::kDojoBadResponse, metadata);
  }
  return status;
}

}  // namespace payments::dojo
