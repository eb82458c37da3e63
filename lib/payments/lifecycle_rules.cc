#include "lib/payments/lifecycle_rules.h"

#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "lib/common/status_details.h"

namespace payments {
namespace {

using idempotency::OperationKind;

std::string StatusName(v1::PaymentIntentStatus status) {
  return std::string(absl::StripPrefix(v1::PaymentIntentStatus_Name(status),
                                       "PAYMENT_INTENT_STATUS_"));
}

Precondition Refuse(absl::string_view reason, std::string message,
                    const v1::PaymentIntent& intent,
                    std::map<std::string, std::string> limits = {}) {
  limits.emplace("status", StatusName(intent.status()));
  limits.emplace("payment_intent_id", intent.id());
  return {Verdict::kRefused,
          ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                          std::move(message), reason, limits)};
}

Precondition CheckAmount(absl::string_view reason, absl::string_view what,
                         int64_t amount, int64_t limit,
                         const v1::PaymentIntent& intent) {
  if (amount <= limit) return {};
  return Refuse(reason,
                absl::StrCat("the ", what, " of ", amount, " exceeds the ",
                             limit, " still ", what, "able"),
                intent,
                {{absl::StrCat(what, "able"), absl::StrCat(limit)},
                 {"currency_code", intent.total_amount().currency_code()}});
}

}  // namespace

int64_t CapturedAmount(const v1::PaymentIntent& intent) {
  int64_t captured = 0;
  for (const v1::CaptureDetails& capture : intent.captures()) {
    if (capture.status() == v1::CAPTURE_STATUS_SUCCESSFUL ||
        capture.status() == v1::CAPTURE_STATUS_CREATED) {
      captured += capture.amount();
    }
  }
  if (captured == 0 &&
      (intent.status() == v1::PAYMENT_INTENT_STATUS_CAPTURED ||
       intent.status() == v1::PAYMENT_INTENT_STATUS_REFUNDED)) {
    return intent.total_amount().value();
  }
  return captured;
}

int64_t CapturableAmount(const v1::PaymentIntent& intent) {
  return intent.total_amount().value() - CapturedAmount(intent);
}

int64_t RefundableAmount(const v1::PaymentIntent& intent) {
  return CapturedAmount(intent) - intent.refunded_amount();
}

Precondition CheckOperation(OperationKind kind, const OperationParams& params,
                            const std::string& currency,
                            const v1::PaymentIntent& intent) {
  const v1::PaymentIntentStatus status = intent.status();
  if ((kind == OperationKind::kCapture || kind == OperationKind::kRefund) &&
      currency != intent.total_amount().currency_code()) {
    return Refuse("CURRENCY_MISMATCH",
                  absl::StrCat("the intent is in ",
                               intent.total_amount().currency_code()),
                  intent,
                  {{"currency_code", intent.total_amount().currency_code()}});
  }
  switch (kind) {
    case OperationKind::kCancel:
      if (status == v1::PAYMENT_INTENT_STATUS_CANCELED) {
        return {Verdict::kAlreadyDone, absl::OkStatus()};
      }
      if (status != v1::PAYMENT_INTENT_STATUS_CREATED) {
        return Refuse("INTENT_NOT_CANCELABLE",
                      "only an intent nobody has paid (Created) can be "
                      "canceled",
                      intent);
      }
      return {};
    case OperationKind::kReversal:
      if (status == v1::PAYMENT_INTENT_STATUS_REVERSED) {
        return {Verdict::kAlreadyDone, absl::OkStatus()};
      }
      if (status != v1::PAYMENT_INTENT_STATUS_AUTHORIZED ||
          CapturedAmount(intent) > 0) {
        return Refuse("INTENT_NOT_REVERSIBLE",
                      "only an authorisation with nothing captured can be "
                      "reversed",
                      intent);
      }
      return {};
    case OperationKind::kCapture: {
      const bool open = status == v1::PAYMENT_INTENT_STATUS_AUTHORIZED ||
                        status == v1::PAYMENT_INTENT_STATUS_CAPTURED;
      if (intent.capture_mode() != v1::CAPTURE_MODE_MANUAL || !open ||
          CapturableAmount(intent) <= 0) {
        return Refuse("INTENT_NOT_CAPTURABLE",
                      "only an authorised manual-capture intent with an "
                      "amount left to capture can be captured",
                      intent,
                      {{"capturable", absl::StrCat(CapturableAmount(intent))}});
      }
      return CheckAmount("CAPTURE_EXCEEDS_CAPTURABLE", "captur", params.amount,
                         CapturableAmount(intent), intent);
    }
    case OperationKind::kRefund: {
      const bool paid = status == v1::PAYMENT_INTENT_STATUS_CAPTURED ||
                        status == v1::PAYMENT_INTENT_STATUS_REFUNDED;
      if (!paid || RefundableAmount(intent) <= 0) {
        return Refuse("INTENT_NOT_REFUNDABLE",
                      "only a captured intent with an amount left to refund "
                      "can be refunded",
                      intent,
                      {{"refundable", absl::StrCat(RefundableAmount(intent))}});
      }
      return CheckAmount("REFUND_EXCEEDS_REFUNDABLE", "refund", params.amount,
                         RefundableAmount(intent), intent);
    }
    case OperationKind::kCreate:
    case OperationKind::kIntentLock:
      break;
  }
  return {};
}

OperationEvidence EvidenceOf(OperationKind kind, const OperationParams& params,
                             const v1::PaymentIntent& intent) {
  OperationEvidence evidence;
  const v1::PaymentIntentStatus status = intent.status();
  switch (kind) {
    case OperationKind::kCapture:
      // Captures only grow, in order: one beyond those held before, of this
      // amount, is this capture (captures of one intent are serialised).
      for (int i = params.captures_before; i < intent.captures_size(); ++i) {
        const v1::CaptureDetails& capture = intent.captures(i);
        if (capture.amount() == params.amount &&
            capture.status() != v1::CAPTURE_STATUS_DECLINED &&
            capture.status() != v1::CAPTURE_STATUS_FAILED) {
          evidence.happened = true;
          evidence.dojo_id = capture.id();
        }
      }
      evidence.impossible = !evidence.happened &&
                            status != v1::PAYMENT_INTENT_STATUS_AUTHORIZED &&
                            status != v1::PAYMENT_INTENT_STATUS_CAPTURED;
      break;
    case OperationKind::kReversal:
      evidence.happened = status == v1::PAYMENT_INTENT_STATUS_REVERSED;
      evidence.impossible =
          !evidence.happened && status != v1::PAYMENT_INTENT_STATUS_AUTHORIZED;
      break;
    case OperationKind::kCancel:
      evidence.happened = status == v1::PAYMENT_INTENT_STATUS_CANCELED;
      evidence.dojo_id = evidence.happened ? intent.id() : "";
      evidence.impossible =
          !evidence.happened && status != v1::PAYMENT_INTENT_STATUS_CREATED;
      break;
    default:
      break;
  }
  return evidence;
}

}  // namespace payments
