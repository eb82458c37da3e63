// Every setting the server reads is documented in the README's table, with
// its flag, so the reference cannot fall behind the code.

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
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

// "`0` to `5m`" reads badly: a zero bound is written 0s.
std::string Written(absl::Duration duration) {
  return duration == absl::ZeroDuration() ? "0s"
                                          : absl::FormatDuration(duration);
}

TEST(SettingsDocumentedTest, ReadmeGivesEveryDurationsBounds) {
  std::ifstream in(std::string(PROJECT_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(in) << "README.md not found";
  std::string line;
  std::map<std::string, std::string> rows;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "| `")) {
      rows[line.substr(3, line.find('`', 3) - 3)] = line;
    }
  }
  for (const DurationBounds& bounds : AllDurationBounds()) {
    const std::string range = absl::StrCat("`", Written(bounds.min), "` to `",
                                           Written(bounds.max), "`");
    ASSERT_TRUE(rows.count(std::string(bounds.env))) << bounds.env;
    EXPECT_TRUE(absl::StrContains(rows[std::string(bounds.env)], range))
        << bounds.env << " should say " << range;
  }
}

}  // namespace
}  // namespace payments::config
