#include "tests/emulator/webhook_signer.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tests/emulator/http_types.h"

namespace dojo_emulator {

std::string SignWebhook(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac,
       &mac_len);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < mac_len; ++i) {
    if (i > 0) out.push_back('-');
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 15]);
  }
  return out;
}

std::string WebhookPayload(const WebhookEvent& event) {
  Json payload = Json::object();
  payload["id"] = event.id;
  payload["event"] = event.event;
  payload["accountId"] = event.account_id;
  payload["createdAt"] = event.created_at;
  payload["data"] = Json::object();
  payload["data"]["paymentIntentId"] = event.payment_intent_id;
  payload["data"]["paymentStatus"] = event.payment_status;
  payload["data"]["captureMode"] = event.capture_mode;
  return payload.dump();
}

}  // namespace dojo_emulator
