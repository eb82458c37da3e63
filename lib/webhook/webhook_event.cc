#include "lib/webhook/webhook_event.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/common/timestamp_range.h"
#include "nlohmann/json.hpp"

namespace payments::webhook {
namespace {

using nlohmann::json;

// Reads an optional string member: absent or null leaves `out` untouched.
absl::Status ReadString(const json& object, const char* key,
                        absl::string_view path, std::string& out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("webhook field '", path, "' must be a string"));
  }
  out = it->get<std::string>();
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> ParseTimestamp(const std::string& text) {
  absl::Time time;
  std::string ignored;
  // %Ez accepts "Z" as well as "+hh:mm"; without a zone, ParseTime uses UTC.
  if (absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", text, &time, &ignored) ||
      absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S", text, &time, &ignored)) {
    // As everywhere: a time no google.protobuf.Timestamp holds is refused.
    if (!InTimestampRange(time)) {
      return absl::InvalidArgumentError(
          "webhook field 'createdAt' is outside 0001-01-01..9999-12-31");
    }
    return time;
  }
  return absl::InvalidArgumentError(
      "webhook field 'createdAt' is not an RFC 3339 timestamp");
}

}  // namespace

absl::StatusOr<WebhookEvent> ParseWebhookEvent(absl::string_view body) {
  const json root = json::parse(body.begin(), body.end(), nullptr,
                                /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return absl::InvalidArgumentError("webhook body is not valid JSON");
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError("webhook body is not a JSON object");
  }
  WebhookEvent event;
  std::string created_at;
  for (absl::Status status : {
           ReadString(root, "id", "id", event.id),
           ReadString(root, "event", "event", event.type),
           ReadString(root, "accountId", "accountId", event.account_id),
           ReadString(root, "createdAt", "createdAt", created_at),
       }) {
    if (!status.ok()) return status;
  }
  if (event.id.empty()) {
    return absl::InvalidArgumentError("webhook field 'id' is required");
  }
  // The id is the key that spots redeliveries: it must be stored and
  // compared exactly, so no NUL (which C strings and PostgreSQL text cut or
  // refuse) or other control characters, and no unbounded length.
  if (event.id.size() > kMaxEventIdLength ||
      std::any_of(event.id.begin(), event.id.end(), [](char c) {
        return absl::ascii_iscntrl(static_cast<unsigned char>(c));
      })) {
    return absl::InvalidArgumentError(
        absl::StrCat("webhook field 'id' must be 1-", kMaxEventIdLength,
                     " bytes without control characters"));
  }
  if (event.type.empty()) {
    return absl::InvalidArgumentError("webhook field 'event' is required");
  }
  if (!created_at.empty()) {
    absl::StatusOr<absl::Time> time = ParseTimestamp(created_at);
    if (!time.ok()) return time.status();
    event.created_at = *time;
  }
  auto data = root.find("data");
  if (data != root.end() && !data->is_null()) {
    if (!data->is_object()) {
      return absl::InvalidArgumentError(
          "webhook field 'data' must be an object");
    }
    for (absl::Status status : {
             ReadString(*data, "paymentIntentId", "data.paymentIntentId",
                        event.payment_intent_id),
             ReadString(*data, "paymentStatus", "data.paymentStatus",
                        event.payment_status),
             ReadString(*data, "captureMode", "data.captureMode",
                        event.capture_mode),
         }) {
      if (!status.ok()) return status;
    }
  }
  return event;
}

}  // namespace payments::webhook
