#include "lib/dojo/retry_policy.h"

#include <limits>

#include "gtest/gtest.h"

namespace payments::dojo {
namespace {

absl::StatusOr<HttpResponse> Answer(int code, std::string retry_after = "") {
  HttpResponse response;
  response.status_code = code;
  if (!retry_after.empty()) response.headers = {{"retry-after", retry_after}};
  return response;
}

absl::StatusOr<HttpResponse> TransportError(absl::StatusCode code,
                                            TransportStage stage) {
  absl::Status status(code, "transport");
  SetTransportStage(status, stage);
  return status;
}

TEST(RetryReasonTest, SafeOperationsRetryTransportErrorsAndRetryableCodes) {
  for (int code : {429, 500, 502, 503, 504}) {
    EXPECT_EQ(RetryReason(Answer(code), Idempotency::kSafe),
              std::to_string(code));
  }
  for (int code : {200, 400, 401, 403, 404, 409, 501}) {
    EXPECT_EQ(RetryReason(Answer(code), Idempotency::kSafe), std::nullopt)
        << code;
  }
  EXPECT_EQ(RetryReason(TransportError(absl::StatusCode::kDeadlineExceeded,
                                       TransportStage::kSent),
                        Idempotency::kSafe),
            "timeout");
  EXPECT_EQ(RetryReason(TransportError(absl::StatusCode::kUnavailable,
                                       TransportStage::kSent),
                        Idempotency::kSafe),
            "transport");
}

TEST(RetryReasonTest, UnsafeOperationsRetryOnlyWhatNeverLeft) {
  EXPECT_EQ(RetryReason(TransportError(absl::StatusCode::kUnavailable,
                                       TransportStage::kNotSent),
                        Idempotency::kUnsafe),
            "connect");
  EXPECT_EQ(RetryReason(TransportError(absl::StatusCode::kUnavailable,
                                       TransportStage::kSent),
                        Idempotency::kUnsafe),
            std::nullopt);
  EXPECT_EQ(RetryReason(TransportError(absl::StatusCode::kDeadlineExceeded,
                                       TransportStage::kSent),
                        Idempotency::kUnsafe),
            std::nullopt);
  for (int code : {429, 500, 503}) {
    EXPECT_EQ(RetryReason(Answer(code), Idempotency::kUnsafe), std::nullopt);
  }
}

TEST(RetryReasonTest, CancellationIsNeverRetried) {
  EXPECT_EQ(RetryReason(TransportError(absl::StatusCode::kCancelled,
                                       TransportStage::kNotSent),
                        Idempotency::kSafe),
            std::nullopt);
}

TEST(EffectOfTest, OnlyWhatMayHaveReachedDojoIsPossible) {
  EXPECT_EQ(EffectOf(Answer(200)), Effect::kHeld);
  EXPECT_EQ(EffectOf(Answer(201)), Effect::kHeld);
  EXPECT_EQ(EffectOf(Answer(500)), Effect::kPossible);
  EXPECT_EQ(EffectOf(Answer(504)), Effect::kPossible);
  EXPECT_EQ(EffectOf(Answer(302)), Effect::kPossible);
  EXPECT_EQ(EffectOf(TransportError(absl::StatusCode::kDeadlineExceeded,
                                    TransportStage::kSent)),
            Effect::kPossible);
  EXPECT_EQ(EffectOf(TransportError(absl::StatusCode::kCancelled,
                                    TransportStage::kSent)),
            Effect::kPossible);
  EXPECT_EQ(EffectOf(TransportError(absl::StatusCode::kUnavailable,
                                    TransportStage::kNotSent)),
            Effect::kNone);
  EXPECT_EQ(EffectOf(Answer(400)), Effect::kNone);
  EXPECT_EQ(EffectOf(Answer(409)), Effect::kNone);
  EXPECT_EQ(EffectOf(Answer(429)), Effect::kNone);
}

TEST(BackoffDelayTest, GrowsExponentiallyWithJitterWithinCap) {
  RetryOptions options;
  options.initial_backoff = absl::Milliseconds(100);
  options.max_backoff = absl::Milliseconds(350);
  for (int i = 0; i < 100; ++i) {
    const absl::Duration first = BackoffDelay(options, 1);
    EXPECT_GE(first, absl::Milliseconds(50));
    EXPECT_LE(first, absl::Milliseconds(100));
    const absl::Duration second = BackoffDelay(options, 2);
    EXPECT_GE(second, absl::Milliseconds(100));
    EXPECT_LE(second, absl::Milliseconds(200));
    const absl::Duration capped = BackoffDelay(options, 10);
    EXPECT_GE(capped, absl::Milliseconds(175));
    EXPECT_LE(capped, absl::Milliseconds(350));
  }
}

// Found by tests/fuzz/retry_after_fuzzer: `retry - 1` overflowed for INT_MIN.
TEST(BackoffDelayTest, RetryNumbersBelowOneCountAsTheFirst) {
  RetryOptions options;
  options.initial_backoff = absl::Milliseconds(100);
  options.max_backoff = absl::Seconds(2);
  for (int retry : {0, -1, std::numeric_limits<int>::min()}) {
    const absl::Duration delay = BackoffDelay(options, retry);
    EXPECT_GE(delay, absl::Milliseconds(50)) << retry;
    EXPECT_LE(delay, absl::Milliseconds(100)) << retry;
  }
}

TEST(RetryAfterTest, DeltaSecondsOnly) {
  EXPECT_EQ(RetryAfterOf(*Answer(429, "7")), absl::Seconds(7));
  EXPECT_EQ(RetryAfterOf(*Answer(429, " 0 ")), absl::ZeroDuration());
  EXPECT_EQ(RetryAfterOf(*Answer(429, "Wed, 21 Oct 2015 07:28:00 GMT")),
            std::nullopt);
  EXPECT_EQ(RetryAfterOf(*Answer(429, "-3")), std::nullopt);
  EXPECT_EQ(RetryAfterOf(*Answer(429)), std::nullopt);
}

TEST(RetryBudgetTest, StopsRetriesBelowHalfAndRefillsBySuccesses) {
  RetryOptions options;
  options.budget_max_tokens = 4;
  options.budget_token_ratio = 0.5;
  RetryBudget budget(options);
  EXPECT_TRUE(budget.CanRetry());
  budget.RecordFailure();  // 3
  EXPECT_TRUE(budget.CanRetry());
  budget.RecordFailure();  // 2: not more than half
  EXPECT_FALSE(budget.CanRetry());
  budget.RecordFailure();  // 1
  budget.RecordFailure();  // 0
  budget.RecordFailure();  // stays 0
  budget.RecordSuccess();  // 0.5
  budget.RecordSuccess();  // 1
  budget.RecordSuccess();  // 1.5
  budget.RecordSuccess();  // 2
  EXPECT_FALSE(budget.CanRetry());
  budget.RecordSuccess();  // 2.5
  EXPECT_TRUE(budget.CanRetry());
  for (int i = 0; i < 10; ++i) budget.RecordSuccess();  // capped at 4
  budget.RecordFailure();                               // 3
  budget.RecordFailure();                               // 2
  EXPECT_FALSE(budget.CanRetry());
}

}  // namespace
}  // namespace payments::dojo
