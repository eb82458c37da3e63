#include "lib/auth/caller_policy.h"

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace payments::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::set<std::string>& KnownRpcs() {
  static const auto* const kRpcs = new std::set<std::string>{
      "CreateIntent", "CreatePaymentLink",          "GetIntent",
      "RefundIntent", "RefreshClientSessionSecret", "CaptureIntent"};
  return *kRpcs;
}

absl::StatusOr<CallerPolicy> Parse(const std::string& text) {
  return ParseCallerPolicy(text, KnownRpcs());
}

// Expects INVALID_ARGUMENT whose message is exactly `message`.
void ExpectInvalid(const std::string& text, const std::string& message) {
  SCOPED_TRACE(text);
  absl::StatusOr<CallerPolicy> policy = Parse(text);
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(policy.status().message(), message);
}

constexpr char kCheckout[] = "spiffe://cluster.local/ns/shop/sa/checkout";
constexpr char kBackOffice[] =
    "spiffe://cluster.local/ns/finance/sa/back-office";

// The README's example policy, with a comment (allowed).
constexpr char kReadmePolicy[] = R"({
  // comments are ignored
  "callers": {
    "spiffe://cluster.local/ns/shop/sa/checkout": {
      "rpcs": ["CreateIntent", "CreatePaymentLink", "GetIntent", "RefreshClientSessionSecret"],
      "accounts": ["default"],
      "limits": {
        "calls":   {"per_second": 100, "burst": 200},
        "creates": {"per_second": 20,  "burst": 40}
      }
    },
    "spiffe://cluster.local/ns/finance/sa/back-office": {
      "rpcs": ["*"], "accounts": ["*"],
      "limits": {"refunds": {"per_second": 2, "burst": 10}}
    }
  },
  "accounts": {
    "default": {"limits": {"calls": {"per_second": 300, "burst": 600}}}
  }
})";

TEST(ParseCallerPolicy, ValidPolicy) {
  absl::StatusOr<CallerPolicy> policy = Parse(kReadmePolicy);
  ASSERT_TRUE(policy.ok()) << policy.status();
  ASSERT_EQ(policy->callers.size(), 2u);

  const CallerRule& checkout = policy->callers.at(kCheckout);
  EXPECT_FALSE(checkout.all_rpcs);
  EXPECT_THAT(checkout.rpcs,
              ElementsAre("CreateIntent", "CreatePaymentLink", "GetIntent",
                          "RefreshClientSessionSecret"));
  EXPECT_FALSE(checkout.all_accounts);
  EXPECT_THAT(checkout.accounts, ElementsAre("default"));
  EXPECT_EQ(checkout.limits.calls, (RateLimit{100, 200}));
  EXPECT_EQ(checkout.limits.creates, (RateLimit{20, 40}));
  EXPECT_FALSE(checkout.limits.refunds.has_value());

  ASSERT_EQ(policy->accounts.size(), 1u);
  const Limits& account = policy->accounts.at("default");
  EXPECT_EQ(account.calls, (RateLimit{300, 600}));
  EXPECT_FALSE(account.creates.has_value());
  EXPECT_FALSE(account.refunds.has_value());
}

TEST(ParseCallerPolicy, Wildcards) {
  absl::StatusOr<CallerPolicy> policy = Parse(kReadmePolicy);
  ASSERT_TRUE(policy.ok()) << policy.status();
  const CallerRule& back_office = policy->callers.at(kBackOffice);
  EXPECT_TRUE(back_office.all_rpcs);
  EXPECT_TRUE(back_office.rpcs.empty());
  EXPECT_TRUE(back_office.all_accounts);
  EXPECT_TRUE(back_office.accounts.empty());
  EXPECT_FALSE(back_office.limits.calls.has_value());
  EXPECT_EQ(back_office.limits.refunds, (RateLimit{2, 10}));
}

TEST(ParseCallerPolicy, EmptyDocumentAndRuleWithoutLimits) {
  absl::StatusOr<CallerPolicy> empty = Parse("{}");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->callers.empty());
  EXPECT_TRUE(empty->accounts.empty());

  absl::StatusOr<CallerPolicy> policy = Parse(
      R"({"callers": {"cn-only": {"rpcs": ["GetIntent"], "accounts": ["web", "default"]}},
          "accounts": {"web": {}}})");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->callers.at("cn-only").limits, Limits{});
  EXPECT_THAT(policy->callers.at("cn-only").accounts,
              ElementsAre("default", "web"));
  EXPECT_EQ(policy->accounts.at("web"), Limits{});
}

TEST(ParseCallerPolicy, NotJson) {
  ExpectInvalid("{\"callers\": ", "policy: document: not valid JSON");
  ExpectInvalid("[]", "policy: document: expected an object");
}

TEST(ParseCallerPolicy, UnknownKeysAreRejectedWhereTheyAre) {
  ExpectInvalid(R"({"caller": {}})", "policy: document: unknown key 'caller'");
  ExpectInvalid(
      R"({"callers": {"a": {"rpcs": ["*"], "accounts": ["*"], "rate": 1}}})",
      "policy: callers[\"a\"]: unknown key 'rate'");
  ExpectInvalid(
      R"({"callers": {"a": {"rpcs": ["*"], "accounts": ["*"],
                            "limits": {"reads": {"per_second": 1, "burst": 1}}}}})",
      "policy: callers[\"a\"].limits: unknown key 'reads'");
  ExpectInvalid(
      R"({"callers": {"a": {"rpcs": ["*"], "accounts": ["*"],
                            "limits": {"calls": {"per_second": 1, "burst": 1, "max": 3}}}}})",
      "policy: callers[\"a\"].limits.calls: unknown key 'max'");
  ExpectInvalid(R"({"accounts": {"default": {"limit": {}}}})",
                "policy: accounts[\"default\"]: unknown key 'limit'");
  ExpectInvalid(
      R"({"accounts": {"default": {"limits": {"refund": {"per_second": 1, "burst": 1}}}}})",
      "policy: accounts[\"default\"].limits: unknown key 'refund'");
}

TEST(ParseCallerPolicy, UnknownRpcNamesAreRejected) {
  ExpectInvalid(
      R"({"callers": {"a": {"rpcs": ["GetIntent", "DeleteIntent"], "accounts": ["*"]}}})",
      "policy: callers[\"a\"].rpcs: unknown name 'DeleteIntent'");
  // Names are case-sensitive, and the service prefix is not part of them.
  ExpectInvalid(
      R"({"callers": {"a": {"rpcs": ["getIntent"], "accounts": ["*"]}}})",
      "policy: callers[\"a\"].rpcs: unknown name 'getIntent'");
  ExpectInvalid(
      R"({"callers": {"a": {"rpcs": ["payments.v1.PaymentsService/GetIntent"], "accounts": ["*"]}}})",
      "policy: callers[\"a\"].rpcs: unknown name "
      "'payments.v1.PaymentsService/GetIntent'");
}

TEST(ParseCallerPolicy, BadNameLists) {
  ExpectInvalid(R"({"callers": {"a": {"rpcs": [], "accounts": ["*"]}}})",
                "policy: callers[\"a\"].rpcs: expected a non-empty list of "
                "names, or [\"*\"]");
  ExpectInvalid(R"({"callers": {"a": {"rpcs": "*", "accounts": ["*"]}}})",
                "policy: callers[\"a\"].rpcs: expected a non-empty list of "
                "names, or [\"*\"]");
  ExpectInvalid(R"({"callers": {"a": {"rpcs": [1], "accounts": ["*"]}}})",
                "policy: callers[\"a\"].rpcs: names must be strings");
  ExpectInvalid(
      R"({"callers": {"a": {"rpcs": ["*", "GetIntent"], "accounts": ["*"]}}})",
      "policy: callers[\"a\"].rpcs: \"*\" cannot be combined with names");
  ExpectInvalid(
      R"({"callers": {"a": {"rpcs": ["*"], "accounts": ["default", "*"]}}})",
      "policy: callers[\"a\"].accounts: \"*\" cannot be combined with names");
  ExpectInvalid(
      R"({"callers": {"a": {"rpcs": ["*"], "accounts": ["bad name"]}}})",
      "policy: callers[\"a\"].accounts: unknown name 'bad name'");
  ExpectInvalid(R"({"callers": {"a": {"rpcs": ["*"]}}})",
                "policy: callers[\"a\"]: 'rpcs' and 'accounts' are required");
  ExpectInvalid(R"({"callers": {"a": {"accounts": ["*"]}}})",
                "policy: callers[\"a\"]: 'rpcs' and 'accounts' are required");
  ExpectInvalid(R"({"callers": {"": {"rpcs": ["*"], "accounts": ["*"]}}})",
                "policy: callers[\"\"]: a caller is 1 to 512 characters");
  ExpectInvalid(R"({"callers": []})", "policy: callers: expected an object");
  ExpectInvalid(R"({"callers": {"a": []}})",
                "policy: callers[\"a\"]: expected an object");
}

TEST(ParseCallerPolicy, BadAccounts) {
  ExpectInvalid(R"({"accounts": {"no/slash": {}}})",
                "policy: accounts[\"no/slash\"]: an account name is 1-64 of "
                "[A-Za-z0-9_-]");
  ExpectInvalid(R"({"accounts": []})", "policy: accounts: expected an object");
}

TEST(ParseCallerPolicy, BadRateLimits) {
  auto caller_with = [](const std::string& limit) {
    return R"({"callers": {"a": {"rpcs": ["*"], "accounts": ["*"], "limits": {"calls": )" +
           limit + "}}}}";
  };
  ExpectInvalid(caller_with(R"({"burst": 5})"),
                "policy: callers[\"a\"].limits.calls: 'per_second' must be a "
                "number");
  ExpectInvalid(caller_with(R"({"per_second": "5", "burst": 5})"),
                "policy: callers[\"a\"].limits.calls: 'per_second' must be a "
                "number");
  ExpectInvalid(
      caller_with(R"({"per_second": 5})"),
      "policy: callers[\"a\"].limits.calls: 'burst' must be a number");
  ExpectInvalid(caller_with(R"({"per_second": 0, "burst": 5})"),
                "policy: callers[\"a\"].limits.calls: 'per_second' must be "
                "positive");
  ExpectInvalid(caller_with(R"({"per_second": -1, "burst": 5})"),
                "policy: callers[\"a\"].limits.calls: 'per_second' must be "
                "positive");
  ExpectInvalid(caller_with(R"({"per_second": 1, "burst": 0.5})"),
                "policy: callers[\"a\"].limits.calls: 'burst' must be at "
                "least 1");
  ExpectInvalid(caller_with("5"),
                "policy: callers[\"a\"].limits.calls: expected an object");
  ExpectInvalid(
      R"({"accounts": {"web": {"limits": {"creates": {"per_second": 1, "burst": 0}}}}})",
      "policy: accounts[\"web\"].limits.creates: 'burst' must be at least 1");
}

TEST(ParseCallerPolicy, PerCallerAndPerAccountLimits) {
  absl::StatusOr<CallerPolicy> policy = Parse(R"({
    "callers": {
      "a": {"rpcs": ["*"], "accounts": ["*"],
            "limits": {"calls": {"per_second": 0.5, "burst": 1},
                       "creates": {"per_second": 2, "burst": 3},
                       "refunds": {"per_second": 4, "burst": 5}}},
      "b": {"rpcs": ["GetIntent"], "accounts": ["web"]}
    },
    "accounts": {
      "web": {"limits": {"refunds": {"per_second": 6, "burst": 7}}},
      "default": {"limits": {"creates": {"per_second": 8, "burst": 9}}}
    }})");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const Limits& a = policy->callers.at("a").limits;
  EXPECT_EQ(a.calls, (RateLimit{0.5, 1}));
  EXPECT_EQ(a.creates, (RateLimit{2, 3}));
  EXPECT_EQ(a.refunds, (RateLimit{4, 5}));
  EXPECT_EQ(policy->callers.at("b").limits, Limits{});
  EXPECT_EQ(policy->accounts.at("web").refunds, (RateLimit{6, 7}));
  EXPECT_FALSE(policy->accounts.at("web").calls.has_value());
  EXPECT_EQ(policy->accounts.at("default").creates, (RateLimit{8, 9}));
}

TEST(LimitKindOf, CreatesRefundsAndTheRest) {
  EXPECT_EQ(LimitKindOf("CreateIntent"), "creates");
  EXPECT_EQ(LimitKindOf("CreatePaymentLink"), "creates");
  EXPECT_EQ(LimitKindOf("RefundIntent"), "refunds");
  EXPECT_EQ(LimitKindOf("GetIntent"), "");
  EXPECT_EQ(LimitKindOf("CaptureIntent"), "");
}

}  // namespace
}  // namespace payments::auth
