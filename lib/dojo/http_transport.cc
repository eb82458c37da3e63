#include "lib/dojo/http_transport.h"

#include <string>
#include <string_view>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace payments::dojo {
namespace {

// Status payload key; the value is "not-sent" or "sent".
// (This Abseil has its own absl::string_view, distinct from std::string_view.)
constexpr absl::string_view kStagePayloadKey = "payments.dojo/transport-stage";
constexpr absl::string_view kNotSent = "not-sent";
constexpr absl::string_view kSent = "sent";

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key,
                               absl::string_view(name.data(), name.size())))
      return value;
  }
  return std::string();
}

TransportStage GetTransportStage(const absl::Status& status) {
  auto payload = status.GetPayload(kStagePayloadKey);
  // Absent or unknown means "may have been sent": the only safe assumption
  // for a request that could move money.
  if (payload.has_value() && *payload == kNotSent) {
    return TransportStage::kNotSent;
  }
  return TransportStage::kSent;
}

void SetTransportStage(absl::Status& status, TransportStage stage) {
  if (status.ok()) return;  // OK statuses carry no payloads.
  status.SetPayload(
      kStagePayloadKey,
      absl::Cord(stage == TransportStage::kNotSent ? kNotSent : kSent));
}

}  // namespace payments::dojo
