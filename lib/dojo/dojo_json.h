#ifndef LIB_DOJO_DOJO_JSON_H_
#define LIB_DOJO_DOJO_JSON_H_

// Mapping between our proto messages and Dojo's JSON, driven by the proto
// descriptors so that every field has exactly one rule:
//  - names: the proto JSON name (lowerCamelCase), except a few renames;
//  - enums: PAYMENT_METHOD_SAVED_CARD <-> "SavedCard" (type prefix dropped);
//  - int64 as JSON numbers; Timestamp as RFC 3339 UTC; Duration as .NET
//    timespan "d.hh:mm:ss";
//  - writing omits unset and empty fields, keys in byte order (the bytes
//    request fingerprints hash); reading ignores unknown keys and nulls,
//    matches names case-insensitively, gives a key seen twice its last
//    value, accepts 0-9 fractional digits,
//    maps unknown enum strings to *_UNSPECIFIED, and treats .NET's
//    "0001-01-01T00:00:00Z" as an absent time; a time outside
//    0001-01-01..9999-12-31 (which no Timestamp holds) is an error.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "payments/v1/payments_service.pb.h"

namespace payments::dojo {

// Dojo JSON for any message. Fields that exist only in our API (`account`,
// `include_client_session_secret`) are never written.
std::string ToDojoJson(const google::protobuf::Message& message);

// Fills `message` from Dojo JSON. Errors (INVALID_ARGUMENT) name the JSON
// path of a value of the wrong type, never the value itself.
absl::Status FromDojoJson(absl::string_view json,
                          google::protobuf::Message& message);

// The body of POST /payment-intents.
std::string CreatePaymentIntentBody(const v1::CreateIntentRequest& request);

// The body of POST /payment-intents/search for intents created in
// [start, end] (either may be infinite: no bound), in `statuses` (empty:
// any), `limit` per page, continuing after cursor `after` if set.
std::string SearchPaymentIntentsBody(
    absl::Time start, absl::Time end, int limit, absl::string_view after,
    const std::vector<v1::PaymentIntentStatus>& statuses = {});

// The body of POST /payment-intents/{id}/captures (CreateCaptureRequest).
std::string CaptureBody(int64_t amount, int64_t tips_amount);
// The body of POST /payment-intents/{id}/refunds (CreateRefundRequest);
// empty texts are left out.
std::string RefundBody(int64_t amount, absl::string_view reason,
                       absl::string_view notes);
// `captureId` of a Capture, `reversalId` of a Reversal: INVALID_ARGUMENT
// unless the body is an object with that non-empty string.
absl::StatusOr<std::string> ParseIdField(absl::string_view json,
                                         absl::string_view field);
// A Refund (refundId, paymentIntentId, refundReason, notes); amount 0.
absl::StatusOr<v1::Refund> ParseRefund(absl::string_view json);

// INVALID_ARGUMENT unless the amounts of an intent Dojo sent are ones our
// arithmetic can trust: amount, totalAmount, tipsAmount, requestedAmount,
// refundedAmount and every capture's amount and tips are >= 0, and all the
// captures together (amounts plus tips) fit in an int64. (So sums and
// differences of them, e.g. lifecycle_rules.h's, cannot overflow.)
absl::Status CheckIntentAmounts(const v1::PaymentIntent& intent);

// One page of search results: the intents and the cursor of the next page
// (empty on the last page).
struct SearchPage {
  std::vector<v1::PaymentIntent> intents;
  std::string after;
};
// Each intent passes CheckIntentAmounts.
absl::StatusOr<SearchPage> ParseSearchPage(absl::string_view json);

// The value of `type` whose Dojo name is `name` (case-insensitive), e.g.
// "SavedCard" -> PAYMENT_METHOD_SAVED_CARD; 0 (*_UNSPECIFIED) when unknown.
int EnumFromDojoName(const google::protobuf::EnumDescriptor& type,
                     absl::string_view name);

// .NET timespan text ("d.hh:mm:ss[.fffffff]" or "hh:mm:ss") <-> Duration.
std::string FormatTimespan(absl::Duration duration);
absl::StatusOr<absl::Duration> ParseTimespan(absl::string_view text);

// RFC 3339 with 0-9 fractional digits and 'Z' or an offset; no zone = UTC.
// INVALID_ARGUMENT outside 0001-01-01..9999-12-31 UTC.
absl::StatusOr<absl::Time> ParseDojoTime(absl::string_view text);

}  // namespace payments::dojo

#endif  // LIB_DOJO_DOJO_JSON_H_
