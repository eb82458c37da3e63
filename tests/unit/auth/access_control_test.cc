#include "lib/auth/access_control.h"

#include <set>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/auth/caller_policy.h"

// Token buckets driven by explicit times: every Check gets its `now`, so
// nothing here sleeps.

namespace payments::auth {
namespace {

using Verdict = Decision::Verdict;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

CallerPolicy MustParse(const std::string& text) {
  absl::StatusOr<CallerPolicy> policy =
      ParseCallerPolicy(text, {"CreateIntent", "CreatePaymentLink", "GetIntent",
                               "RefundIntent", "CaptureIntent"});
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *policy : CallerPolicy{};
}

class AccessControlTest : public ::testing::Test {
 protected:
  void Use(const std::string& policy) { control_.SetPolicy(MustParse(policy)); }

  Decision Check(absl::string_view caller, absl::string_view rpc,
                 absl::string_view account, absl::Duration at) {
    return control_.Check(caller, rpc, account, kT0 + at);
  }

  // Expects `n` allowed calls in a row at the same instant.
  void ExpectAllowed(int n, absl::string_view caller, absl::string_view rpc,
                     absl::string_view account, absl::Duration at) {
    for (int i = 0; i < n; ++i) {
      Decision d = Check(caller, rpc, account, at);
      ASSERT_EQ(d.verdict, Verdict::kAllowed)
          << "call " << i + 1 << " " << d.limit;
    }
  }

  AccessControl control_;
};

TEST_F(AccessControlTest, WithoutAPolicyEverythingIsAllowed) {
  EXPECT_FALSE(control_.has_policy());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(
        Check("anyone", "RefundIntent", "x", absl::ZeroDuration()).verdict,
        Verdict::kAllowed);
  }
  EXPECT_EQ(control_.CallerLabel("anyone"), kOtherCaller);
}

TEST_F(AccessControlTest, RpcsAndAccountsOfTheRule) {
  Use(R"({"callers": {
    "shop": {"rpcs": ["CreateIntent", "GetIntent"], "accounts": ["default", "web"]},
    "ops":  {"rpcs": ["*"], "accounts": ["*"]}}})");
  EXPECT_TRUE(control_.has_policy());
  const absl::Duration t = absl::ZeroDuration();
  EXPECT_EQ(Check("shop", "CreateIntent", "default", t).verdict,
            Verdict::kAllowed);
  EXPECT_EQ(Check("shop", "GetIntent", "web", t).verdict, Verdict::kAllowed);
  EXPECT_EQ(Check("shop", "RefundIntent", "default", t).verdict,
            Verdict::kDenied);
  EXPECT_EQ(Check("shop", "GetIntent", "moto", t).verdict, Verdict::kDenied);
  EXPECT_EQ(Check("ops", "RefundIntent", "moto", t).verdict, Verdict::kAllowed);
  EXPECT_EQ(Check("ops", "CaptureIntent", "default", t).verdict,
            Verdict::kAllowed);
  // Not named: refused, and labelled "other" in metrics.
  EXPECT_EQ(Check("stranger", "GetIntent", "default", t).verdict,
            Verdict::kDenied);
  EXPECT_EQ(Check(kAnonymousCaller, "GetIntent", "default", t).verdict,
            Verdict::kDenied);
  EXPECT_EQ(control_.CallerLabel("shop"), "shop");
  EXPECT_EQ(control_.CallerLabel("stranger"), kOtherCaller);
}

TEST_F(AccessControlTest, BurstOverTheLimitIsRefusedWithTheRetryDelay) {
  // 2 per second, bucket of 3.
  Use(R"({"callers": {"c": {"rpcs": ["*"], "accounts": ["*"],
          "limits": {"calls": {"per_second": 2, "burst": 3}}}}})");
  ExpectAllowed(3, "c", "GetIntent", "default", absl::ZeroDuration());
  Decision d = Check("c", "GetIntent", "default", absl::ZeroDuration());
  EXPECT_EQ(d.verdict, Verdict::kRateLimited);
  EXPECT_EQ(d.limit, "caller.calls");
  EXPECT_EQ(d.retry_after, absl::Milliseconds(500));  // one token at 2/s
  // 200 ms later 0.4 of a token is back: 300 ms to go.
  d = Check("c", "GetIntent", "default", absl::Milliseconds(200));
  EXPECT_EQ(d.verdict, Verdict::kRateLimited);
  EXPECT_LT(absl::AbsDuration(d.retry_after - absl::Milliseconds(300)),
            absl::Microseconds(1));
}

TEST_F(AccessControlTest, RefillOverTime) {
  Use(R"({"callers": {"c": {"rpcs": ["*"], "accounts": ["*"],
          "limits": {"calls": {"per_second": 2, "burst": 3}}}}})");
  ExpectAllowed(3, "c", "GetIntent", "default", absl::ZeroDuration());
  // After the announced delay there is exactly one token.
  ExpectAllowed(1, "c", "GetIntent", "default", absl::Milliseconds(500));
  EXPECT_EQ(Check("c", "GetIntent", "default", absl::Milliseconds(500)).verdict,
            Verdict::kRateLimited);
  // One second later: two more.
  ExpectAllowed(2, "c", "GetIntent", "default", absl::Milliseconds(1500));
  EXPECT_EQ(
      Check("c", "GetIntent", "default", absl::Milliseconds(1500)).verdict,
      Verdict::kRateLimited);
  // A long pause refills the bucket only up to its burst.
  ExpectAllowed(3, "c", "GetIntent", "default", absl::Hours(1));
  EXPECT_EQ(Check("c", "GetIntent", "default", absl::Hours(1)).verdict,
            Verdict::kRateLimited);
}

TEST_F(AccessControlTest, TimeGoingBackwardsAddsNothing) {
  Use(R"({"callers": {"c": {"rpcs": ["*"], "accounts": ["*"],
          "limits": {"calls": {"per_second": 1, "burst": 1}}}}})");
  ExpectAllowed(1, "c", "GetIntent", "default", absl::Seconds(10));
  EXPECT_EQ(Check("c", "GetIntent", "default", absl::Seconds(5)).verdict,
            Verdict::kRateLimited);
  ExpectAllowed(1, "c", "GetIntent", "default", absl::Seconds(11));
}

TEST_F(AccessControlTest, CreatesAndRefundsHaveTheirOwnBuckets) {
  Use(R"({"callers": {"c": {"rpcs": ["*"], "accounts": ["*"],
          "limits": {"creates": {"per_second": 1, "burst": 2},
                     "refunds": {"per_second": 0.1, "burst": 1}}}}})");
  const absl::Duration t = absl::ZeroDuration();
  ExpectAllowed(1, "c", "CreateIntent", "default", t);
  ExpectAllowed(1, "c", "CreatePaymentLink", "default", t);  // same bucket
  Decision d = Check("c", "CreateIntent", "default", t);
  EXPECT_EQ(d.verdict, Verdict::kRateLimited);
  EXPECT_EQ(d.limit, "caller.creates");
  EXPECT_EQ(d.retry_after, absl::Seconds(1));

  ExpectAllowed(1, "c", "RefundIntent", "default", t);
  d = Check("c", "RefundIntent", "default", t);
  EXPECT_EQ(d.verdict, Verdict::kRateLimited);
  EXPECT_EQ(d.limit, "caller.refunds");
  EXPECT_EQ(d.retry_after, absl::Seconds(10));

  // Other RPCs have no limit here.
  ExpectAllowed(50, "c", "GetIntent", "default", t);
}

TEST_F(AccessControlTest, EachCallerHasItsOwnBuckets) {
  Use(R"({"callers": {
    "a": {"rpcs": ["*"], "accounts": ["*"], "limits": {"calls": {"per_second": 1, "burst": 1}}},
    "b": {"rpcs": ["*"], "accounts": ["*"], "limits": {"calls": {"per_second": 1, "burst": 1}}}}})");
  const absl::Duration t = absl::ZeroDuration();
  ExpectAllowed(1, "a", "GetIntent", "default", t);
  EXPECT_EQ(Check("a", "GetIntent", "default", t).verdict,
            Verdict::kRateLimited);
  ExpectAllowed(1, "b", "GetIntent", "default", t);
}

TEST_F(AccessControlTest, AccountLimitIsSharedByEveryCaller) {
  Use(R"({"callers": {
    "a": {"rpcs": ["*"], "accounts": ["*"]},
    "b": {"rpcs": ["*"], "accounts": ["*"]}},
    "accounts": {"web": {"limits": {"calls": {"per_second": 4, "burst": 2}}}}})");
  const absl::Duration t = absl::ZeroDuration();
  ExpectAllowed(1, "a", "GetIntent", "web", t);
  ExpectAllowed(1, "b", "GetIntent", "web", t);
  Decision d = Check("a", "GetIntent", "web", t);
  EXPECT_EQ(d.verdict, Verdict::kRateLimited);
  EXPECT_EQ(d.limit, "account.calls");
  EXPECT_EQ(d.retry_after, absl::Milliseconds(250));
  EXPECT_EQ(Check("b", "GetIntent", "web", t).verdict, Verdict::kRateLimited);
  // Another account is not limited.
  ExpectAllowed(10, "a", "GetIntent", "default", t);
}

TEST_F(AccessControlTest, AllOrNothingAcrossBuckets) {
  // The caller's calls bucket holds 5, the account's creates bucket 2.
  Use(R"({"callers": {"c": {"rpcs": ["*"], "accounts": ["*"],
          "limits": {"calls": {"per_second": 1, "burst": 5}}}},
    "accounts": {"default": {"limits": {"creates": {"per_second": 1, "burst": 2}}}}})");
  const absl::Duration t = absl::ZeroDuration();
  ExpectAllowed(2, "c", "CreateIntent", "default", t);
  // Refused by account.creates: caller.calls must not pay for these.
  for (int i = 0; i < 10; ++i) {
    Decision d = Check("c", "CreateIntent", "default", t);
    ASSERT_EQ(d.verdict, Verdict::kRateLimited);
    EXPECT_EQ(d.limit, "account.creates");
    EXPECT_EQ(d.retry_after, absl::Seconds(1));
  }
  // So caller.calls still has 3 of its 5 tokens.
  ExpectAllowed(3, "c", "GetIntent", "default", t);
  Decision d = Check("c", "GetIntent", "default", t);
  EXPECT_EQ(d.verdict, Verdict::kRateLimited);
  EXPECT_EQ(d.limit, "caller.calls");
}

TEST_F(AccessControlTest, TheLongestWaitIsReported) {
  Use(R"({"callers": {"c": {"rpcs": ["*"], "accounts": ["*"],
          "limits": {"calls": {"per_second": 10, "burst": 1},
                     "refunds": {"per_second": 0.5, "burst": 1}}}},
    "accounts": {"default": {"limits": {"refunds": {"per_second": 0.25, "burst": 1}}}}})");
  ExpectAllowed(1, "c", "RefundIntent", "default", absl::ZeroDuration());
  Decision d = Check("c", "RefundIntent", "default", absl::ZeroDuration());
  EXPECT_EQ(d.verdict, Verdict::kRateLimited);
  EXPECT_EQ(d.limit, "account.refunds");
  EXPECT_EQ(d.retry_after, absl::Seconds(4));
}

TEST_F(AccessControlTest, DeniedCallsTakeNoTokens) {
  Use(R"({"callers": {"c": {"rpcs": ["GetIntent"], "accounts": ["default"]}},
    "accounts": {"default": {"limits": {"calls": {"per_second": 1, "burst": 1}}}}})");
  const absl::Duration t = absl::ZeroDuration();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Check("c", "RefundIntent", "default", t).verdict,
              Verdict::kDenied);
    ASSERT_EQ(Check("x", "GetIntent", "default", t).verdict, Verdict::kDenied);
  }
  ExpectAllowed(1, "c", "GetIntent", "default", t);
}

TEST_F(AccessControlTest, NewPolicyRefillsTheBuckets) {
  const std::string policy =
      R"({"callers": {"c": {"rpcs": ["*"], "accounts": ["*"],
          "limits": {"calls": {"per_second": 1, "burst": 2}}}}})";
  Use(policy);
  ExpectAllowed(2, "c", "GetIntent", "default", absl::ZeroDuration());
  EXPECT_EQ(Check("c", "GetIntent", "default", absl::ZeroDuration()).verdict,
            Verdict::kRateLimited);
  Use(policy);
  ExpectAllowed(2, "c", "GetIntent", "default", absl::ZeroDuration());

  control_.SetPolicy(std::nullopt);
  EXPECT_FALSE(control_.has_policy());
  ExpectAllowed(100, "anyone", "RefundIntent", "default", absl::ZeroDuration());
}

}  // namespace
}  // namespace payments::auth
