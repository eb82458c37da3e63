#ifndef LIB_PAYMENTS_VALIDATION_H_
#define LIB_PAYMENTS_VALIDATION_H_

// Local validation of requests before any I/O, with the limits of Dojo's
// official schema. Failures are INVALID_ARGUMENT with one BadRequest field
// violation per problem; field paths use the proto's names
// ("amount.currency_code", "item_lines[2].name").

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "payments/v1/payments_service.pb.h"

namespace payments {

// Dojo's longest accepted values (openapi-2025-09-10.yaml).
inline constexpr size_t kMaxReferenceLength = 60;
inline constexpr size_t kMaxDescriptionLength = 4096;
inline constexpr absl::Duration kMinAutoExpireIn = absl::Seconds(30);
inline constexpr absl::Duration kMaxAutoExpireIn = absl::Hours(24 * 7);

// `now` decides whether `expire_at` lies in the future.
absl::Status ValidateCreateIntent(const v1::CreateIntentRequest& request,
                                  absl::Time now);

// An intent id as it goes into a URL path; `field` names it in the error.
absl::Status ValidateIntentId(absl::string_view field, absl::string_view id);

// Currencies Dojo accepts.
bool IsSupportedCurrency(absl::string_view currency_code);

}  // namespace payments

#endif  // LIB_PAYMENTS_VALIDATION_H_
