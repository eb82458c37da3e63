#include "lib/common/status_details.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/common/utf8.h"

namespace payments {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

std::vector<std::string> PayloadUrls(const absl::Status& status) {
  std::vector<std::string> urls;
  status.ForEachPayload([&](absl::string_view url, const absl::Cord&) {
    urls.emplace_back(url);
  });
  return urls;
}

TEST(StatusDetails, ErrorInfoRoundTrip) {
  absl::Status status = absl::FailedPreconditionError("key rejected");
  SetErrorInfo(status, reason::kDojoUnauthorized,
               {{"http_status", "401"}, {"trace_id", "00-abc-01"}});
  auto info = GetErrorInfo(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "DOJO_UNAUTHORIZED");
  EXPECT_EQ(info->domain(), "payments.v1");
  EXPECT_THAT(info->metadata(),
              UnorderedElementsAre(Pair("http_status", "401"),
                                   Pair("trace_id", "00-abc-01")));
  EXPECT_THAT(PayloadUrls(status),
              UnorderedElementsAre("type.googleapis.com/google.rpc.ErrorInfo"));
  // Code and message are untouched.
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "key rejected");
}

TEST(StatusDetails, SettingAgainReplaces) {
  absl::Status status = absl::UnavailableError("down");
  SetErrorInfo(status, "FIRST", {{"a", "1"}});
  SetErrorInfo(status, "SECOND");
  EXPECT_EQ(GetErrorInfo(status)->reason(), "SECOND");
  EXPECT_THAT(GetErrorInfo(status)->metadata(), IsEmpty());
  SetRetryInfo(status, absl::Seconds(1));
  SetRetryInfo(status, absl::Seconds(9));
  EXPECT_EQ(GetRetryInfo(status)->retry_delay().seconds(), 9);
  EXPECT_EQ(PayloadUrls(status).size(), 2u);
}

TEST(StatusDetails, RetryInfo) {
  absl::Status status = absl::UnavailableError("down");
  SetRetryInfo(status, absl::Milliseconds(1500));
  auto info = GetRetryInfo(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->retry_delay().seconds(), 1);
  EXPECT_EQ(info->retry_delay().nanos(), 500000000);
  EXPECT_THAT(PayloadUrls(status),
              UnorderedElementsAre("type.googleapis.com/google.rpc.RetryInfo"));

  SetRetryInfo(status, absl::Seconds(60));
  EXPECT_EQ(GetRetryInfo(status)->retry_delay().seconds(), 60);
  EXPECT_EQ(GetRetryInfo(status)->retry_delay().nanos(), 0);
}

TEST(StatusDetails, BadRequestKeepsOrder) {
  absl::Status status = absl::InvalidArgumentError("bad");
  SetBadRequest(status, {{"reference", "is required"},
                         {"amount.value", "must be positive"},
                         {"item_lines[0].amount_total", "is required"}});
  auto bad = GetBadRequest(status);
  ASSERT_TRUE(bad.has_value());
  ASSERT_EQ(bad->field_violations_size(), 3);
  EXPECT_EQ(bad->field_violations(0).field(), "reference");
  EXPECT_EQ(bad->field_violations(0).description(), "is required");
  EXPECT_EQ(bad->field_violations(1).field(), "amount.value");
  EXPECT_EQ(bad->field_violations(2).field(), "item_lines[0].amount_total");
  EXPECT_THAT(
      PayloadUrls(status),
      UnorderedElementsAre("type.googleapis.com/google.rpc.BadRequest"));
}

TEST(StatusDetails, BadRequestIsCappedAndSaysHowManyWereLeftOut) {
  // 10,100 item-line violations once made a ~500 KB trailer, which clients
  // saw as RESOURCE_EXHAUSTED instead of INVALID_ARGUMENT.
  std::vector<FieldViolation> violations;
  for (int i = 0; i < 10100; ++i) {
    violations.push_back({absl::StrCat("item_lines[", i, "].id"),
                          "must be at most 60 characters"});
  }
  violations.push_back({std::string(10000, 'f'), std::string(10000, 'd')});
  const absl::Status status = InvalidArgumentError("bad", violations);
  absl::optional<absl::Cord> payload =
      status.GetPayload("type.googleapis.com/google.rpc.BadRequest");
  ASSERT_TRUE(payload.has_value());
  EXPECT_LT(payload->size(), 4096u);
  auto bad = GetBadRequest(status);
  ASSERT_TRUE(bad.has_value());
  const int cap = static_cast<int>(kMaxFieldViolations);
  ASSERT_EQ(bad->field_violations_size(), cap + 1);
  for (int i = 0; i < cap; ++i) {
    EXPECT_EQ(bad->field_violations(i).field(),
              absl::StrCat("item_lines[", i, "].id"));
  }
  const auto& more = bad->field_violations(cap);
  EXPECT_EQ(more.field(), "");
  EXPECT_THAT(more.description(), HasSubstr("10081 more"));

  // Exactly the cap: nothing is left out, so no extra violation.
  violations.resize(kMaxFieldViolations);
  EXPECT_EQ(GetBadRequest(InvalidArgumentError("bad", violations))
                ->field_violations_size(),
            cap);
}

TEST(StatusDetails, LongViolationTextIsCutAtACharacterBoundary) {
  std::string field(300, 'a');
  field[252] = '\xc3';  // "é" straddling the cut
  field[253] = '\xa9';
  absl::Status status = absl::InvalidArgumentError("bad");
  SetBadRequest(status, {{field, std::string(5000, 'd')}});
  auto bad = GetBadRequest(status);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->field_violations(0).field(), std::string(252, 'a') + "...");
  EXPECT_EQ(bad->field_violations(0).description(),
            std::string(253, 'd') + "...");
}

TEST(StatusDetails, InvalidUtf8InViolationsIsReplacedSoTheDetailDecodes) {
  // Text relayed from an upstream answer: an invalid byte must not make the
  // BadRequest undecodable (proto3 strings are UTF-8 on the wire).
  absl::Status status = absl::InvalidArgumentError("bad");
  SetBadRequest(status, {{"reference", "zu lang \xFF\xE2\x82"}});
  auto bad = GetBadRequest(status);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->field_violations(0).description(),
            "zu lang \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(StatusDetails, ErrorInfoMetadataIsValidAndCutAtACharacterBoundary) {
  std::string trace(300, 't');
  trace[252] = '\xe2';  // "€" straddling the cut
  trace[253] = '\x82';
  trace[254] = '\xac';
  absl::Status status = absl::InvalidArgumentError("bad");
  SetErrorInfo(status, reason::kDojoRejected,
               {{"trace_id", trace}, {"detail", "\xC3\x28"}});
  auto info = GetErrorInfo(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->metadata().at("trace_id"), std::string(252, 't') + "...");
  EXPECT_EQ(info->metadata().at("detail"), "\xEF\xBF\xBD(");
}

TEST(Utf8, Utf16LengthCountsAsDotNetDoes) {
  std::string euros;
  for (int i = 0; i < 29; ++i) euros += "\xE2\x82\xAC";  // 87 bytes
  EXPECT_EQ(utf8::Utf16Length(euros), 29u);
  EXPECT_EQ(utf8::Utf16Length("abc"), 3u);
  EXPECT_EQ(utf8::Utf16Length(""), 0u);
  EXPECT_EQ(utf8::Utf16Length("\xC3\xA9"), 1u);          // é
  EXPECT_EQ(utf8::Utf16Length("\xF0\x9F\x98\x80"), 2u);  // U+1F600
  EXPECT_EQ(utf8::Utf16Length("\xF4\x8F\xBF\xBF"), 2u);  // U+10FFFF
}

TEST(Utf8, RejectsWhatIsNotUtf8) {
  for (absl::string_view bad : {
           absl::string_view("\xFF"),              // never in UTF-8
           absl::string_view("\x80"),              // lone continuation
           absl::string_view("\xE2\x82"),          // truncated
           absl::string_view("\xC0\x80"),          // overlong NUL
           absl::string_view("\xE0\x80\xAF"),      // overlong '/'
           absl::string_view("\xED\xA0\x80"),      // surrogate U+D800
           absl::string_view("\xF4\x90\x80\x80"),  // above U+10FFFF
           absl::string_view("ok\xC3\x28"),        // bad continuation
       }) {
    SCOPED_TRACE(absl::CEscape(bad));
    EXPECT_FALSE(utf8::IsValid(bad));
    EXPECT_FALSE(utf8::Utf16Length(bad).has_value());
    EXPECT_TRUE(utf8::IsValid(utf8::ToValid(bad)));
  }
  EXPECT_TRUE(utf8::IsValid(absl::string_view("a\0b", 3)));
}

TEST(Utf8, TruncateKeepsWholeCharacters) {
  EXPECT_EQ(utf8::Truncate("short", 10), "short");
  // 4 x "€" = 12 bytes; at most 8 bytes: one "€" (3) + "..." (3).
  EXPECT_EQ(
      utf8::Truncate("\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC", 8),
      "\xE2\x82\xAC...");
  EXPECT_EQ(utf8::Truncate("abcdef", 2), "..");
}

TEST(StatusDetails, AbsentDetails) {
  const absl::Status status = absl::InternalError("x");
  EXPECT_FALSE(GetErrorInfo(status).has_value());
  EXPECT_FALSE(GetRetryInfo(status).has_value());
  EXPECT_FALSE(GetBadRequest(status).has_value());
}

TEST(StatusDetails, OkStatusCarriesNothing) {
  absl::Status status = absl::OkStatus();
  SetErrorInfo(status, "IGNORED");
  SetRetryInfo(status, absl::Seconds(1));
  SetBadRequest(status, {{"f", "d"}});
  EXPECT_TRUE(status.ok());
  EXPECT_THAT(PayloadUrls(status), IsEmpty());
  EXPECT_FALSE(GetErrorInfo(status).has_value());
}

TEST(StatusDetails, CorruptPayloadReadsAsAbsent) {
  absl::Status status = absl::InternalError("x");
  status.SetPayload("type.googleapis.com/google.rpc.ErrorInfo",
                    absl::Cord("\xff\xff\xff"));
  EXPECT_FALSE(GetErrorInfo(status).has_value());
}

TEST(StatusDetails, InvalidArgumentError) {
  const absl::Status status =
      InvalidArgumentError("invalid request: reference is required",
                           {{"reference", "is required (1-60 characters)"}});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "invalid request: reference is required");
  auto bad = GetBadRequest(status);
  ASSERT_TRUE(bad.has_value());
  ASSERT_EQ(bad->field_violations_size(), 1);
  EXPECT_EQ(bad->field_violations(0).field(), "reference");
  EXPECT_EQ(bad->field_violations(0).description(),
            "is required (1-60 characters)");
  EXPECT_FALSE(GetErrorInfo(status).has_value());
}

TEST(StatusDetails, ErrorWithReason) {
  const absl::Status status =
      ErrorWithReason(absl::StatusCode::kAlreadyExists, "reference reused",
                      reason::kReferenceReused, {{"reference", "Order-1"}});
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(status.message(), "reference reused");
  auto info = GetErrorInfo(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "REFERENCE_REUSED");
  EXPECT_EQ(info->domain(), "payments.v1");
  EXPECT_THAT(info->metadata(),
              UnorderedElementsAre(Pair("reference", "Order-1")));
}

}  // namespace
}  // namespace payments
