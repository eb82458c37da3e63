#ifndef LIB_WEBHOOK_WEBHOOK_EVENT_H_
#define LIB_WEBHOOK_WEBHOOK_EVENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace payments::webhook {

// The longest event id accepted, in bytes (Dojo's are "evt_" + 22).
inline constexpr size_t kMaxEventIdLength = 255;

// A Dojo webhook notification. It carries no amount or reference: re-read
// the payment intent before acting on it. The same event (`id`) may arrive
// more than once and out of order.
struct WebhookEvent {
  std::string id;          // "evt_..."; always set.
  std::string type;        // "event", e.g. "payment_intent.status_updated".
  std::string account_id;  // "accountId"; empty if absent.
  // "createdAt"; absl::InfinitePast() if absent.
  absl::Time created_at = absl::InfinitePast();
  // From "data"; empty if absent.
  std::string payment_intent_id;
  std::string payment_status;
  std::string capture_mode;
};

// Parses the JSON body of a webhook:
// {"id","event","accountId","createdAt","data":{"paymentIntentId",
//  "paymentStatus","captureMode"}}. Unknown fields are ignored; null counts
// as absent. `id` and `event` are required; `id` must be at most
// kMaxEventIdLength bytes without control characters (NUL included).
// `createdAt` is RFC 3339 with 0-9 (or more) fractional digits and "Z" or a
// numeric offset; without a zone it is read as UTC. Malformed JSON, a missing
// required field or a wrong type: INVALID_ARGUMENT with a short message that
// never echoes the body.
absl::StatusOr<WebhookEvent> ParseWebhookEvent(absl::string_view body);

}  // namespace payments::webhook

#endif  // LIB_WEBHOOK_WEBHOOK_EVENT_H_
