#include "client/service_config.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace payments::client {
namespace {

// Durations in a service config are proto JSON strings ("0.200s").
std::string JsonDuration(absl::Duration d) {
  return absl::StrFormat("\"%.3fs\"", absl::ToDoubleSeconds(d));
}

}  // namespace

std::vector<std::string> RetriedMethods() {
  return {"payments.v1.PaymentsService/GetIntent",
          "payments.v1.PaymentsService/GetRefund",
          "payments.v1.PaymentsService/ListIntents",
          "payments.v1.PaymentsService/VerifyWebhook",
          "grpc.health.v1.Health/Check"};
}

std::string ServiceConfigJson(const RetryOptions& retry) {
  if (!retry.enabled) return "{}";
  std::vector<std::string> names;
  for (const std::string& method : RetriedMethods()) {
    std::pair<std::string, std::string> parts =
        absl::StrSplit(method, absl::MaxSplits('/', 1));
    names.push_back(absl::StrFormat(R"({"service":"%s","method":"%s"})",
                                    parts.first, parts.second));
  }
  // The numbers are formatted by StrFormat, never locale-dependent.
  return absl::StrCat(
      R"({"methodConfig":[{"name":[)", absl::StrJoin(names, ","),
      R"(],"retryPolicy":{"maxAttempts":)", retry.max_attempts,
      R"(,"initialBackoff":)", JsonDuration(retry.initial_backoff),
      R"(,"maxBackoff":)", JsonDuration(retry.max_backoff),
      R"(,"backoffMultiplier":)",
      absl::StrFormat("%g", retry.backoff_multiplier),
      R"(,"retryableStatusCodes":["UNAVAILABLE"]}}],)",
      R"("retryThrottling":{"maxTokens":)", retry.throttle_max_tokens,
      R"(,"tokenRatio":)", absl::StrFormat("%g", retry.throttle_token_ratio),
      "}}");
}

}  // namespace payments::client
