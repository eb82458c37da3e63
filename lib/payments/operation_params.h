#ifndef LIB_PAYMENTS_OPERATION_PARAMS_H_
#define LIB_PAYMENTS_OPERATION_PARAMS_H_

// What the journal keeps of a lifecycle operation (capture, refund,
// reversal, cancel) and of the intent lock guarding it, so that a call, a
// replay or the reconciler of any replica can tell what was asked and
// settle it from Dojo's state alone. Stored as JSON in Record::params;
// never a secret.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "lib/idempotency/idempotency_store.h"

namespace payments {

struct OperationParams {
  std::string intent_id;
  int64_t amount = 0;       // capture, refund
  int64_t tips_amount = 0;  // capture
  // Captures the intent held before a capture was sent: a new one beyond
  // these, of `amount`, is this capture.
  int captures_before = 0;
  std::string reason;  // refund
  std::string notes;   // refund
  // An intent lock: the operation it guards.
  std::optional<idempotency::Key> guarded;

  std::string ToJson() const;
  // nullopt if `json` is not what ToJson writes.
  static std::optional<OperationParams> FromJson(absl::string_view json);
};

// The journal reference of a capture or refund: "<intent id>/<key>".
std::string KeyedReference(absl::string_view intent_id, absl::string_view key);

// Dojo's `idempotencyKey` of a refund, derived from (account, intent, refund
// key) so that every re-send of one refund carries the same key:
// "pgw1-" + 64 hex digits of SHA-256 (69 characters; Dojo allows 100).
std::string RefundIdempotencyKey(absl::string_view account,
                                 absl::string_view intent_id,
                                 absl::string_view refund_key);

// A versioned fingerprint ("v1:" + SHA-256 hex) of the business parameters
// of a lifecycle operation (kind, intent, amounts, texts).
std::string OperationFingerprint(idempotency::OperationKind kind,
                                 const OperationParams& params);

}  // namespace payments

#endif  // LIB_PAYMENTS_OPERATION_PARAMS_H_
