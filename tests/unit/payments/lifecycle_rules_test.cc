// Preconditions and settlement evidence of the lifecycle operations, and
// what the journal keeps of them.

#include "lib/payments/lifecycle_rules.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/common/status_details.h"
#include "lib/payments/operation_params.h"
#include "lib/payments/validation.h"

namespace payments {
namespace {

using idempotency::OperationKind;

v1::PaymentIntent Intent(v1::PaymentIntentStatus status, int64_t total,
                         v1::CaptureMode mode = v1::CAPTURE_MODE_MANUAL) {
  v1::PaymentIntent intent;
  intent.set_id("pi_sandbox_1");
  intent.set_status(status);
  intent.set_capture_mode(mode);
  intent.mutable_amount()->set_value(total);
  intent.mutable_amount()->set_currency_code("GBP");
  *intent.mutable_total_amount() = intent.amount();
  return intent;
}

void AddCapture(v1::PaymentIntent& intent, int64_t amount,
                const std::string& id) {
  v1::CaptureDetails* capture = intent.add_captures();
  capture->set_id(id);
  capture->set_amount(amount);
  capture->set_status(v1::CAPTURE_STATUS_SUCCESSFUL);
}

OperationParams Amount(int64_t amount) {
  OperationParams params;
  params.intent_id = "pi_sandbox_1";
  params.amount = amount;
  return params;
}

std::string Reason(const Precondition& precondition) {
  auto info = GetErrorInfo(precondition.refusal);
  return info.has_value() ? info->reason() : "";
}

TEST(LifecycleRulesTest, CapturesUpToTheAuthorisedTotal) {
  v1::PaymentIntent intent = Intent(v1::PAYMENT_INTENT_STATUS_AUTHORIZED, 5000);
  AddCapture(intent, 3000, "cp_1");
  EXPECT_EQ(CapturedAmount(intent), 3000);
  EXPECT_EQ(CapturableAmount(intent), 2000);
  EXPECT_EQ(CheckOperation(OperationKind::kCapture, Amount(2000), "GBP", intent)
                .verdict,
            Verdict::kProceed);
  const Precondition over =
      CheckOperation(OperationKind::kCapture, Amount(2001), "GBP", intent);
  EXPECT_EQ(over.verdict, Verdict::kRefused);
  EXPECT_EQ(over.refusal.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reason(over), "CAPTURE_EXCEEDS_CAPTURABLE");
  EXPECT_EQ(GetErrorInfo(over.refusal)->metadata().at("capturable"), "2000");
  EXPECT_EQ(Reason(CheckOperation(OperationKind::kCapture, Amount(10), "EUR",
                                  intent)),
            "CURRENCY_MISMATCH");
}

TEST(LifecycleRulesTest, OnlyAuthorisedManualIntentsAreCapturable) {
  for (const v1::PaymentIntent& intent :
       {Intent(v1::PAYMENT_INTENT_STATUS_CREATED, 5000),
        Intent(v1::PAYMENT_INTENT_STATUS_AUTHORIZED, 5000,
               v1::CAPTURE_MODE_AUTO),
        Intent(v1::PAYMENT_INTENT_STATUS_REVERSED, 5000)}) {
    EXPECT_EQ(Reason(CheckOperation(OperationKind::kCapture, Amount(10), "GBP",
                                    intent)),
              "INTENT_NOT_CAPTURABLE");
  }
}

TEST(LifecycleRulesTest, RefundsUpToWhatWasCapturedLessRefunds) {
  v1::PaymentIntent intent = Intent(v1::PAYMENT_INTENT_STATUS_CAPTURED, 5000);
  // Captured without a capture list (auto capture): the total counts.
  EXPECT_EQ(RefundableAmount(intent), 5000);
  intent.set_refunded_amount(1500);
  EXPECT_EQ(RefundableAmount(intent), 3500);
  EXPECT_EQ(CheckOperation(OperationKind::kRefund, Amount(3500), "GBP", intent)
                .verdict,
            Verdict::kProceed);
  EXPECT_EQ(Reason(CheckOperation(OperationKind::kRefund, Amount(3501), "GBP",
                                  intent)),
            "REFUND_EXCEEDS_REFUNDABLE");
  EXPECT_EQ(Reason(CheckOperation(
                OperationKind::kRefund, Amount(1), "GBP",
                Intent(v1::PAYMENT_INTENT_STATUS_AUTHORIZED, 5000))),
            "INTENT_NOT_REFUNDABLE");
}

TEST(LifecycleRulesTest, CancelAndReversalAreDoneOnceAndOnlyFromTheirStatus) {
  EXPECT_EQ(CheckOperation(OperationKind::kCancel, {}, "",
                           Intent(v1::PAYMENT_INTENT_STATUS_CREATED, 100))
                .verdict,
            Verdict::kProceed);
  EXPECT_EQ(CheckOperation(OperationKind::kCancel, {}, "",
                           Intent(v1::PAYMENT_INTENT_STATUS_CANCELED, 100))
                .verdict,
            Verdict::kAlreadyDone);
  EXPECT_EQ(
      Reason(CheckOperation(OperationKind::kCancel, {}, "",
                            Intent(v1::PAYMENT_INTENT_STATUS_AUTHORIZED, 100))),
      "INTENT_NOT_CANCELABLE");
  EXPECT_EQ(CheckOperation(OperationKind::kReversal, {}, "",
                           Intent(v1::PAYMENT_INTENT_STATUS_REVERSED, 100))
                .verdict,
            Verdict::kAlreadyDone);
  v1::PaymentIntent partly = Intent(v1::PAYMENT_INTENT_STATUS_AUTHORIZED, 100);
  AddCapture(partly, 10, "cp_1");
  EXPECT_EQ(Reason(CheckOperation(OperationKind::kReversal, {}, "", partly)),
            "INTENT_NOT_REVERSIBLE");
}

// A capture is recognised as a new capture of its amount beyond those the
// intent held before it was sent; never an earlier one.
TEST(LifecycleRulesTest, CaptureEvidenceIsANewCaptureOfItsAmount) {
  v1::PaymentIntent intent = Intent(v1::PAYMENT_INTENT_STATUS_AUTHORIZED, 5000);
  AddCapture(intent, 1000, "cp_old");
  OperationParams params = Amount(1000);
  params.captures_before = 1;
  OperationEvidence none = EvidenceOf(OperationKind::kCapture, params, intent);
  EXPECT_FALSE(none.happened);
  EXPECT_FALSE(none.impossible);
  AddCapture(intent, 1000, "cp_new");
  OperationEvidence found = EvidenceOf(OperationKind::kCapture, params, intent);
  EXPECT_TRUE(found.happened);
  EXPECT_EQ(found.dojo_id, "cp_new");
  EXPECT_TRUE(EvidenceOf(OperationKind::kReversal, {},
                         Intent(v1::PAYMENT_INTENT_STATUS_CAPTURED, 1))
                  .impossible);
  EXPECT_TRUE(EvidenceOf(OperationKind::kCancel, {},
                         Intent(v1::PAYMENT_INTENT_STATUS_CANCELED, 1))
                  .happened);
}

TEST(OperationParamsTest, RoundTripsAndNamesTheGuardedOperation) {
  OperationParams params = Amount(1500);
  params.reason = "returned \"item\"";
  params.captures_before = 2;
  params.guarded = idempotency::Key{OperationKind::kRefund, "shop",
                                    KeyedReference("pi_sandbox_1", "r-1")};
  std::optional<OperationParams> back =
      OperationParams::FromJson(params.ToJson());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->amount, 1500);
  EXPECT_EQ(back->reason, params.reason);
  EXPECT_EQ(back->captures_before, 2);
  ASSERT_TRUE(back->guarded.has_value());
  EXPECT_EQ(back->guarded->kind, OperationKind::kRefund);
  EXPECT_EQ(back->guarded->reference, "pi_sandbox_1/r-1");
  EXPECT_FALSE(OperationParams::FromJson("1000 GBP").has_value());
}

TEST(OperationParamsTest, RefundIdempotencyKeyIsDeterministicAndShort) {
  const std::string key = RefundIdempotencyKey("shop", "pi_sandbox_1", "r-1");
  EXPECT_EQ(key, RefundIdempotencyKey("shop", "pi_sandbox_1", "r-1"));
  EXPECT_LE(key.size(), 100u);
  EXPECT_NE(key, RefundIdempotencyKey("shop", "pi_sandbox_1", "r-2"));
  EXPECT_NE(key, RefundIdempotencyKey("other", "pi_sandbox_1", "r-1"));
  // No two (account, intent, key) triples share an input.
  EXPECT_NE(RefundIdempotencyKey("a", "bc", "d"),
            RefundIdempotencyKey("ab", "c", "d"));
}

TEST(OperationParamsTest, FingerprintCoversTheBusinessParametersOnly) {
  OperationParams params = Amount(1500);
  const std::string fingerprint =
      OperationFingerprint(OperationKind::kRefund, params);
  EXPECT_EQ(fingerprint.substr(0, 3), "v1:");
  params.captures_before = 7;  // A snapshot, not a parameter.
  EXPECT_EQ(OperationFingerprint(OperationKind::kRefund, params), fingerprint);
  params.amount = 1501;
  EXPECT_NE(OperationFingerprint(OperationKind::kRefund, params), fingerprint);
  EXPECT_NE(OperationFingerprint(OperationKind::kCapture, Amount(1500)),
            fingerprint);
}

TEST(LifecycleValidationTest, KeysAmountsAndIdsAreCheckedBeforeAnyIo) {
  v1::CaptureIntentRequest capture;
  capture.set_id("pi_sandbox_1");
  capture.set_capture_key("ship-1");
  capture.mutable_amount()->set_value(100);
  capture.mutable_amount()->set_currency_code("GBP");
  EXPECT_TRUE(ValidateCapture(capture).ok());
  capture.set_capture_key("bad key/with spaces");
  EXPECT_EQ(ValidateCapture(capture).code(),
            absl::StatusCode::kInvalidArgument);
  capture.set_capture_key(std::string(101, 'k'));
  EXPECT_FALSE(ValidateCapture(capture).ok());
  capture.set_capture_key("ship-1");
  capture.mutable_amount()->set_value(0);
  EXPECT_FALSE(ValidateCapture(capture).ok());

  v1::RefundIntentRequest refund;
  refund.set_id("pi_sandbox_1");
  refund.set_refund_key("r-1");
  refund.mutable_amount()->set_value(100);
  refund.mutable_amount()->set_currency_code("GBP");
  EXPECT_TRUE(ValidateRefund(refund).ok());
  refund.set_reason(std::string(1025, 'r'));
  EXPECT_FALSE(ValidateRefund(refund).ok());

  EXPECT_TRUE(ValidateRefundId("rfnd_127usj").ok());
  EXPECT_FALSE(ValidateRefundId("../x").ok());
  EXPECT_FALSE(ValidateRefundId(std::string(51, 'a')).ok());

  v1::ListIntentsRequest list;
  list.set_page_size(101);
  EXPECT_FALSE(ValidateListIntents(list).ok());
  list.set_page_size(10);
  list.add_statuses(v1::PAYMENT_INTENT_STATUS_UNSPECIFIED);
  EXPECT_FALSE(ValidateListIntents(list).ok());
}

}  // namespace
}  // namespace payments
