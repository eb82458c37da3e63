#include "client/ctl/response_printer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace payments::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "cs_secret_Zm9vYmFy";

v1::CreateIntentResponse WithSecret() {
  v1::CreateIntentResponse response;
  v1::PaymentIntent* intent = response.mutable_intent();
  intent->set_id("pi_sandbox_1");
  intent->set_status(v1::PAYMENT_INTENT_STATUS_CREATED);
  intent->set_reference("Order-1");
  intent->mutable_amount()->set_value(1050);
  intent->mutable_amount()->set_currency_code("GBP");
  intent->set_client_session_secret(kSecret);
  return response;
}

TEST(ResponsePrinterTest, SummaryHidesTheSecretUnlessAsked) {
  const std::string hidden = PrintCreateIntent(WithSecret(), {});
  EXPECT_THAT(hidden, HasSubstr("pi_sandbox_1"));
  EXPECT_THAT(hidden, HasSubstr("CREATED"));
  EXPECT_THAT(hidden, HasSubstr("10.50 GBP"));
  EXPECT_THAT(hidden, Not(HasSubstr(kSecret)));
  EXPECT_THAT(PrintCreateIntent(WithSecret(), {.show_secret = true}),
              HasSubstr(kSecret));
}

TEST(ResponsePrinterTest, JsonIsTheWholeResponse) {
  const std::string json = PrintCreateIntent(WithSecret(), {.json = true});
  EXPECT_THAT(json, HasSubstr("\"clientSessionSecret\": \"cs_secret_"));
  EXPECT_THAT(json, HasSubstr("\"status\": \"PAYMENT_INTENT_STATUS_CREATED\""));
}

TEST(ResponsePrinterTest, Money) {
  v1::Money money;
  money.set_value(5);
  money.set_currency_code("EUR");
  EXPECT_EQ(FormatMoney(money), "0.05 EUR");
  money.set_value(-123456);
  EXPECT_EQ(FormatMoney(money), "-1234.56 EUR");
}

}  // namespace
}  // namespace payments::ctl
