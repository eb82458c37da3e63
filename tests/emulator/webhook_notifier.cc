#include "tests/emulator/webhook_notifier.h"

#include "tests/emulator/random_ids.h"
#include "tests/emulator/timestamps.h"
#include "tests/emulator/webhook_signer.h"

namespace dojo_emulator {
namespace {

constexpr size_t kMaxDeliveries = 1000;

}  // namespace

void WebhookNotifier::Configure(std::optional<std::string> url,
                                std::optional<std::string> secret) {
  std::lock_guard<std::mutex> lock(mu_);
  if (url) url_ = std::move(*url);
  if (secret) secret_ = std::move(*secret);
}

std::string WebhookNotifier::Url() const {
  std::lock_guard<std::mutex> lock(mu_);
  return url_;
}

bool WebhookNotifier::HasSecret() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !secret_.empty();
}

void WebhookNotifier::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  url_ = default_url_;
  secret_ = default_secret_;
  deliveries_.clear();
}

void WebhookNotifier::OnStatusChange(const StoredIntent& intent) {
  WebhookEvent event;
  event.id = NewEventId();
  event.event = "payment_intent.status_updated";
  event.account_id = "acc_" + intent.account;
  event.created_at = FormatTimestamp(Clock::now());
  event.payment_intent_id = intent.body.value("id", "");
  event.payment_status = intent.body.value("status", "");
  event.capture_mode = intent.body.value("captureMode", "");
  std::string payload = WebhookPayload(event);

  std::string url, signature;
  uint64_t seq = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (url_.empty()) return;
    url = url_;
    signature = SignWebhook(secret_, payload);
    seq = next_seq_++;
    deliveries_.push_back({seq, event.id, event.payment_intent_id,
                           event.payment_status, url, payload, signature,
                           std::nullopt});
    if (deliveries_.size() > kMaxDeliveries) deliveries_.pop_front();
  }
  // The client calls back on an io_context thread; at shutdown a delivery in
  // flight is abandoned with the io_context (the callback never runs).
  client_->Post(url, std::move(payload), std::move(signature),
                [this, seq](int status) {
                  std::lock_guard<std::mutex> lock(mu_);
                  for (Delivery& d : deliveries_) {
                    if (d.seq == seq) d.status = status;
                  }
                });
}

Json WebhookNotifier::Deliveries() const {
  std::lock_guard<std::mutex> lock(mu_);
  Json list = Json::array();
  for (const Delivery& d : deliveries_) {
    list.push_back({{"seq", d.seq},
                    {"eventId", d.event_id},
                    {"paymentIntentId", d.payment_intent_id},
                    {"paymentStatus", d.payment_status},
                    {"url", d.url},
                    {"body", d.body},
                    {"signature", d.signature},
                    {"deliveryStatus", d.status ? Json(*d.status) : Json()}});
  }
  return Json{{"deliveries", std::move(list)}};
}

void WebhookNotifier::ClearDeliveries() {
  std::lock_guard<std::mutex> lock(mu_);
  deliveries_.clear();
}

}  // namespace dojo_emulator
