#include "server/grpc_status.h"

#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/status.h"
#include "gtest/gtest.h"
#include "lib/common/status_details.h"
#include "lib/common/utf8.h"
#include "payments/v1/payments_service.grpc.pb.h"

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

TEST(ToGrpcStatus, MessageWithASplitCharacterStillDecodes) {
  // A message that quotes upstream text cut in the middle of "€" (and an
  // outright invalid byte): google.rpc.Status must still parse, since a
  // proto3 string that is not UTF-8 makes the whole message undecodable.
  absl::Status in = absl::InvalidArgumentError(
      "Dojo rejected the request: Betrag \xE2\x82 zu hoch \xFF");
  SetErrorInfo(in, reason::kDojoRejected, {{"trace_id", "00-abc-01"}});
  const grpc::Status out = ToGrpcStatus(in);
  EXPECT_TRUE(utf8::IsValid(out.error_message())) << out.error_message();
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(out.error_details()));
  EXPECT_EQ(rich.message(),
            "Dojo rejected the request: Betrag \xEF\xBF\xBD\xEF\xBF\xBD zu "
            "hoch \xEF\xBF\xBD");
  ASSERT_EQ(rich.details_size(), 1);
}

TEST(ToGrpcStatus, LongMessageIsCutAtACharacterBoundary) {
  std::string text;
  for (int i = 0; i < 600; ++i) text += "\xE2\x82\xAC";  // "€" x 600.
  const grpc::Status out = ToGrpcStatus(absl::InternalError(text));
  EXPECT_LE(out.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_TRUE(utf8::IsValid(out.error_message()));
  EXPECT_TRUE(absl::EndsWith(out.error_message(), "\xE2\x82\xAC..."));
}

// Records the status later interceptors (metrics, access log) see.
class SeenStatusInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  class Interceptor final : public grpc::experimental::Interceptor {
   public:
    explicit Interceptor(std::promise<grpc::StatusCode>* seen) : seen_(seen) {}
    void Intercept(
        grpc::experimental::InterceptorBatchMethods* methods) override {
      if (methods->QueryInterceptionHookPoint(
              grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
        seen_->set_value(methods->GetSendStatus().error_code());
      }
      methods->Proceed();
    }

   private:
    std::promise<grpc::StatusCode>* seen_;
  };
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo*) override {
    return new Interceptor(&seen);
  }
  std::promise<grpc::StatusCode> seen;
};

// An in-process server with the generated base service, whose handlers all
// answer UNIMPLEMENTED: enough to see what gRPC does before any handler.
class MalformedRequestTest : public ::testing::Test {
 protected:
  void Start(bool with_interceptor, bool with_observer = false) {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&service_);
    if (with_interceptor) {
      std::vector<std::unique_ptr<
          grpc::experimental::ServerInterceptorFactoryInterface>>
          creators;
      creators.push_back(
          std::make_unique<MalformedRequestInterceptorFactory>());
      if (with_observer) {
        auto observer = std::make_unique<SeenStatusInterceptorFactory>();
        observer_ = observer.get();
        creators.push_back(std::move(observer));
      }
      builder.experimental().SetInterceptorCreators(std::move(creators));
    }
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials());
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // Sends `bytes` as the request message of `method`.
  grpc::Status Call(const std::string& method, const std::string& bytes) {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status status) { done.set_value(status); });
    return done.get_future().get();
  }

  v1::PaymentsService::CallbackService service_;
  SeenStatusInterceptorFactory* observer_ = nullptr;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

constexpr absl::string_view kCreateIntent =
    "/payments.v1.PaymentsService/CreateIntent";
// Field 1 (reference), length 3: "\xC3\x28" is not UTF-8.
const std::string kInvalidUtf8Reference("\x0A\x03\x41\xC3\x28", 5);
// A length-delimited field whose length runs past the end.
const std::string kGarbage("\x0A\x7F\x01\x02", 4);

TEST_F(MalformedRequestTest, WithoutTheInterceptorGrpcSaysUnimplemented) {
  // What gRPC 1.51 does by itself; if this starts failing, gRPC has changed
  // and MalformedRequestInterceptorFactory may no longer be needed.
  Start(/*with_interceptor=*/false);
  const grpc::Status status = Call(std::string(kCreateIntent), kGarbage);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(status.error_message(), "");
}

TEST_F(MalformedRequestTest, GarbageBytesAreInvalidArgument) {
  Start(/*with_interceptor=*/true);
  const grpc::Status status = Call(std::string(kCreateIntent), kGarbage);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              ::testing::HasSubstr("not a valid CreateIntent request"));
  google::rpc::Status rich;
  auto details = DetailsByType(status, &rich);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(
      details["type.googleapis.com/google.rpc.ErrorInfo"].UnpackTo(&info));
  EXPECT_EQ(info.reason(), "MALFORMED_REQUEST");
  EXPECT_EQ(info.metadata().at("method"), kCreateIntent);
}

TEST_F(MalformedRequestTest, InterceptorsRegisteredAfterItSeeTheNewStatus) {
  // Why main.cc registers it first: the metrics and access-log interceptors
  // after it must count and log INVALID_ARGUMENT, not UNIMPLEMENTED.
  Start(/*with_interceptor=*/true, /*with_observer=*/true);
  EXPECT_EQ(Call(std::string(kCreateIntent), kGarbage).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(observer_->seen.get_future().get(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(MalformedRequestTest, InvalidUtf8InAStringFieldIsInvalidArgument) {
  Start(/*with_interceptor=*/true);
  const grpc::Status status =
      Call(std::string(kCreateIntent), kInvalidUtf8Reference);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(MalformedRequestTest, AWellFormedRequestKeepsItsHandlersStatus) {
  Start(/*with_interceptor=*/true);
  v1::CreateIntentRequest request;
  request.set_reference("Order-1");
  // The base service's handler really is unimplemented: left as it is.
  const grpc::Status status =
      Call(std::string(kCreateIntent), request.SerializeAsString());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  // An empty message is a valid (all-default) request too.
  EXPECT_EQ(Call(std::string(kCreateIntent), "").error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace payments::server
