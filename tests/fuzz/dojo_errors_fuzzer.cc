// Dojo error answers -> absl::Status (lib/dojo/dojo_errors.h). The input is
// "<HTTP status>\n<body>"; without a leading status line it is all body,
// answered with 400.
//
// Invariants: the gRPC code follows DESIGN.md's table; every result carries
// an ErrorInfo with the HTTP status; every detail parses back as its
// google.rpc message (so proto3 strings are valid UTF-8) and all of them
// stay under 512 bytes; the message is valid UTF-8 and short; field paths
// are short and idempotent.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/rpc/error_details.pb.h"
#include "lib/common/status_details.h"
#include "lib/dojo/dojo_errors.h"
#include "lib/dojo/http_transport.h"
#include "tests/fuzz/fuzz_check.h"

namespace payments::dojo {
namespace {

absl::StatusCode ExpectedCode(int http) {
  if (http == 400 || http == 422) return absl::StatusCode::kInvalidArgument;
  if (http == 401 || http == 403 || http == 405 || http == 409) {
    return absl::StatusCode::kFailedPrecondition;
  }
  if (http == 404) return absl::StatusCode::kNotFound;
  if (http == 429) return absl::StatusCode::kResourceExhausted;
  if (http >= 500) return absl::StatusCode::kUnavailable;
  return absl::StatusCode::kInternal;
}

// Every payload is a known google.rpc detail that parses back; returns
// their total size as the unit tests count it (type URL + bytes).
size_t CheckPayloads(const absl::Status& status) {
  size_t total = 0;
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    total += url.size() + payload.size();
    const std::string bytes(payload);
    bool parsed = false;
    if (absl::EndsWith(url, "/google.rpc.ErrorInfo")) {
      parsed = google::rpc::ErrorInfo().ParseFromString(bytes);
    } else if (absl::EndsWith(url, "/google.rpc.BadRequest")) {
      parsed = google::rpc::BadRequest().ParseFromString(bytes);
    } else if (absl::EndsWith(url, "/google.rpc.RetryInfo")) {
      parsed = google::rpc::RetryInfo().ParseFromString(bytes);
    } else {
      FUZZ_CHECK(false, absl::StrCat("unexpected detail ", url));
    }
    FUZZ_CHECK(parsed, absl::StrCat("detail does not parse back: ", url));
  });
  return total;
}

void CheckStatus(const HttpResponse& response) {
  const absl::Status status = StatusFromHttpError(response);
  FUZZ_CHECK(status.code() == ExpectedCode(response.status_code),
             absl::StrCat("HTTP ", response.status_code, " gave ",
                          absl::StatusCodeToString(status.code())));
  FUZZ_CHECK(fuzz::IsValidUtf8(status.message()), "message is not UTF-8");
  FUZZ_CHECK(status.message().size() <= 256, "message too long");
  FUZZ_CHECK(CheckPayloads(status) < 512, "details of 512 bytes or more");

  const std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(status);
  FUZZ_CHECK(info.has_value(), "no ErrorInfo");
  FUZZ_CHECK(!info->reason().empty(), "ErrorInfo without reason");
  const auto http = info->metadata().find("http_status");
  FUZZ_CHECK(http != info->metadata().end() &&
                 http->second == absl::StrCat(response.status_code),
             "ErrorInfo without the HTTP status");
  if (const auto trace = info->metadata().find("trace_id");
      trace != info->metadata().end()) {
    FUZZ_CHECK(!trace->second.empty() && trace->second.size() <= 64,
               "trace id empty or too long");
  }
  if (const std::optional<google::rpc::BadRequest> bad =
          GetBadRequest(status)) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument,
               "BadRequest on a code other than INVALID_ARGUMENT");
    FUZZ_CHECK(
        bad->field_violations_size() >= 1 && bad->field_violations_size() <= 8,
        "BadRequest with 0 or more than 8 violations");
    for (const auto& violation : bad->field_violations()) {
      FUZZ_CHECK(violation.field().size() <= 64, "violation field too long");
      FUZZ_CHECK(violation.description().size() <= 100,
                 "violation description too long");
    }
  }
}

void CheckFieldPath(absl::string_view field) {
  const std::string path = DojoFieldToProtoPath(field);
  FUZZ_CHECK(path.size() <= 160, "field path too long");
  if (fuzz::IsValidUtf8(field)) {
    FUZZ_CHECK(fuzz::IsValidUtf8(path), "field path is not UTF-8");
  }
  // Without '$' prefixes or index suffixes, a converted path is already in
  // proto form: converting it again changes nothing.
  if (!absl::StrContains(field, '$') && !absl::StrContains(field, '[')) {
    for (char c : path) {
      FUZZ_CHECK(!absl::ascii_isupper(c), "upper case left in a field path");
    }
    FUZZ_CHECK(DojoFieldToProtoPath(path) == path,
               "field path conversion is not idempotent");
  }
}

}  // namespace
}  // namespace payments::dojo

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using payments::dojo::HttpResponse;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  HttpResponse response;
  response.status_code = 400;
  absl::string_view body = input;
  if (const size_t newline = input.find('\n');
      newline != absl::string_view::npos && newline > 0 && newline <= 3) {
    int code = 0;
    const absl::string_view line = input.substr(0, newline);
    if (std::all_of(line.begin(), line.end(),
                    [](char c) { return absl::ascii_isdigit(c); }) &&
        absl::SimpleAtoi(line, &code) && code >= 100) {
      response.status_code = code;
      body = input.substr(newline + 1);
    }
  }
  response.body = std::string(body);
  payments::dojo::CheckStatus(response);
  if (size <= 1024) payments::dojo::CheckFieldPath(input);
  return 0;
}
