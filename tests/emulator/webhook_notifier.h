// Status webhooks: a signed payment_intent.status_updated event for every
// status change of an intent, sent to the configured URL (--webhook-url /
// settings), asynchronously, with the same body and signature as
// /_emulator/webhooks/send.
#ifndef TESTS_EMULATOR_WEBHOOK_NOTIFIER_H_
#define TESTS_EMULATOR_WEBHOOK_NOTIFIER_H_

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "tests/emulator/http_types.h"
#include "tests/emulator/intent_store.h"
#include "tests/emulator/webhook_client.h"

namespace dojo_emulator {

// Thread-safe. `client` must outlive this object. The secret is never
// returned, printed or logged.
class WebhookNotifier final {
 public:
  // `url` ("" = no webhooks) and `secret` are also what Reset restores.
  WebhookNotifier(WebhookClient* client, std::string url, std::string secret)
      : client_(client),
        default_url_(url),
        default_secret_(secret),
        url_(std::move(url)),
        secret_(std::move(secret)) {}

  // Changes the fields given ("" url: stop sending). The url must be empty or
  // WebhookClient::IsSupportedUrl (checked by the caller).
  void Configure(std::optional<std::string> url,
                 std::optional<std::string> secret);
  std::string Url() const;
  bool HasSecret() const;

  // Back to the flags' url and secret; forgets the deliveries.
  void Reset();

  // Sends the event for `intent`'s new status, if a url is set.
  void OnStatusChange(const StoredIntent& intent);

  // {"deliveries":[{"seq","eventId","paymentIntentId","paymentStatus","url",
  // "body","signature","deliveryStatus"}]} oldest first, the last 1000.
  // deliveryStatus is null while in flight, then the receiver's HTTP status
  // or 0 on failure.
  Json Deliveries() const;
  void ClearDeliveries();

 private:
  struct Delivery {
    uint64_t seq = 0;
    std::string event_id, payment_intent_id, payment_status, url, body,
        signature;
    std::optional<int> status;
  };

  WebhookClient* client_;
  const std::string default_url_, default_secret_;
  mutable std::mutex mu_;
  std::string url_, secret_;
  uint64_t next_seq_ = 1;
  std::deque<Delivery> deliveries_;
};

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_WEBHOOK_NOTIFIER_H_
