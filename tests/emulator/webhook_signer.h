// Dojo webhook payloads and their `dojo-signature` header.
#ifndef TESTS_EMULATOR_WEBHOOK_SIGNER_H_
#define TESTS_EMULATOR_WEBHOOK_SIGNER_H_

#include <string>
#include <string_view>

namespace dojo_emulator {

// "sha256=" + HMAC-SHA256(key = secret's UTF-8 bytes, data = body bytes),
// printed as uppercase hex byte pairs joined by '-' ("4B-49-...").
std::string SignWebhook(std::string_view secret, std::string_view body);

struct WebhookEvent {
  std::string id;  // evt_...
  std::string event;
  std::string account_id;  // acc_...
  std::string created_at;
  std::string payment_intent_id;
  std::string payment_status;
  std::string capture_mode;
};

// Compact JSON with Dojo's key order:
// {"id","event","accountId","createdAt","data":{"paymentIntentId",
//  "paymentStatus","captureMode"}}.
std::string WebhookPayload(const WebhookEvent& event);

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_WEBHOOK_SIGNER_H_
