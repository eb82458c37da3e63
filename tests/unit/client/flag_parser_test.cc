#include "client/ctl/flag_parser.h"

#include <optional>

#include "absl/flags/flag.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(std::string, test_body_file, "", "");
ABSL_FLAG(bool, test_json, false, "");
ABSL_FLAG(std::optional<int64_t>, test_amount, std::nullopt, "");
ABSL_FLAG(std::string, test_other, "", "");

namespace payments::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::vector<std::string> kAllowed = {"test_body_file", "test_json",
                                           "test_amount"};

class FlagParserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::SetFlag(&FLAGS_test_body_file, "");
    absl::SetFlag(&FLAGS_test_json, false);
    absl::SetFlag(&FLAGS_test_amount, std::nullopt);
  }
};

TEST_F(FlagParserTest, NormalizesDashesInNamesOnly) {
  EXPECT_EQ(NormalizeFlagArg("--body-file=a-b.json"), "--body_file=a-b.json");
  EXPECT_EQ(NormalizeFlagArg("-body-file"), "-body_file");
  EXPECT_EQ(NormalizeFlagArg("--json"), "--json");
  EXPECT_EQ(NormalizeFlagArg("-"), "-");
  EXPECT_EQ(NormalizeFlagArg("--"), "--");
  EXPECT_EQ(NormalizeFlagArg("pi-1"), "pi-1");
}

TEST_F(FlagParserTest, AcceptsTheUsualForms) {
  auto rest = ParseFlags(
      {"--test-body-file", "-", "--test_json", "--test_amount=1000", "extra"},
      kAllowed);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_THAT(*rest, ElementsAre("extra"));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_body_file), "-");
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_json));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_amount), 1000);

  rest = ParseFlags({"--notest_json", "--", "--test_amount=5"}, kAllowed);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_json));
  EXPECT_THAT(*rest, ElementsAre("--test_amount=5"));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_amount), 1000);
}

TEST_F(FlagParserTest, RejectsUnknownDisallowedAndBadValues) {
  EXPECT_EQ(ParseFlags({"--nope=1"}, kAllowed).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Registered, but not a flag of this command.
  EXPECT_FALSE(ParseFlags({"--test_other=x"}, kAllowed).ok());
  EXPECT_FALSE(ParseFlags({"--test_amount=ten"}, kAllowed).ok());
  EXPECT_FALSE(ParseFlags({"--test_body_file"}, kAllowed).ok());
  EXPECT_FALSE(ParseFlags({"--test_json=maybe"}, kAllowed).ok());
  auto none = ParseFlags({}, kAllowed);
  ASSERT_TRUE(none.ok());
  EXPECT_THAT(*none, IsEmpty());
}

}  // namespace
}  // namespace payments::ctl
