#include "server/access_log.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace payments::server {
namespace {

using ::testing::MatchesRegex;

TEST(ResolveRequestIdTest, KeepsAValidCallerId) {
  for (const std::string id :
       {std::string("req-1"), std::string(64, 'a'), std::string("!~{}")}) {
    const RequestId resolved = ResolveRequestId(id);
    EXPECT_EQ(resolved.id, id);
    EXPECT_EQ(resolved.rejected, "");
  }
}

TEST(ResolveRequestIdTest, GeneratesOneWhenNoneIsSent) {
  const RequestId resolved = ResolveRequestId(std::nullopt);
  EXPECT_THAT(resolved.id, MatchesRegex("[0-9a-f]{16}"));
  EXPECT_EQ(resolved.rejected, "");
  EXPECT_NE(ResolveRequestId(std::nullopt).id, resolved.id);
}

TEST(ResolveRequestIdTest, ReplacesAndNamesARejectedId) {
  const std::map<std::string, std::string> cases = {
      {"", "empty"},
      {std::string(65, 'a'), "too_long"},
      {"has space", "invalid_characters"},
      {"tab\there", "invalid_characters"},
      {"caf\xc3\xa9", "invalid_characters"},
  };
  for (const auto& [sent, reason] : cases) {
    SCOPED_TRACE(sent);
    const RequestId resolved = ResolveRequestId(sent);
    EXPECT_EQ(resolved.rejected, reason);
    EXPECT_THAT(resolved.id, MatchesRegex("[0-9a-f]{16}"));
  }
}

TEST(TraceparentTest, AcceptsW3cTraceContext) {
  EXPECT_TRUE(IsValidTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  // A later version may append fields.
  EXPECT_TRUE(IsValidTraceparent(
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra"));
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
           "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1z",
       }) {
    EXPECT_FALSE(IsValidTraceparent(bad)) << bad;
  }
}

std::map<std::string, std::string> AsMap(const LogFields& fields) {
  std::map<std::string, std::string> out;
  for (const LogField& field : fields) {
    out[field.key] = std::get<std::string>(field.value);
  }
  return out;
}

TEST(FailureFieldsTest, ReasonAndDojoTraceIdFromErrorInfo) {
  google::rpc::ErrorInfo info;
  info.set_reason("DOJO_RATE_LIMITED");
  info.set_domain("payments.v1");
  (*info.mutable_metadata())["trace_id"] = "00-abc-01";
  (*info.mutable_metadata())["http_status"] = "429";
  google::rpc::Status rich;
  rich.set_code(grpc::RESOURCE_EXHAUSTED);
  rich.add_details()->PackFrom(google::rpc::RetryInfo());
  rich.add_details()->PackFrom(info);
  const grpc::Status status(grpc::RESOURCE_EXHAUSTED, "rate limited",
                            rich.SerializeAsString());
  EXPECT_EQ(AsMap(FailureFields(status)), (std::map<std::string, std::string>{
                                              {"message", "rate limited"},
                                              {"reason", "DOJO_RATE_LIMITED"},
                                              {"dojo_trace_id", "00-abc-01"}}));
}

TEST(FailureFieldsTest, MessageOnlyWithoutDetails) {
  EXPECT_EQ(AsMap(FailureFields(grpc::Status(grpc::NOT_FOUND, "gone"))),
            (std::map<std::string, std::string>{{"message", "gone"}}));
  EXPECT_EQ(
      AsMap(FailureFields(grpc::Status(grpc::INTERNAL, "x", "not a proto"))),
      (std::map<std::string, std::string>{{"message", "x"}}));
}

}  // namespace
}  // namespace payments::server
