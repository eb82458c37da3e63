// Retry-After parsing (lib/dojo/retry_policy.h) and what Dojo errors make of
// it (lib/dojo/dojo_errors.h). The input is the header's value.
//
// Invariants: RetryAfterOf() yields nothing or a whole, finite, non-negative
// number of seconds, and exactly the value for plain delta-seconds; a 429 or
// 503 carrying the header has a RetryInfo delay within [0, 60 s]; backoff
// stays within its documented bounds.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/common/status_details.h"
#include "lib/dojo/dojo_errors.h"
#include "lib/dojo/http_transport.h"
#include "lib/dojo/retry_policy.h"
#include "tests/fuzz/fuzz_check.h"

namespace payments::dojo {
namespace {

// Delta-seconds as RFC 9110 writes them: 1*DIGIT (here at most 18 digits,
// so that the value fits an int64).
bool IsPlainDeltaSeconds(absl::string_view text, int64_t* seconds) {
  if (text.empty() || text.size() > 18) return false;
  *seconds = 0;
  for (char c : text) {
    if (!absl::ascii_isdigit(c)) return false;
    *seconds = *seconds * 10 + (c - '0');
  }
  return true;
}

void CheckRetryAfter(const std::string& value) {
  HttpResponse response;
  response.status_code = 429;
  response.headers = {{"retry-after", value}};
  const std::optional<absl::Duration> delay = RetryAfterOf(response);
  if (delay.has_value()) {
    FUZZ_CHECK(*delay >= absl::ZeroDuration(), "negative Retry-After");
    FUZZ_CHECK(*delay < absl::InfiniteDuration(), "infinite Retry-After");
    FUZZ_CHECK(*delay == absl::Seconds(absl::ToInt64Seconds(*delay)),
               "Retry-After is not whole seconds");
  }
  int64_t expected = 0;
  if (IsPlainDeltaSeconds(absl::StripAsciiWhitespace(value), &expected)) {
    FUZZ_CHECK(delay == absl::Seconds(expected),
               "plain delta-seconds not read as such");
  }

  for (int code : {429, 503}) {
    response.status_code = code;
    const absl::Status status = StatusFromHttpError(response);
    const std::optional<google::rpc::RetryInfo> info = GetRetryInfo(status);
    FUZZ_CHECK(info.has_value(), "429/503 without RetryInfo");
    const absl::Duration retry = absl::Seconds(info->retry_delay().seconds()) +
                                 absl::Nanoseconds(info->retry_delay().nanos());
    FUZZ_CHECK(retry >= absl::ZeroDuration() && retry <= absl::Seconds(60),
               "RetryInfo delay outside [0, 60 s]");
    if (delay.has_value() && *delay <= absl::Seconds(60)) {
      FUZZ_CHECK(retry == *delay, "RetryInfo differs from Retry-After");
    }
  }
}

void CheckBackoff(const uint8_t* data, size_t size) {
  if (size < sizeof(int32_t)) return;
  int32_t retry = 0;
  std::memcpy(&retry, data, sizeof(retry));
  const RetryOptions options;
  const absl::Duration delay = BackoffDelay(options, retry);
  FUZZ_CHECK(delay >= options.initial_backoff / 2,
             "backoff below half the initial backoff");
  FUZZ_CHECK(delay <= options.max_backoff, "backoff above its cap");
}

}  // namespace
}  // namespace payments::dojo

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  payments::dojo::CheckRetryAfter(
      std::string(reinterpret_cast<const char*>(data), size));
  payments::dojo::CheckBackoff(data, size);
  return 0;
}
