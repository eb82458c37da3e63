#include "server/grpc_status.h"

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/status.h"
#include "gtest/gtest.h"
#include "lib/common/status_details.h"

namespace payments::server {
namespace {

using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// The google.rpc.Status in the details trailer, details keyed by type URL.
std::map<std::string, google::protobuf::Any> DetailsByType(
    const grpc::Status& status, google::rpc::Status* rich) {
  std::map<std::string, google::protobuf::Any> out;
  EXPECT_TRUE(rich->ParseFromString(status.error_details()));
  for (const google::protobuf::Any& any : rich->details()) {
    out[any.type_url()] = any;
  }
  return out;
}

TEST(ToGrpcStatus, OkIsOk) {
  const grpc::Status status = ToGrpcStatus(absl::OkStatus());
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OK);
  EXPECT_EQ(status.error_message(), "");
  EXPECT_EQ(status.error_details(), "");
}

TEST(ToGrpcStatus, KeepsEveryCodeAndMessage) {
  for (int code = 1; code <= 16; ++code) {
    SCOPED_TRACE(code);
    const absl::Status in(static_cast<absl::StatusCode>(code), "what happened");
    const grpc::Status out = ToGrpcStatus(in);
    EXPECT_EQ(static_cast<int>(out.error_code()), code);
    EXPECT_EQ(out.error_message(), "what happened");
    EXPECT_EQ(out.error_details(), "");  // No payloads, no details.
  }
}

TEST(ToGrpcStatus, PacksGoogleRpcDetails) {
  absl::Status in = absl::InvalidArgumentError("Dojo rejected the request");
  SetBadRequest(in, {{"reference", "is required"},
                     {"amount.currency_code", "must be GBP or EUR"}});
  SetErrorInfo(in, reason::kDojoRejected, {{"trace_id", "00-abc-01"}});
  SetRetryInfo(in, absl::Seconds(7));

  const grpc::Status out = ToGrpcStatus(in);
  EXPECT_EQ(out.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(out.error_message(), "Dojo rejected the request");
  google::rpc::Status rich;
  auto details = DetailsByType(out, &rich);
  EXPECT_EQ(rich.code(), 3);
  EXPECT_EQ(rich.message(), "Dojo rejected the request");
  ASSERT_EQ(rich.details_size(), 3);

  google::rpc::BadRequest bad;
  ASSERT_TRUE(details.count("type.googleapis.com/google.rpc.BadRequest"));
  ASSERT_TRUE(
      details["type.googleapis.com/google.rpc.BadRequest"].UnpackTo(&bad));
  ASSERT_EQ(bad.field_violations_size(), 2);
  EXPECT_EQ(bad.field_violations(0).field(), "reference");
  EXPECT_EQ(bad.field_violations(1).field(), "amount.currency_code");
  EXPECT_EQ(bad.field_violations(1).description(), "must be GBP or EUR");

  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.count("type.googleapis.com/google.rpc.ErrorInfo"));
  ASSERT_TRUE(
      details["type.googleapis.com/google.rpc.ErrorInfo"].UnpackTo(&info));
  EXPECT_EQ(info.reason(), "DOJO_REJECTED");
  EXPECT_EQ(info.domain(), "payments.v1");
  EXPECT_THAT(info.metadata(),
              UnorderedElementsAre(Pair("trace_id", "00-abc-01")));

  google::rpc::RetryInfo retry;
  ASSERT_TRUE(details.count("type.googleapis.com/google.rpc.RetryInfo"));
  ASSERT_TRUE(
      details["type.googleapis.com/google.rpc.RetryInfo"].UnpackTo(&retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 7);
}

TEST(ToGrpcStatus, DropsInternalPayloads) {
  absl::Status in = absl::UnavailableError("Dojo is unavailable");
  in.SetPayload("payments.dojo/transport-stage", absl::Cord("not-sent"));
  in.SetPayload("type.googleapis.com/payments.internal.Thing",
                absl::Cord("secret-ish"));
  SetRetryInfo(in, absl::Seconds(1));

  const grpc::Status out = ToGrpcStatus(in);
  EXPECT_EQ(out.error_code(), grpc::StatusCode::UNAVAILABLE);
  google::rpc::Status rich;
  auto details = DetailsByType(out, &rich);
  EXPECT_THAT(details,
              ::testing::ElementsAre(Pair(
                  "type.googleapis.com/google.rpc.RetryInfo", ::testing::_)));
  EXPECT_EQ(out.error_details().find("not-sent"), std::string::npos);
  EXPECT_EQ(out.error_details().find("secret-ish"), std::string::npos);
}

TEST(ToGrpcStatus, OnlyInternalPayloadsMeansNoDetails) {
  absl::Status in = absl::UnavailableError("x");
  in.SetPayload("payments.dojo/transport-stage", absl::Cord("sent"));
  const grpc::Status out = ToGrpcStatus(in);
  EXPECT_EQ(out.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(out.error_message(), "x");
  EXPECT_THAT(out.error_details(), IsEmpty());
}

}  // namespace
}  // namespace payments::server
