#include "client/ctl/intent_request_builder.h"

#include <vector>

#include "client/ctl/exit_code.h"
#include "gtest/gtest.h"

namespace payments::ctl {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

TEST(IntentRequestBuilderTest, FlagsBuildTheRequest) {
  IntentParams params;
  params.reference = "Order-1";
  params.amount = 1000;
  params.description = "Two coffees";
  params.capture_mode = "manual";
  params.payment_methods = "card, wallet";
  params.include_client_session_secret = true;
  params.card_holder_not_present = true;
  params.redirect_url = "https://shop.example/thanks";
  params.title = "Shop";
  params.expire_in = "24h";
  params.account = "second";
  auto request = BuildCreateIntentRequest(params, kNow);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->reference(), "Order-1");
  EXPECT_EQ(request->amount().value(), 1000);
  EXPECT_EQ(request->amount().currency_code(), "GBP");  // the default
  EXPECT_EQ(request->capture_mode(), v1::CAPTURE_MODE_MANUAL);
  ASSERT_EQ(request->payment_methods_size(), 2);
  EXPECT_EQ(request->payment_methods(1), v1::PAYMENT_METHOD_WALLET);
  EXPECT_TRUE(request->include_client_session_secret());
  EXPECT_TRUE(request->card_holder_not_present());
  EXPECT_EQ(request->config().redirect_url(), "https://shop.example/thanks");
  EXPECT_EQ(request->config().title(), "Shop");
  EXPECT_EQ(request->expire_at().seconds(), 1700000000 + 24 * 3600);
  EXPECT_EQ(request->account(), "second");
}

TEST(IntentRequestBuilderTest, FlagsOverrideTheJsonBase) {
  IntentParams params;
  params.request_json = R"({"reference":"From-json","amount":{"value":5,
      "currencyCode":"EUR"},"metadata":{"order":"7"},
      "captureMode":"CAPTURE_MODE_MANUAL"})";
  params.amount = 700;
  auto request = BuildCreateIntentRequest(params, kNow);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->reference(), "From-json");
  EXPECT_EQ(request->amount().value(), 700);
  EXPECT_EQ(request->amount().currency_code(), "EUR");
  EXPECT_EQ(request->metadata().at("order"), "7");
  EXPECT_EQ(request->capture_mode(), v1::CAPTURE_MODE_MANUAL);
}

TEST(IntentRequestBuilderTest, BadInputIsAUsageError) {
  std::vector<IntentParams> bad(5);
  bad[0].request_json = "{not json";
  bad[1].capture_mode = "later";
  bad[2].payment_methods = "card,cash";
  bad[3].expire_in = "soon";
  bad[4].expire_in = "-1h";
  for (const IntentParams& params : bad) {
    auto request = BuildCreateIntentRequest(params, kNow);
    ASSERT_FALSE(request.ok());
    EXPECT_TRUE(IsUsageError(request.status())) << request.status();
    EXPECT_EQ(ExitCodeFor(request.status()), kExitUsage);
  }
}

TEST(IntentRequestBuilderTest, PaymentLinkRequestCarriesEveryField) {
  IntentParams params;
  params.request_json = R"({"reference":"Invoice-7","amount":{"value":4500,
      "currencyCode":"GBP"},"config":{"title":"Invoice 7"},
      "itemLines":[{"id":"1","name":"Tea","amountTotal":{"value":4500,
      "currencyCode":"GBP"}}],"account":"second"})";
  params.include_client_session_secret = true;
  auto request = BuildCreateIntentRequest(params, kNow);
  ASSERT_TRUE(request.ok()) << request.status();
  v1::CreatePaymentLinkRequest link = ToPaymentLinkRequest(*request);
  EXPECT_EQ(link.reference(), "Invoice-7");
  EXPECT_EQ(link.config().title(), "Invoice 7");
  ASSERT_EQ(link.item_lines_size(), 1);
  EXPECT_EQ(link.item_lines(0).name(), "Tea");
  EXPECT_EQ(link.account(), "second");
  EXPECT_TRUE(link.GetReflection()->GetUnknownFields(link).empty());
}

TEST(ExitCodeTest, GrpcCodesPassThrough) {
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("x")), 5);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("x")), 3);
  EXPECT_EQ(ExitCodeFor(absl::UnauthenticatedError("x")), 16);
  EXPECT_EQ(ExitCodeFor(UsageError("x")), 64);
}

}  // namespace
}  // namespace payments::ctl
