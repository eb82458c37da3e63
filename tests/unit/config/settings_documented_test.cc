// Every setting the server reads is documented in the README's table, with
// its flag, so the reference cannot fall behind the code.

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/config/server_config.h"

namespace payments::config {
namespace {

TEST(SettingsDocumentedTest, ReadmeListsEverySettingAndItsFlag) {
  std::ifstream in(std::string(PROJECT_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(in) << "README.md not found";
  std::stringstream readme;
  readme << in.rdbuf();
  for (const SettingSpec& spec : AllSettings()) {
    const std::string row = absl::StrCat("| `", spec.env, "` | ");
    EXPECT_TRUE(absl::StrContains(readme.str(), row)) << spec.env;
    if (!spec.flag.empty()) {
      EXPECT_TRUE(absl::StrContains(readme.str(),
                                    absl::StrCat(row, "`--", spec.flag, "`")))
          << spec.flag;
    }
  }
}

}  // namespace
}  // namespace payments::config
