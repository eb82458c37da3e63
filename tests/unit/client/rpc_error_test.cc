#include "client/rpc_error.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/duration.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace payments::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <typename Message>
void AddDetail(google::rpc::Status& rich, const Message& detail) {
  auto* any = rich.add_details();
  any->set_type_url(absl::StrCat("type.googleapis.com/",
                                 detail.GetDescriptor()->full_name()));
  any->set_value(detail.SerializeAsString());
}

// A status as payments-server sends it: BadRequest, ErrorInfo, RetryInfo.
grpc::Status RichStatus() {
  google::rpc::Status rich;
  rich.set_code(3);
  rich.set_message("Dojo rejected the request");
  google::rpc::BadRequest bad_request;
  auto* v = bad_request.add_field_violations();
  v->set_field("amount.currency_code");
  v->set_description("must be GBP or EUR");
  v = bad_request.add_field_violations();
  v->set_field("reference");
  v->set_description("must not be empty");
  AddDetail(rich, bad_request);
  google::rpc::ErrorInfo info;
  info.set_reason("DOJO_REJECTED");
  info.set_domain("payments.v1");
  (*info.mutable_metadata())["trace_id"] = "t-42";
  AddDetail(rich, info);
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(2);
  retry.mutable_retry_delay()->set_nanos(500000000);
  AddDetail(rich, retry);
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, rich.message(),
                      rich.SerializeAsString());
}

TEST(RpcErrorTest, ParsesEveryDetail) {
  RpcError error = ParseRpcError(RichStatus());
  EXPECT_EQ(error.code, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(error.message, "Dojo rejected the request");
  ASSERT_EQ(error.field_violations.size(), 2u);
  EXPECT_EQ(error.field_violations[0].field, "amount.currency_code");
  EXPECT_EQ(error.reason, "DOJO_REJECTED");
  EXPECT_EQ(error.domain, "payments.v1");
  EXPECT_EQ(error.metadata.at("trace_id"), "t-42");
  EXPECT_EQ(error.retry_delay, absl::Milliseconds(2500));
  EXPECT_TRUE(error.other_details.empty());
}

TEST(RpcErrorTest, FormatsOneReadableBlock) {
  EXPECT_EQ(FormatRpcError(RichStatus()),
            "INVALID_ARGUMENT (3): Dojo rejected the request\n"
            "  field amount.currency_code: must be GBP or EUR\n"
            "  field reference: must not be empty\n"
            "  reason: DOJO_REJECTED (domain payments.v1)\n"
            "    trace_id: t-42\n"
            "  retry after: 2.5s\n");
}

TEST(RpcErrorTest, FormatsAStatusWithoutDetails) {
  EXPECT_EQ(FormatRpcError(
                grpc::Status(grpc::StatusCode::NOT_FOUND, "no such intent")),
            "NOT_FOUND (5): no such intent\n");
  EXPECT_EQ(FormatRpcError(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "")),
            "UNAUTHENTICATED (16): \n");
}

TEST(RpcErrorTest, KeepsUnknownAndUndecodableDetails) {
  google::rpc::Status rich;
  auto* any = rich.add_details();
  any->set_type_url("type.googleapis.com/google.rpc.DebugInfo");
  any->set_value("x");
  RpcError error = ParseRpcError(grpc::Status(
      grpc::StatusCode::INTERNAL, "boom", rich.SerializeAsString()));
  EXPECT_THAT(error.other_details,
              ElementsAre("type.googleapis.com/google.rpc.DebugInfo"));
  EXPECT_THAT(
      FormatRpcError(error),
      HasSubstr("  detail: type.googleapis.com/google.rpc.DebugInfo\n"));

  error = ParseRpcError(
      grpc::Status(grpc::StatusCode::INTERNAL, "boom", "\xff\xff not proto"));
  EXPECT_EQ(error.other_details.size(), 1u);
}

TEST(RpcErrorTest, AbslStatusCarriesASummaryAndEveryDetail) {
  absl::Status status = ToAbslStatus(RichStatus());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "Dojo rejected the request [amount.currency_code: must be GBP or "
            "EUR; reference: must not be empty; reason DOJO_REJECTED "
            "(trace_id=t-42); retry after 2.5s]");
  EXPECT_TRUE(status.GetPayload("type.googleapis.com/google.rpc.ErrorInfo")
                  .has_value());

  // Round trip: the server's own message and the details come back.
  RpcError error = ParseRpcError(status);
  EXPECT_EQ(error.message, "Dojo rejected the request");
  EXPECT_EQ(error.reason, "DOJO_REJECTED");
  EXPECT_EQ(error.field_violations.size(), 2u);
  EXPECT_EQ(FormatRpcError(error), FormatRpcError(RichStatus()));
}

TEST(RpcErrorTest, AbslStatusWithoutDetailsKeepsTheMessage) {
  absl::Status status = ToAbslStatus(
      grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"));
  EXPECT_EQ(status, absl::DeadlineExceededError("Deadline Exceeded"));
  EXPECT_TRUE(ToAbslStatus(grpc::Status::OK).ok());
}

TEST(RpcErrorTest, CodeNames) {
  EXPECT_EQ(CodeName(absl::StatusCode::kUnauthenticated), "UNAUTHENTICATED");
  EXPECT_EQ(CodeName(absl::StatusCode::kNotFound), "NOT_FOUND");
}

}  // namespace
}  // namespace payments::client
