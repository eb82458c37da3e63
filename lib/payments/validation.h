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

// Dojo's longest accepted values (openapi-2025-09-10.yaml), in characters as
// .NET counts them: UTF-16 code units (utf8::Utf16Length). Text must be
// valid UTF-8; timestamps must lie in 0001-01-01..9999-12-31.
inline constexpr size_t kMaxReferenceLength = 60;
inline constexpr size_t kMaxDescriptionLength = 4096;
inline constexpr absl::Duration kMinAutoExpireIn = absl::Seconds(30);
inline constexpr absl::Duration kMaxAutoExpireIn = absl::Hours(24 * 7);

// `now` decides whether `expire_at` lies in the future.
absl::Status ValidateCreateIntent(const v1::CreateIntentRequest& request,
                                  absl::Time now);

// An intent id as it goes into a URL path; `field` names it in the error.
absl::Status ValidateIntentId(absl::string_view field, absl::string_view id);

// The lifecycle requests: intent id, key (1..100 of [A-Za-z0-9_.:-]),
// amounts (> 0, tips >= 0, a currency Dojo accepts, tips in the amount's),
// texts within Dojo's limits.
absl::Status ValidateCapture(const v1::CaptureIntentRequest& request);
absl::Status ValidateRefund(const v1::RefundIntentRequest& request);
// A refund id: 1..50 characters of [A-Za-z0-9_-].
absl::Status ValidateRefundId(absl::string_view id);
// Page size 0..100, a time range that is not inverted, known statuses, a
// reference within Dojo's limits. (The page token is checked where it is
// decoded.)
absl::Status ValidateListIntents(const v1::ListIntentsRequest& request);

// Currencies Dojo accepts.
bool IsSupportedCurrency(absl::string_view currency_code);

}  // namespace payments

#endif  // LIB_PAYMENTS_VALIDATION_H_
