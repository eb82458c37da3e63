// The real payments-server against the Dojo emulator over loopback HTTPS:
// every RPC, the error mapping, and what reaches Dojo (the emulator's log).

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

class PaymentsIntegrationTest : public StackTest {
 protected:
  static void SetUpTestSuite() { StartStack({}); }

  void SetUp() override {
    StackTest::SetUp();
    stub_ = Stub();
  }

  static std::unique_ptr<grpc::ClientContext> Context(
      absl::Duration deadline = absl::Seconds(10)) {
    return ContextWithDeadline(deadline);
  }

  static v1::CreateIntentRequest MinimalCreate(absl::string_view reference) {
    v1::CreateIntentRequest request =
        testing::MinimalCreate(std::string(reference));
    request.set_description("Integration test order");
    return request;
  }

  v1::PaymentIntent CreateOrDie(const v1::CreateIntentRequest& request) {
    v1::CreateIntentResponse response;
    grpc::Status status =
        stub_->CreateIntent(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.intent();
  }

  std::unique_ptr<v1::PaymentsService::Stub> stub_;
};

TEST_F(PaymentsIntegrationTest, CreateIntentSendsExactlyOneConformingRequest) {
  v1::CreateIntentRequest request = MinimalCreate("Order-create-1");
  request.set_capture_mode(v1::CAPTURE_MODE_MANUAL);
  request.add_payment_methods(v1::PAYMENT_METHOD_CARD);
  request.add_payment_methods(v1::PAYMENT_METHOD_WALLET);
  (*request.mutable_metadata())["order"] = "1";
  const v1::PaymentIntent intent = CreateOrDie(request);

  EXPECT_TRUE(absl::StartsWith(intent.id(), "pi_sandbox_")) << intent.id();
  EXPECT_EQ(intent.status(), v1::PAYMENT_INTENT_STATUS_CREATED);
  EXPECT_EQ(intent.reference(), "Order-create-1");
  EXPECT_EQ(intent.amount().value(), 1250);
  EXPECT_EQ(intent.total_amount().value(), 1250);
  EXPECT_EQ(intent.capture_mode(), v1::CAPTURE_MODE_MANUAL);
  EXPECT_EQ(intent.metadata().at("order"), "1");
  EXPECT_TRUE(intent.client_session_secret().empty());
  EXPECT_FALSE(intent.has_client_session_secret_expires_at());
  EXPECT_TRUE(intent.has_created_at());

  const std::vector<json> upstream = stack_->UpstreamRequests();
  ASSERT_EQ(upstream.size(), 1u);
  EXPECT_EQ(upstream[0]["method"], "POST");
  EXPECT_EQ(upstream[0]["path"], "/payment-intents");
  EXPECT_EQ(upstream[0]["version"], "2026-02-27");
  EXPECT_EQ(upstream[0]["account"], "default");
  EXPECT_EQ(upstream[0]["authorization"], "ok");
  EXPECT_EQ(upstream[0]["status"], 200);
  const json body = json::parse(upstream[0]["body"].get<std::string>());
  EXPECT_EQ(body, json::parse(R"({
      "reference": "Order-create-1",
      "amount": {"value": 1250, "currencyCode": "GBP"},
      "description": "Integration test order",
      "paymentMethods": ["Card", "Wallet"],
      "captureMode": "Manual",
      "metadata": {"order": "1"}})"));

  // What the emulator holds is what we returned.
  auto held =
      stack_->Control("GET", "/_emulator/payment-intents/" + intent.id());
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ((*held)["reference"], "Order-create-1");
}

TEST_F(PaymentsIntegrationTest, CreateIntentWithClientSessionSecretRefreshes) {
  v1::CreateIntentRequest request = MinimalCreate("Order-secret-1");
  request.set_include_client_session_secret(true);
  const absl::Time before = absl::Now();
  const v1::PaymentIntent intent = CreateOrDie(request);

  EXPECT_FALSE(intent.client_session_secret().empty());
  ASSERT_TRUE(intent.has_client_session_secret_expires_at());
  const absl::Time expires = absl::FromUnixSeconds(
      intent.client_session_secret_expires_at().seconds());
  EXPECT_GT(expires, before + absl::Minutes(29));
  EXPECT_LT(expires, before + absl::Minutes(31));

  const std::vector<json> upstream = stack_->UpstreamRequests();
  ASSERT_EQ(upstream.size(), 2u);
  EXPECT_EQ(upstream[0]["path"], "/payment-intents");
  EXPECT_EQ(upstream[1]["method"], "POST");
  EXPECT_EQ(upstream[1]["path"], "/payment-intents/" + intent.id() +
                                     "/refresh-client-session-secret");
  // No key of ours reaches Dojo's body.
  EXPECT_FALSE(absl::StrContains(upstream[0]["body"].get<std::string>(),
                                 "ncludeClientSessionSecret"));
}

TEST_F(PaymentsIntegrationTest, GetIntentReturnsWhatDojoHolds) {
  const v1::PaymentIntent created = CreateOrDie(MinimalCreate("Order-get-1"));
  ASSERT_TRUE(
      stack_
          ->Control("POST",
                    "/_emulator/payment-intents/" + created.id() + "/status",
                    json{{"status", "Authorized"}})
          .ok());

  v1::GetIntentRequest request;
  request.set_id(created.id());
  v1::GetIntentResponse response;
  grpc::Status status = stub_->GetIntent(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.intent().id(), created.id());
  EXPECT_EQ(response.intent().status(), v1::PAYMENT_INTENT_STATUS_AUTHORIZED);
  EXPECT_EQ(response.intent().reference(), "Order-get-1");

  const std::vector<json> upstream = stack_->UpstreamRequests();
  ASSERT_EQ(upstream.size(), 2u);
  EXPECT_EQ(upstream[1]["method"], "GET");
  EXPECT_EQ(upstream[1]["path"], "/payment-intents/" + created.id());
}

TEST_F(PaymentsIntegrationTest, GetIntentUnknownIsNotFound) {
  v1::GetIntentRequest request;
  request.set_id("pi_sandbox_AAAAAAAAAAAAAAAAAAAAAA");
  v1::GetIntentResponse response;
  grpc::Status status = stub_->GetIntent(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ReasonOf(status), "DOJO_NOT_FOUND");
}

TEST_F(PaymentsIntegrationTest, AccountsAreIsolatedAndSelectTheirKey) {
  v1::CreateIntentRequest create = MinimalCreate("Order-second-1");
  create.set_account("second");
  const v1::PaymentIntent intent = CreateOrDie(create);
  ASSERT_EQ(stack_->UpstreamRequests().at(0)["account"], "second");

  v1::GetIntentRequest get;
  get.set_id(intent.id());
  v1::GetIntentResponse response;
  // Another account's key cannot see it.
  EXPECT_EQ(stub_->GetIntent(Context().get(), get, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  get.set_account("second");
  EXPECT_TRUE(stub_->GetIntent(Context().get(), get, &response).ok());
}

TEST_F(PaymentsIntegrationTest, CreatePaymentLinkReturnsLinkAndExpiry) {
  v1::CreatePaymentLinkRequest request;
  request.set_reference("Order-link-1");
  request.mutable_amount()->set_value(990);
  request.mutable_amount()->set_currency_code("EUR");
  request.mutable_config()->set_title("Pay for order 1");
  request.mutable_config()->set_redirect_url("https://shop.example/return");
  request.mutable_expire_at()->set_seconds(
      absl::ToUnixSeconds(absl::Now() + absl::Hours(48)));
  v1::CreatePaymentLinkResponse response;
  grpc::Status status =
      stub_->CreatePaymentLink(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  EXPECT_EQ(response.payment_link(), response.intent().payment_link());
  EXPECT_TRUE(absl::StrContains(response.payment_link(),
                                "/checkout/" + response.intent().id()));
  EXPECT_EQ(response.expires_at().seconds(), request.expire_at().seconds());
  EXPECT_EQ(response.intent().amount().currency_code(), "EUR");
  const json body =
      json::parse(stack_->UpstreamRequests().at(0)["body"].get<std::string>());
  EXPECT_EQ(body["config"], json::parse(R"({"title":"Pay for order 1",
      "redirectUrl":"https://shop.example/return"})"));
  EXPECT_FALSE(body.contains("account"));
}

TEST_F(PaymentsIntegrationTest, RefreshClientSessionSecretIssuesFreshSecrets) {
  const v1::PaymentIntent intent = CreateOrDie(MinimalCreate("Order-refresh"));
  v1::RefreshClientSessionSecretRequest request;
  request.set_id(intent.id());
  v1::RefreshClientSessionSecretResponse first;
  v1::RefreshClientSessionSecretResponse second;
  ASSERT_TRUE(
      stub_->RefreshClientSessionSecret(Context().get(), request, &first).ok());
  ASSERT_TRUE(
      stub_->RefreshClientSessionSecret(Context().get(), request, &second)
          .ok());
  EXPECT_FALSE(first.client_session_secret().empty());
  EXPECT_NE(first.client_session_secret(), second.client_session_secret());
  EXPECT_GT(first.expires_at().seconds(), absl::ToUnixSeconds(absl::Now()));
}

TEST_F(PaymentsIntegrationTest, RefreshOfAPaidIntentIsAFailedPrecondition) {
  const v1::PaymentIntent intent =
      CreateOrDie(MinimalCreate("Order-refresh-paid"));
  ASSERT_TRUE(
      stack_
          ->Control("POST",
                    "/_emulator/payment-intents/" + intent.id() + "/status",
                    nlohmann::json{{"status", "Captured"}})
          .ok());
  v1::RefreshClientSessionSecretRequest request;
  request.set_id(intent.id());
  v1::RefreshClientSessionSecretResponse response;
  grpc::Status status =
      stub_->RefreshClientSessionSecret(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  auto info = FindDetail<google::rpc::ErrorInfo>(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "INTENT_NOT_CREATED");
  EXPECT_EQ(info->metadata().at("status"), "CAPTURED");
}

TEST_F(PaymentsIntegrationTest, InvalidCreateIsRejectedLocallyWithViolations) {
  v1::CreateIntentRequest request;
  request.set_reference(std::string(61, 'r'));
  request.mutable_amount()->set_value(0);
  request.mutable_amount()->set_currency_code("USD");
  v1::CreateIntentResponse response;
  grpc::Status status =
      stub_->CreateIntent(Context().get(), request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto bad_request = FindDetail<google::rpc::BadRequest>(status);
  ASSERT_TRUE(bad_request.has_value());
  ASSERT_EQ(bad_request->field_violations_size(), 3);
  EXPECT_EQ(bad_request->field_violations(0).field(), "reference");
  EXPECT_EQ(bad_request->field_violations(1).field(), "amount.value");
  EXPECT_EQ(bad_request->field_violations(2).field(), "amount.currency_code");

  v1::CreateIntentRequest unknown_account = MinimalCreate("Order-acct");
  unknown_account.set_account("nobody");
  status = stub_->CreateIntent(Context().get(), unknown_account, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ReasonOf(status), "UNKNOWN_ACCOUNT");

  // A NUL in a reference is the caller's mistake, not a store outage.
  status = stub_->CreateIntent(
      Context().get(), MinimalCreate(std::string("Order\0-1", 8)), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto nul = FindDetail<google::rpc::BadRequest>(status);
  ASSERT_TRUE(nul.has_value());
  EXPECT_EQ(nul->field_violations(0).field(), "reference");

  v1::GetIntentRequest bad_id;
  bad_id.set_id("../webhooks");
  v1::GetIntentResponse get_response;
  EXPECT_EQ(
      stub_->GetIntent(Context().get(), bad_id, &get_response).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);

  EXPECT_TRUE(stack_->UpstreamRequests().empty())
      << "invalid input must not reach Dojo";
}

TEST_F(PaymentsIntegrationTest, ManyViolationsStayAnInvalidArgument) {
  // 10,100 bad item lines once made a ~500 KB trailer that clients saw as
  // RESOURCE_EXHAUSTED "metadata size exceeds limit".
  v1::CreateIntentRequest request = MinimalCreate("Order-many-violations");
  for (int i = 0; i < 10100; ++i) request.add_item_lines();  // no amount
  v1::CreateIntentResponse response;
  grpc::Status status =
      stub_->CreateIntent(Context().get(), request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_LT(status.error_details().size(), 4096u);
  auto bad_request = FindDetail<google::rpc::BadRequest>(status);
  ASSERT_TRUE(bad_request.has_value());
  ASSERT_EQ(bad_request->field_violations_size(), 21);
  EXPECT_EQ(bad_request->field_violations(0).field(), "item_lines");
  EXPECT_EQ(bad_request->field_violations(1).field(),
            "item_lines[0].amount_total");
  EXPECT_TRUE(absl::StrContains(bad_request->field_violations(20).description(),
                                "10081 more"))
      << bad_request->field_violations(20).description();
  EXPECT_TRUE(stack_->UpstreamRequests().empty());
}

TEST_F(PaymentsIntegrationTest, UnknownMethodsShareOneMetricsLabel) {
  // Any caller can send any path; each distinct unknown one once added
  // about 21 series that were never freed.
  grpc::GenericStub generic(grpc::CreateChannel(
      stack_->grpc_target(), grpc::InsecureChannelCredentials()));
  auto call = [&generic](const std::string& method) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context, method, grpc::StubOptions(), &request,
                      &response,
                      [&done](grpc::Status status) { done.set_value(status); });
    return done.get_future().get();
  };
  EXPECT_EQ(call("/evil.Service/Warmup").error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  auto before = stack_->ScrapeMetrics();
  ASSERT_TRUE(before.ok()) << before.status();
  for (int i = 0; i < 200; ++i) {
    call(absl::StrCat("/evil", i, ".Service/Method", i));
    call(absl::StrCat("/payments.v1.PaymentsService/Nope", i));
  }
  auto after = stack_->ScrapeMetrics();
  ASSERT_TRUE(after.ok()) << after.status();
  // Only counter values change: no new series.
  EXPECT_LT(after->size(), before->size() + 2048)
      << before->size() << " -> " << after->size();
  EXPECT_FALSE(absl::StrContains(*after, "evil"));
  EXPECT_FALSE(absl::StrContains(*after, "Nope"));
  EXPECT_TRUE(absl::StrContains(
      *after,
      R"(grpc_code="UNIMPLEMENTED",grpc_method="unknown",grpc_service="unknown")"))
      << *after;
  // Registered methods keep their labels.
  EXPECT_TRUE(absl::StrContains(
      *after,
      R"(grpc_method="CreateIntent",grpc_service="payments.v1.PaymentsService")"));
}

TEST_F(PaymentsIntegrationTest, DojoValidationErrorIsInvalidArgument) {
  // A problem-details 400 from Dojo for a request we consider valid.
  ASSERT_TRUE(stack_
                  ->Control("POST", "/_emulator/faults",
                            json::parse(R"({"method":"POST",
                              "path":"/payment-intents",
                              "responses":[{"status":400,"contentType":"application/problem+json",
                                "body":"{\"errors\":{\"Customer.EmailAddress\":[\"Invalid email.\"]},\"title\":\"One or more validation errors occurred.\",\"status\":400,\"traceId\":\"00-4bf92f3577b34da6-00f067aa0ba902b7-01\"}"}]})"))
                  .ok());
  v1::CreateIntentResponse response;
  grpc::Status status = stub_->CreateIntent(
      Context().get(), MinimalCreate("Order-400"), &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto bad_request = FindDetail<google::rpc::BadRequest>(status);
  ASSERT_TRUE(bad_request.has_value());
  ASSERT_EQ(bad_request->field_violations_size(), 1);
  EXPECT_EQ(bad_request->field_violations(0).field(), "customer.email_address");
  auto info = FindDetail<google::rpc::ErrorInfo>(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "DOJO_REJECTED");
  EXPECT_EQ(info->metadata().at("trace_id"),
            "00-4bf92f3577b34da6-00f067aa0ba902b7-01");
}

TEST_F(PaymentsIntegrationTest, UnknownKeyIsFailedPreconditionUnauthorized) {
  v1::CreateIntentRequest request = MinimalCreate("Order-401");
  request.set_account("revoked");
  v1::CreateIntentResponse response;
  grpc::Status status =
      stub_->CreateIntent(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(status), "DOJO_UNAUTHORIZED");
  EXPECT_EQ(stack_->UpstreamRequests().at(0)["status"], 401);
}

TEST_F(PaymentsIntegrationTest, ForbiddenKeyIsFailedPreconditionForbidden) {
  v1::CreateIntentRequest request = MinimalCreate("Order-403");
  request.set_account("limited");
  v1::CreateIntentResponse response;
  grpc::Status status =
      stub_->CreateIntent(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(status), "DOJO_FORBIDDEN");
}

TEST_F(PaymentsIntegrationTest, DojoServerErrorsAreUnavailableWithRetryInfo) {
  // A Retry-After beyond what the server waits for ends the call at once
  // and passes the delay on to the caller.
  ASSERT_TRUE(
      stack_
          ->Control("POST", "/_emulator/faults", json::parse(R"({"method":"GET",
                              "path":"/payment-intents/*",
                              "responses":[{"status":503,"retryAfter":"30"}]})"))
          .ok());
  v1::GetIntentRequest request;
  request.set_id("pi_sandbox_AAAAAAAAAAAAAAAAAAAAAA");
  v1::GetIntentResponse response;
  grpc::Status status = stub_->GetIntent(Context().get(), request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(status), "DOJO_UNAVAILABLE");
  auto retry = FindDetail<google::rpc::RetryInfo>(status);
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->retry_delay().seconds(), 30);
  EXPECT_EQ(stack_->UpstreamRequests().size(), 1u);
}

TEST_F(PaymentsIntegrationTest, ExpiredDeadlineFailsFast) {
  ASSERT_TRUE(
      stack_
          ->Control("POST", "/_emulator/faults", json::parse(R"({"method":"GET",
                              "path":"/payment-intents/*",
                              "responses":[{"delayMs":3000}]})"))
          .ok());
  v1::GetIntentRequest request;
  request.set_id("pi_sandbox_AAAAAAAAAAAAAAAAAAAAAA");
  v1::GetIntentResponse response;
  const absl::Time start = absl::Now();
  grpc::Status status = stub_->GetIntent(Context(absl::Milliseconds(500)).get(),
                                         request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_F(PaymentsIntegrationTest, WebhookFromEmulatorVerifies) {
  v1::CreateIntentRequest create = MinimalCreate("Order-webhook");
  create.set_capture_mode(v1::CAPTURE_MODE_MANUAL);
  const v1::PaymentIntent intent = CreateOrDie(create);
  ASSERT_TRUE(
      stack_
          ->Control("POST",
                    "/_emulator/payment-intents/" + intent.id() + "/status",
                    json{{"status", "Authorized"}})
          .ok());
  auto sent = stack_->Control("POST", "/_emulator/webhooks/send",
                              json{{"secret", std::string(kWebhookSecret)},
                                   {"paymentIntentId", intent.id()},
                                   {"event", "payment_intent.status_updated"}});
  ASSERT_TRUE(sent.ok()) << sent.status();

  v1::VerifyWebhookRequest request;
  request.set_body((*sent)["body"].get<std::string>());
  // The header as a webhook receiver holds it, in another case.
  auto* header = request.add_headers();
  header->set_name("Dojo-Signature");
  header->set_value((*sent)["signature"].get<std::string>());
  v1::VerifyWebhookResponse response;
  grpc::Status status =
      stub_->VerifyWebhook(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.matched_secret_id(), "current");
  EXPECT_EQ(response.event().type(), "payment_intent.status_updated");
  EXPECT_EQ(response.event().payment_intent_id(), intent.id());
  EXPECT_EQ(response.event().payment_status(),
            v1::PAYMENT_INTENT_STATUS_AUTHORIZED);
  EXPECT_EQ(response.event().capture_mode(), v1::CAPTURE_MODE_MANUAL);
  EXPECT_TRUE(absl::StartsWith(response.event().id(), "evt_"));
}

TEST_F(PaymentsIntegrationTest, DocsWebhookVectorVerifiesAndOneByteBreaksIt) {
  v1::VerifyWebhookRequest request;
  request.set_body(std::string(kDocsBody));
  request.set_signature(std::string(kDocsSignature));
  v1::VerifyWebhookResponse response;
  grpc::Status status =
      stub_->VerifyWebhook(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.matched_secret_id(), "docs");
  EXPECT_EQ(response.event().id(), "evt_hnnHxIKR_Uy6bhZCusCltw");
  EXPECT_EQ(response.event().type(), "payment_intent.created");
  EXPECT_EQ(response.event().account_id(), "acc_test");
  EXPECT_EQ(response.event().payment_intent_id(), "pi_vpwd4ooAPEqyNAQe4z89WQ");
  EXPECT_EQ(response.event().payment_status(),
            v1::PAYMENT_INTENT_STATUS_CREATED);
  EXPECT_EQ(response.event().created_at().seconds(), 1643720861);
  EXPECT_EQ(response.event().created_at().nanos(), 866785900);

  std::string tampered(kDocsBody);
  tampered[tampered.find("Created")] = 'c';
  request.set_body(tampered);
  status = stub_->VerifyWebhook(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ReasonOf(status), "SIGNATURE_MISMATCH");

  request.set_body(std::string(kDocsBody));
  request.clear_signature();
  status = stub_->VerifyWebhook(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ReasonOf(status), "SIGNATURE_MISSING");

  request.set_signature("sha256=4B49F8");
  status = stub_->VerifyWebhook(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ReasonOf(status), "SIGNATURE_MALFORMED");
}

TEST_F(PaymentsIntegrationTest, SignedGarbageAndHugeBodiesAreInvalid) {
  v1::VerifyWebhookRequest request;
  request.set_body("not an event");
  request.set_signature(
      webhook::ComputeSignature(kWebhookSecret, request.body()));
  v1::VerifyWebhookResponse response;
  grpc::Status status =
      stub_->VerifyWebhook(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  request.set_body(std::string(64 * 1024 + 1, ' '));
  request.set_signature(
      webhook::ComputeSignature(kWebhookSecret, request.body()));
  status = stub_->VerifyWebhook(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PaymentsIntegrationTest, MetricsCountEveryMethodAndCode) {
  CreateOrDie(MinimalCreate("Order-metrics"));
  v1::GetIntentRequest missing;
  missing.set_id("pi_sandbox_AAAAAAAAAAAAAAAAAAAAAA");
  v1::GetIntentResponse response;
  stub_->GetIntent(Context().get(), missing, &response);

  auto text = stack_->ScrapeMetrics();
  ASSERT_TRUE(text.ok()) << text.status();
  for (
      absl::string_view expected : {
          R"(grpc_server_handled_total{grpc_code="OK",grpc_method="CreateIntent",grpc_service="payments.v1.PaymentsService",grpc_type="unary"} )",
          R"(grpc_server_handled_total{grpc_code="NOT_FOUND",grpc_method="GetIntent",grpc_service="payments.v1.PaymentsService",grpc_type="unary"} )",
          // Pre-initialised at zero for every method and code.
          R"(grpc_server_handled_total{grpc_code="DATA_LOSS",grpc_method="VerifyWebhook",grpc_service="payments.v1.PaymentsService",grpc_type="unary"} 0)",
          R"(grpc_server_started_total{grpc_method="CreateIntent")",
          R"(grpc_server_handling_seconds_bucket{grpc_method="GetIntent")",
          R"(http_client_request_duration_seconds_count{error_type="",http_request_method="POST",http_response_status_code="200",operation="create_payment_intent"})",
          "http_client_active_requests 0",
      }) {
    EXPECT_TRUE(absl::StrContains(*text, expected)) << expected;
  }
}

TEST_F(PaymentsIntegrationTest, NoSecretReachesLogsOrMetrics) {
  // Exercise the paths that touch keys and secrets, including failures.
  v1::CreateIntentRequest request = MinimalCreate("Order-leak");
  request.set_include_client_session_secret(true);
  const v1::PaymentIntent intent = CreateOrDie(request);
  request.set_account("revoked");
  v1::CreateIntentResponse response;
  stub_->CreateIntent(Context().get(), request, &response);
  v1::VerifyWebhookRequest webhook;
  webhook.set_body(std::string(kDocsBody) + " ");
  webhook.set_signature(std::string(kDocsSignature));
  v1::VerifyWebhookResponse verified;
  stub_->VerifyWebhook(Context().get(), webhook, &verified);

  auto metrics = stack_->ScrapeMetrics();
  ASSERT_TRUE(metrics.ok());
  auto log = ReadFile(stack_->server_log_path());
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE(absl::StrContains(*log, "rpc_failed"));
  std::vector<std::string> secrets = TestStack::AllSecrets();
  secrets.push_back(intent.client_session_secret());
  for (const std::string& secret : secrets) {
    // Report which one leaked by index only, never the value itself.
    EXPECT_FALSE(absl::StrContains(*log, secret)) << "secret leaked to log";
    EXPECT_FALSE(absl::StrContains(*metrics, secret))
        << "secret leaked to metrics";
  }
}

}  // namespace
}  // namespace payments::testing
