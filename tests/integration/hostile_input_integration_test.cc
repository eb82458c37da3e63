// Hostile input and hostile upstream answers, against the real server and
// the emulator: text limits counted as Dojo counts them, statuses that stay
// decodable when they quote broken upstream text, malformed request bytes,
// upstream answers that are not what was asked for, unknown fields smuggled
// into a link request, and webhook ids that defeat deduplication.

#include <chrono>
#include <cstdint>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "lib/webhook/signature_verifier.h"
#include "payments/v1/payments_service.grpc.pb.h"
#include "tests/integration/rpc_test_util.h"
#include "tests/integration/stack_test.h"
#include "tests/integration/test_stack.h"
#include "tests/support/wait_for.h"

namespace payments::testing {
namespace {

using nlohmann::json;

constexpr absl::string_view kEuro = "\xE2\x82\xAC";  // 3 bytes, 1 character.

std::string Repeat(absl::string_view text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) absl::StrAppend(&out, text);
  return out;
}

class HostileInputIntegrationTest : public StackTest {
 protected:
  static void SetUpTestSuite() { StartStack({}); }

  void SetUp() override {
    StackTest::SetUp();
    stub_ = Stub();
  }

  v1::PaymentIntent CreateOrDie(const std::string& reference) {
    v1::CreateIntentResponse response;
    const grpc::Status status = stub_->CreateIntent(
        ContextWithDeadline().get(), MinimalCreate(reference), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.intent();
  }

  std::unique_ptr<v1::PaymentsService::Stub> stub_;
};

std::string ReadLog(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Defect 1: 29 "€" are 87 bytes but 29 characters for Dojo (.NET).
TEST_F(HostileInputIntegrationTest, LimitsCountCharactersNotBytes) {
  const std::string reference = Repeat(kEuro, 29);
  const v1::PaymentIntent intent = CreateOrDie(reference);
  EXPECT_EQ(intent.reference(), reference);
  ASSERT_EQ(UpstreamSequence(),
            std::vector<std::string>{"POST /payment-intents 200"});

  stack_->ResetEmulator();
  v1::CreateIntentResponse response;
  const grpc::Status status = stub_->CreateIntent(
      ContextWithDeadline().get(), MinimalCreate(Repeat(kEuro, 61)), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto bad = FindDetail<google::rpc::BadRequest>(status);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->field_violations(0).field(), "reference");
  EXPECT_EQ(bad->field_violations(0).description(),
            "must be at most 60 characters");
  EXPECT_TRUE(UpstreamSequence().empty());  // Nothing sent.
}

// Defect 2: Dojo's problem text is cut to fit the trailer; cut inside a
// character it made google.rpc.Status undecodable (trace id lost).
TEST_F(HostileInputIntegrationTest, CutUpstreamTextKeepsTheStatusDecodable) {
  const json problem = {{"title", "One or more validation errors occurred."},
                        {"detail", Repeat(kEuro, 200)},
                        {"status", 400},
                        {"traceId", "00-" + Repeat("\xC3\xA9", 40) + "-01"},
                        {"errors", {{"Reference", {Repeat(kEuro, 120)}}}}};
  Script("POST", "/payment-intents",
         json::array({{{"status", 400},
                       {"body", problem.dump()},
                       {"contentType", "application/problem+json"}}}));
  v1::CreateIntentResponse response;
  const grpc::Status status = stub_->CreateIntent(
      ContextWithDeadline().get(), MinimalCreate("Order-cut-1"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(status.error_details()))
      << "google.rpc.Status must decode";
  EXPECT_TRUE(absl::StartsWith(rich.message(), "Dojo rejected the request: "));
  auto bad = FindDetail<google::rpc::BadRequest>(status);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->field_violations(0).field(), "reference");
  auto info = FindDetail<google::rpc::ErrorInfo>(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "DOJO_REJECTED");
  EXPECT_TRUE(absl::StartsWith(info->metadata().at("trace_id"), "00-"));
}

// Defect 3: bytes that are not the method's message.
TEST_F(HostileInputIntegrationTest,
       MalformedRequestIsInvalidArgumentAndLogged) {
  grpc::GenericStub generic(grpc::CreateChannel(
      stack_->grpc_target(), grpc::InsecureChannelCredentials()));
  const auto call = [&](const std::string& bytes) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context, "/payments.v1.PaymentsService/CreateIntent",
                      grpc::StubOptions(), &request, &response,
                      [&done](grpc::Status s) { done.set_value(s); });
    return done.get_future().get();
  };
  // A length-delimited field running past the end; then field 1
  // (reference) holding bytes that are not UTF-8.
  for (const std::string& bytes : {std::string("\x0A\x7F\x01\x02", 4),
                                   std::string("\x0A\x03\x41\xC3\x28", 5)}) {
    const grpc::Status status = call(bytes);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_TRUE(absl::StrContains(status.error_message(),
                                  "not a valid CreateIntent request"))
        << status.error_message();
    EXPECT_EQ(ReasonOf(status), "MALFORMED_REQUEST");
  }
  EXPECT_TRUE(UpstreamSequence().empty());
  // The access log has the failure, with its code and reason.
  std::string log;
  EXPECT_TRUE(WaitFor(
      [&] {
        log = ReadLog(stack_->server_log_path());
        return absl::StrContains(log, "MALFORMED_REQUEST") &&
               absl::StrContains(log, "INVALID_ARGUMENT");
      },
      absl::Seconds(5)))
      << log.substr(log.size() > 2000 ? log.size() - 2000 : 0);
}

// Defect 4: an answer about another intent than the one asked for.
TEST_F(HostileInputIntegrationTest, GetAnsweredWithAnotherIntentIsAnError) {
  const v1::PaymentIntent asked = CreateOrDie("Order-asked-1");
  const v1::PaymentIntent other = CreateOrDie("Order-other-1");
  auto other_json =
      stack_->Control("GET", "/_emulator/payment-intents/" + other.id());
  ASSERT_TRUE(other_json.ok()) << other_json.status();
  Script("GET", "/payment-intents/" + asked.id(),
         json::array({{{"status", 200}, {"body", other_json->dump()}}}));
  v1::GetIntentRequest request;
  request.set_id(asked.id());
  v1::GetIntentResponse response;
  const grpc::Status status =
      stub_->GetIntent(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(status), "DOJO_BAD_RESPONSE");
  EXPECT_TRUE(response.intent().id().empty());
}

TEST_F(HostileInputIntegrationTest, ImpossibleUpstreamNumbersAreAnError) {
  const v1::PaymentIntent intent = CreateOrDie("Order-numbers-1");
  const std::string id = intent.id();
  for (const json& body : {
           json{{"id", id},
                {"status", "Created"},
                {"createdAt", "10000-01-01T00:00:00Z"}},
           json{{"id", id},
                {"status", "Captured"},
                {"captures", {{{"amount", INT64_MAX}}, {{"amount", 1}}}}},
           json{{"id", id}, {"status", "Refunded"}, {"refundedAmount", -1}},
       }) {
    SCOPED_TRACE(body.dump());
    Script("GET", "/payment-intents/" + id,
           json::array({{{"status", 200}, {"body", body.dump()}}}));
    v1::GetIntentRequest request;
    request.set_id(id);
    v1::GetIntentResponse response;
    const grpc::Status status =
        stub_->GetIntent(ContextWithDeadline().get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(ReasonOf(status), "DOJO_BAD_RESPONSE");
  }
}

// Defect 5: field 31 is CreateIntentRequest.include_client_session_secret;
// the link request has no such field.
TEST_F(HostileInputIntegrationTest, UnknownFieldInALinkRequestAsksForNothing) {
  v1::CreatePaymentLinkRequest request;
  request.set_reference("Order-link-smuggle-1");
  request.mutable_amount()->set_value(1250);
  request.mutable_amount()->set_currency_code("GBP");
  request.GetReflection()->MutableUnknownFields(&request)->AddVarint(31, 1);
  v1::CreatePaymentLinkResponse response;
  const grpc::Status status =
      stub_->CreatePaymentLink(ContextWithDeadline().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.intent().client_session_secret().empty());
  EXPECT_FALSE(response.intent().has_client_session_secret_expires_at());
  EXPECT_TRUE(response.GetReflection()->GetUnknownFields(response).empty());
  // Only the create reached Dojo: no refresh issued a secret.
  EXPECT_EQ(UpstreamSequence(),
            std::vector<std::string>{"POST /payment-intents 200"});
}

// Defect 6: an id with a NUL was never remembered, so never a duplicate.
TEST_F(HostileInputIntegrationTest, WebhookIdWithNulIsABadEvent) {
  v1::VerifyWebhookRequest request;
  request.set_body(
      R"({"id":"evt_nul\u0000tail","event":"payment_intent.created",)"
      R"("data":{"paymentIntentId":"pi_sandbox_x","paymentStatus":"Created"}})");
  request.set_signature(
      webhook::ComputeSignature(kWebhookSecret, request.body()));
  v1::VerifyWebhookResponse response;
  const grpc::Status status =
      stub_->VerifyWebhook(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto bad = FindDetail<google::rpc::BadRequest>(status);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->field_violations(0).field(), "body");

  // A clean id is remembered: the redelivery is flagged.
  request.set_body(
      R"({"id":"evt_clean_1","event":"payment_intent.created",)"
      R"("data":{"paymentIntentId":"pi_sandbox_x","paymentStatus":"Created"}})");
  request.set_signature(
      webhook::ComputeSignature(kWebhookSecret, request.body()));
  ASSERT_TRUE(
      stub_->VerifyWebhook(ContextWithDeadline().get(), request, &response)
          .ok());
  EXPECT_FALSE(response.duplicate());
  ASSERT_TRUE(
      stub_->VerifyWebhook(ContextWithDeadline().get(), request, &response)
          .ok());
  EXPECT_TRUE(response.duplicate());
}

}  // namespace
}  // namespace payments::testing
