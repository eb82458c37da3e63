#include "lib/common/logger.h"

#include <cstdint>
#include <regex>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace payments {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

TEST(FormatLogLine, OneLineOfJsonWithTypedFields) {
  const std::string line =
      FormatLogLine(LogLevel::kWarning, "rpc_failed",
                    {{"method", "CreateIntent"},
                     {"code", 3},
                     {"attempts", std::int64_t{9000000000}},
                     {"latency_seconds", 0.25},
                     {"replay", true},
                     {"request_id", std::string("req-1")}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const Json json = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(json.is_object()) << line;
  EXPECT_EQ(json["level"], "warning");
  EXPECT_EQ(json["event"], "rpc_failed");
  EXPECT_EQ(json["method"], "CreateIntent");
  EXPECT_TRUE(json["code"].is_number_integer());
  EXPECT_EQ(json["code"], 3);
  EXPECT_EQ(json["attempts"], 9000000000);
  EXPECT_TRUE(json["latency_seconds"].is_number_float());
  EXPECT_DOUBLE_EQ(json["latency_seconds"].get<double>(), 0.25);
  EXPECT_TRUE(json["replay"].is_boolean());
  EXPECT_EQ(json["replay"], true);
  EXPECT_EQ(json["request_id"], "req-1");
  ASSERT_TRUE(json["ts"].is_string());
  EXPECT_TRUE(std::regex_match(
      json["ts"].get<std::string>(),
      std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")))
      << json["ts"];
  // ts, level and event lead the line.
  EXPECT_EQ(line.rfind(R"({"ts":")", 0), 0u) << line;
  EXPECT_LT(line.find(R"("level")"), line.find(R"("event")"));
  EXPECT_LT(line.find(R"("event")"), line.find(R"("method")"));
}

TEST(FormatLogLine, Levels) {
  EXPECT_EQ(Json::parse(FormatLogLine(LogLevel::kInfo, "e", {}))["level"],
            "info");
  EXPECT_EQ(Json::parse(FormatLogLine(LogLevel::kError, "e", {}))["level"],
            "error");
}

TEST(FormatLogLine, EscapesQuotesAndNewlines) {
  const std::string line =
      FormatLogLine(LogLevel::kError, "upstream \"failed\"",
                    {{"message", "line one\nline \"two\"\r\tend\\"}});
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
  EXPECT_THAT(line, HasSubstr(R"(line one\nline \"two\"\r\tend\\)"));
  const Json json = Json::parse(line);
  EXPECT_EQ(json["event"], "upstream \"failed\"");
  EXPECT_EQ(json["message"], "line one\nline \"two\"\r\tend\\");
}

TEST(FormatLogLine, ControlCharactersAndInjectionAttempts) {
  const std::string line = FormatLogLine(
      LogLevel::kInfo, "e",
      {{"reference", std::string("a\0b", 3)},
       {"note", "\"}\n{\"level\":\"error\",\"event\":\"forged\""}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const Json json = Json::parse(line);
  EXPECT_EQ(json["level"], "info");
  EXPECT_EQ(json["event"], "e");
  EXPECT_EQ(json["reference"], std::string("a\0b", 3));
}

TEST(FormatLogLine, InvalidUtf8IsReplacedNotThrown) {
  std::string line;
  ASSERT_NO_THROW(line = FormatLogLine(LogLevel::kInfo, "e",
                                       {{"body", "ok \xff\xfe bad"}}));
  const Json json = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(json.is_object()) << line;
  EXPECT_THAT(json["body"].get<std::string>(), HasSubstr("ok "));
  EXPECT_THAT(json["body"].get<std::string>(), Not(HasSubstr("\xff")));
}

}  // namespace
}  // namespace payments
