#ifndef LIB_DOJO_DOJO_CLIENT_H_
#define LIB_DOJO_DOJO_CLIENT_H_

// Typed asynchronous calls to Dojo's payment-intents API over an
// HttpTransport. Builds exact requests (`Authorization: Basic <key>` with the
// key verbatim, `version`, JSON bodies per the official schema) and maps
// answers to PaymentIntent or absl::Status (see dojo_errors.h).

#include <string>

#include "absl/strings/string_view.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/dojo/http_transport.h"
#include "lib/metrics/metrics.h"
#include "payments/v1/payments_service.pb.h"

namespace payments::dojo {

struct DojoClientOptions {
  std::string base_url;     // e.g. https://api.dojo.tech, no trailing slash.
  std::string api_version;  // `version` header, e.g. 2026-02-27.
  // Upper bound of one attempt; the caller's deadline may cut it shorter.
  absl::Duration attempt_timeout = absl::Seconds(20);
};

using IntentCallback =
    absl::AnyInvocable<void(absl::StatusOr<v1::PaymentIntent>) &&>;

// Thread-safe. Callbacks run on the transport's event-loop thread and must
// not block. Each call invokes its callback exactly once. A deadline already
// passed fails with DEADLINE_EXCEEDED without sending anything.
class DojoClient final {
 public:
  // `transport` and `metrics` must outlive the client; `metrics` may be null.
  DojoClient(HttpTransport& transport, DojoClientOptions options,
             metrics::Metrics* metrics);

  // POST /payment-intents.
  void CreatePaymentIntent(absl::string_view api_key,
                           const v1::CreateIntentRequest& request,
                           absl::Time deadline, IntentCallback done);

  // GET /payment-intents/{id}[?returnCanceled=true]. `id` must already be
  // validated (see IsValidIntentId).
  void GetPaymentIntent(absl::string_view api_key, absl::string_view id,
                        bool return_canceled, absl::Time deadline,
                        IntentCallback done);

  // POST /payment-intents/{id}/refresh-client-session-secret.
  void RefreshClientSessionSecret(absl::string_view api_key,
                                  absl::string_view id, absl::Time deadline,
                                  IntentCallback done);

 private:
  void Call(absl::string_view operation, std::string method, std::string path,
            std::string body, absl::string_view api_key, absl::Time deadline,
            IntentCallback done);

  HttpTransport& transport_;
  const DojoClientOptions options_;
  metrics::Metrics* const metrics_;
};

// Payment intent ids are safe to place in a URL path: 1..100 characters of
// [A-Za-z0-9_-].
bool IsValidIntentId(absl::string_view id);

}  // namespace payments::dojo

#endif  // LIB_DOJO_DOJO_CLIENT_H_
