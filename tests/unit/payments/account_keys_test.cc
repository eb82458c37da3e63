#include "lib/payments/account_keys.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/common/status_details.h"

namespace payments {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kDefaultKey[] = "sk_sandbox_DEFAULTKEY_c8oLGaI";
constexpr char kEuKey[] = "sk_sandbox_EUKEY_Qt7xWm2";

AccountKeys Keys() {
  return AccountKeys({{"default", kDefaultKey}, {"eu-shop", kEuKey}},
                     "default");
}

TEST(AccountKeys, EmptySelectsTheDefault) {
  const AccountKeys keys = Keys();
  absl::StatusOr<absl::string_view> key = keys.KeyFor("");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, kDefaultKey);
}

TEST(AccountKeys, DefaultByName) {
  const AccountKeys keys = Keys();
  absl::StatusOr<absl::string_view> key = keys.KeyFor("default");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, kDefaultKey);
}

TEST(AccountKeys, NamedAccount) {
  const AccountKeys keys = Keys();
  absl::StatusOr<absl::string_view> key = keys.KeyFor("eu-shop");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, kEuKey);
}

TEST(AccountKeys, NamesAreExact) {
  EXPECT_EQ(Keys().KeyFor("EU-SHOP").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Keys().KeyFor("eu-shop ").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AccountKeys, UnknownAccount) {
  const AccountKeys keys = Keys();
  const absl::Status status = keys.KeyFor("us-shop").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  auto info = GetErrorInfo(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "UNKNOWN_ACCOUNT");
  EXPECT_EQ(info->domain(), "payments.v1");
  auto bad = GetBadRequest(status);
  ASSERT_TRUE(bad.has_value());
  ASSERT_EQ(bad->field_violations_size(), 1);
  EXPECT_EQ(bad->field_violations(0).field(), "account");
}

TEST(AccountKeys, ErrorsNeverContainAKey) {
  const AccountKeys keys = Keys();
  // Including names that look like, or are, a key.
  for (const char* account : {"us-shop", kEuKey, "sk_sandbox_DEFAULTKEY"}) {
    SCOPED_TRACE(account);
    const absl::Status status = keys.KeyFor(account).status();
    ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr("DEFAULTKEY")));
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr("EUKEY")));
    EXPECT_THAT(status.ToString(), Not(HasSubstr("DEFAULTKEY_c8oLGaI")));
    status.ForEachPayload([](absl::string_view, const absl::Cord& payload) {
      const std::string bytes(payload);
      EXPECT_THAT(bytes, Not(HasSubstr("DEFAULTKEY")));
      EXPECT_THAT(bytes, Not(HasSubstr("EUKEY")));
    });
  }
}

TEST(AccountKeys, MissingDefaultIsUnknownNotACrash) {
  const AccountKeys keys({{"eu-shop", kEuKey}}, "default");
  EXPECT_EQ(keys.KeyFor("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace payments
