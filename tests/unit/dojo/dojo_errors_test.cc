#include "lib/dojo/dojo_errors.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/common/status_details.h"
#include "lib/dojo/http_transport.h"

namespace payments::dojo {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

HttpResponse Response(int code, std::string body, HttpHeaders headers = {}) {
  HttpResponse response;
  response.status_code = code;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

std::vector<std::pair<std::string, std::string>> Violations(
    const absl::Status& status) {
  std::vector<std::pair<std::string, std::string>> out;
  if (auto bad = GetBadRequest(status)) {
    for (const auto& v : bad->field_violations()) {
      out.emplace_back(v.field(), v.description());
    }
  }
  return out;
}

int64_t RetryMillis(const absl::Status& status) {
  auto info = GetRetryInfo(status);
  if (!info.has_value()) return -1;
  return info->retry_delay().seconds() * 1000 +
         info->retry_delay().nanos() / 1000000;
}

size_t PayloadBytes(const absl::Status& status) {
  size_t total = 0;
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    total += url.size() + payload.size();
  });
  return total;
}

constexpr char kAspNetProblem[] = R"({
  "errors": {
    "Reference": ["The Reference field is required."],
    "Amount.CurrencyCode": ["The CurrencyCode field is required."]
  },
  "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
  "title": "One or more validation errors occurred.",
  "status": 400,
  "traceId": "00-abc-01"
})";

TEST(StatusFromHttpError, AspNetValidationProblem) {
  const absl::Status status =
      StatusFromHttpError(Response(400, kAspNetProblem));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "Dojo rejected the request: One or more validation errors "
            "occurred.");
  EXPECT_THAT(
      Violations(status),
      UnorderedElementsAre(
          Pair("reference", "The Reference field is required."),
          Pair("amount.currency_code", "The CurrencyCode field is required.")));
  auto info = GetErrorInfo(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "DOJO_REJECTED");
  EXPECT_EQ(info->domain(), "payments.v1");
  EXPECT_THAT(info->metadata(),
              UnorderedElementsAre(Pair("trace_id", "00-abc-01"),
                                   Pair("http_status", "400")));
  EXPECT_FALSE(GetRetryInfo(status).has_value());
}

TEST(StatusFromHttpError, CapitalisedDetail) {
  const absl::Status status =
      StatusFromHttpError(Response(400, R"({"Detail":"x"})"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "Dojo rejected the request: x");
  EXPECT_FALSE(GetBadRequest(status).has_value());
  auto info = GetErrorInfo(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "DOJO_REJECTED");
  EXPECT_THAT(info->metadata(),
              UnorderedElementsAre(Pair("http_status", "400")));
}

TEST(StatusFromHttpError, DetailWinsOverTitle) {
  const absl::Status status =
      StatusFromHttpError(Response(400, R"({"title":"y","detail":"x"})"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "Dojo rejected the request: x");
}

TEST(StatusFromHttpError, ErrorsAsPlainStringsAndJsonPaths) {
  const absl::Status status = StatusFromHttpError(Response(
      400,
      R"({"errors":{"$.itemLines[1].amountTotal":"bad","Config.RedirectUrl":["not a URL","second"]}})"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "Dojo rejected the request");
  EXPECT_THAT(Violations(status),
              UnorderedElementsAre(Pair("item_lines[1].amount_total", "bad"),
                                   Pair("config.redirect_url", "not a URL")));
}

TEST(StatusFromHttpError, Unauthorized) {
  const absl::Status status = StatusFromHttpError(Response(401, ""));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  auto info = GetErrorInfo(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "DOJO_UNAUTHORIZED");
  EXPECT_EQ(info->domain(), "payments.v1");
  EXPECT_THAT(info->metadata(),
              UnorderedElementsAre(Pair("http_status", "401")));
  EXPECT_FALSE(GetRetryInfo(status).has_value());
  EXPECT_FALSE(GetBadRequest(status).has_value());
}

TEST(StatusFromHttpError, Forbidden) {
  const absl::Status status = StatusFromHttpError(Response(
      403, R"({"title":"Forbidden","status":403,"traceId":"00-def-01"})"));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  auto info = GetErrorInfo(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "DOJO_FORBIDDEN");
  EXPECT_THAT(info->metadata(),
              UnorderedElementsAre(Pair("http_status", "403"),
                                   Pair("trace_id", "00-def-01")));
}

TEST(StatusFromHttpError, NotFound) {
  const absl::Status status = StatusFromHttpError(
      Response(404, R"({"title":"Not Found","status":404})"));
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetErrorInfo(status)->reason(), "DOJO_NOT_FOUND");
  EXPECT_FALSE(GetRetryInfo(status).has_value());
}

TEST(StatusFromHttpError, NotFoundEmptyBody) {
  const absl::Status status = StatusFromHttpError(Response(404, ""));
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "not found at Dojo");
}

TEST(StatusFromHttpError, ConflictIsAFailedPrecondition) {
  const absl::Status status = StatusFromHttpError(
      Response(409, R"({"detail":"Payment intent is not in Created state"})"));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "the intent's state at Dojo does not allow this: Payment intent "
            "is not in Created state");
  EXPECT_EQ(GetErrorInfo(status)->reason(), "DOJO_CONFLICT");
}

TEST(StatusFromHttpError, MethodNotAllowedIsAFailedPrecondition) {
  const absl::Status status = StatusFromHttpError(Response(405, ""));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetErrorInfo(status)->reason(), "DOJO_METHOD_NOT_ALLOWED");
}

TEST(StatusFromHttpError, RateLimitedHonoursRetryAfter) {
  const absl::Status status =
      StatusFromHttpError(Response(429, "", {{"retry-after", "7"}}));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(RetryMillis(status), 7000);
  EXPECT_EQ(GetErrorInfo(status)->reason(), "DOJO_RATE_LIMITED");
}

TEST(StatusFromHttpError, RetryAfterIsCapped) {
  for (const char* value : {"999999", "86400", "61"}) {
    SCOPED_TRACE(value);
    const absl::Status status =
        StatusFromHttpError(Response(429, "", {{"retry-after", value}}));
    EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(RetryMillis(status), 60000);
  }
}

TEST(StatusFromHttpError, RetryAfterGarbageFallsBackToDefault) {
  for (const char* value :
       {"", "soon", "-3", "Wed, 21 Oct 2015 07:28:00 GMT", "1.5"}) {
    SCOPED_TRACE(value);
    const absl::Status status =
        StatusFromHttpError(Response(429, "", {{"retry-after", value}}));
    EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(RetryMillis(status), 1000);
  }
  EXPECT_EQ(RetryMillis(StatusFromHttpError(Response(429, ""))), 1000);
  EXPECT_EQ(RetryMillis(StatusFromHttpError(
                Response(429, "", {{"retry-after", " 3 "}}))),
            3000);
}

TEST(StatusFromHttpError, BadGatewayWithHtml) {
  const absl::Status status = StatusFromHttpError(Response(
      502,
      "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 "
      "Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
      {{"content-type", "text/html"}}));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "Dojo is unavailable (HTTP 502)");
  EXPECT_THAT(std::string(status.message()),
              AllOf(Not(HasSubstr("<")), Not(HasSubstr("nginx"))));
  EXPECT_EQ(RetryMillis(status), 1000);
  auto info = GetErrorInfo(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "DOJO_UNAVAILABLE");
  EXPECT_THAT(info->metadata(),
              UnorderedElementsAre(Pair("http_status", "502")));
}

TEST(StatusFromHttpError, ServiceUnavailableEmpty) {
  const absl::Status status =
      StatusFromHttpError(Response(503, "", {{"retry-after", "2"}}));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(RetryMillis(status), 2000);
  EXPECT_EQ(GetErrorInfo(status)->reason(), "DOJO_UNAVAILABLE");
}

TEST(StatusFromHttpError, OtherServerErrorsAreUnavailable) {
  for (int code : {500, 504, 599}) {
    SCOPED_TRACE(code);
    const absl::Status status = StatusFromHttpError(
        Response(code, R"({"title":"Internal Server Error"})"));
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
    EXPECT_TRUE(GetRetryInfo(status).has_value());
  }
}

TEST(StatusFromHttpError, UnexpectedClientErrorIsInternal) {
  const absl::Status status = StatusFromHttpError(Response(418, ""));
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(GetErrorInfo(status)->reason(), "DOJO_BAD_RESPONSE");
}

TEST(StatusFromHttpError, MalformedProblemBodiesAreLenient) {
  for (const char* body :
       {"", "null", "[]", "\"text\"", "{", R"({"errors":"broken"})",
        R"({"errors":{"Reference":42}})", R"({"title":7,"detail":null})"}) {
    SCOPED_TRACE(body);
    const absl::Status status = StatusFromHttpError(Response(400, body));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(GetErrorInfo(status)->reason(), "DOJO_REJECTED");
  }
}

// Details travel in HTTP/2 trailers together with the message: a hostile or
// verbose problem must not blow them up.
TEST(StatusFromHttpError, DetailsStaySmall) {
  std::string errors;
  for (int i = 0; i < 50; ++i) {
    if (i > 0) errors += ",";
    absl::StrAppend(&errors, "\"Field", i, ".", std::string(100, 'N'), "\":[\"",
                    std::string(1000, 'm'), "\"]");
  }
  const std::string body = absl::StrCat(
      R"({"errors":{)", errors, R"(},"title":")", std::string(5000, 't'),
      R"(","traceId":")", std::string(5000, 'x'), R"("})");
  const absl::Status status = StatusFromHttpError(Response(400, body));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(GetBadRequest(status).has_value());
  EXPECT_GE(GetBadRequest(status)->field_violations_size(), 1);
  EXPECT_LT(PayloadBytes(status), 512u);
  EXPECT_LT(status.message().size(), 256u);
}

TEST(StatusFromHttpError, LongTraceIdAndMessageAreTruncated) {
  const std::string body =
      absl::StrCat(R"({"detail":")", std::string(2000, 'd'), R"(","traceId":")",
                   std::string(2000, 'x'), R"("})");
  const absl::Status status = StatusFromHttpError(Response(409, body));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_LT(status.message().size(), 256u);
  EXPECT_LT(PayloadBytes(status), 512u);
}

// Found by tests/fuzz/dojo_errors_fuzzer: cutting inside a multi-byte
// character left invalid UTF-8 in ErrorInfo, which then did not parse back.
TEST(StatusFromHttpError, TruncationKeepsWholeUtf8Characters) {
  std::string e_acute_x100;
  for (int i = 0; i < 100; ++i) e_acute_x100 += "\xC3\xA9";
  const std::string body = absl::StrCat(
      R"({"detail":")", e_acute_x100, R"(","traceId":")", e_acute_x100,
      R"(","errors":{")", e_acute_x100, R"(":[")", e_acute_x100, R"("]}})");
  const absl::Status status = StatusFromHttpError(Response(400, body));
  const auto info = GetErrorInfo(status);
  ASSERT_TRUE(info.has_value()) << "ErrorInfo does not parse back";
  // 64 bytes at most: 30 whole characters (60 bytes) and "...".
  EXPECT_EQ(info->metadata().at("trace_id"),
            absl::StrCat(e_acute_x100.substr(0, 60), "..."));
  const auto bad = GetBadRequest(status);
  ASSERT_TRUE(bad.has_value()) << "BadRequest does not parse back";
  ASSERT_EQ(bad->field_violations_size(), 1);
  EXPECT_EQ(bad->field_violations(0).field(),
            absl::StrCat(e_acute_x100.substr(0, 60), "..."));
  EXPECT_EQ(bad->field_violations(0).description(),
            absl::StrCat(e_acute_x100.substr(0, 96), "..."));
  EXPECT_EQ(DojoFieldToProtoPath(e_acute_x100),
            absl::StrCat(e_acute_x100.substr(0, 156), "..."));
}

TEST(DojoFieldToProtoPath, Conversions) {
  EXPECT_EQ(DojoFieldToProtoPath("ItemLines[0].AmountTotal"),
            "item_lines[0].amount_total");
  EXPECT_EQ(DojoFieldToProtoPath("$.amount.value"), "amount.value");
  EXPECT_EQ(DojoFieldToProtoPath("Config.RedirectUrl"), "config.redirect_url");
  EXPECT_EQ(DojoFieldToProtoPath("CustomerEmail"), "customer_email");
  EXPECT_EQ(DojoFieldToProtoPath("Reference"), "reference");
  EXPECT_EQ(DojoFieldToProtoPath("Amount.CurrencyCode"),
            "amount.currency_code");
  EXPECT_EQ(
      DojoFieldToProtoPath("$.itemLines[12].modifiers[3].amountPerModifier"),
      "item_lines[12].modifiers[3].amount_per_modifier");
  EXPECT_EQ(DojoFieldToProtoPath("ShippingDetails.Address.CountryCode"),
            "shipping_details.address.country_code");
  EXPECT_EQ(DojoFieldToProtoPath("RequestSecurity.IPAddress"),
            "request_security.ip_address");
  EXPECT_EQ(DojoFieldToProtoPath("Address1"), "address1");
  EXPECT_EQ(DojoFieldToProtoPath("$"), "");
}

}  // namespace
}  // namespace payments::dojo
