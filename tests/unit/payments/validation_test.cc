#include "lib/payments/validation.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/common/status_details.h"
#include "payments/v1/payments_service.pb.h"

namespace payments {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// 2026-11-24T13:00:00Z.
const absl::Time kNow = absl::FromUnixSeconds(1795525200);

v1::CreateIntentRequest Minimal() {
  v1::CreateIntentRequest request;
  request.set_reference("Order-1");
  request.mutable_amount()->set_value(1000);
  request.mutable_amount()->set_currency_code("GBP");
  return request;
}

// Field paths of the BadRequest violations, in order.
std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> fields;
  if (auto bad = GetBadRequest(status)) {
    for (const auto& violation : bad->field_violations()) {
      fields.push_back(violation.field());
    }
  }
  return fields;
}

// Asserts INVALID_ARGUMENT with exactly these violation fields.
void ExpectViolations(const v1::CreateIntentRequest& request,
                      const std::vector<std::string>& fields) {
  const absl::Status status = ValidateCreateIntent(request, kNow);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(Fields(status), fields) << status;
}

TEST(ValidateCreateIntent, MinimalRequestIsValid) {
  EXPECT_TRUE(ValidateCreateIntent(Minimal(), kNow).ok());
  v1::CreateIntentRequest eur = Minimal();
  eur.mutable_amount()->set_currency_code("EUR");
  EXPECT_TRUE(ValidateCreateIntent(eur, kNow).ok());
}

TEST(ValidateCreateIntent, RichValidRequest) {
  v1::CreateIntentRequest r = Minimal();
  r.set_description(std::string(4096, 'd'));
  r.set_reference(std::string(60, 'r'));
  r.add_payment_methods(v1::PAYMENT_METHOD_CARD);
  r.add_payment_methods(v1::PAYMENT_METHOD_SAVED_CARD);
  r.set_capture_mode(v1::CAPTURE_MODE_MANUAL);
  r.mutable_auto_expire_in()->set_seconds(30);
  r.set_auto_expire_action(v1::AUTO_EXPIRE_ACTION_RELEASE);
  r.mutable_expire_at()->set_seconds(absl::ToUnixSeconds(kNow) + 3600);
  r.mutable_tips_amount()->set_value(0);
  r.mutable_tips_amount()->set_currency_code("GBP");
  r.mutable_billing_address()->set_country_code("GB");
  r.mutable_shipping_details()->mutable_address()->set_country_code("IE");
  r.mutable_config()->set_redirect_url("https://shop.example/done");
  r.mutable_config()->set_cancel_url("http://localhost:8080/cancel");
  r.mutable_action_link()->set_url("https://shop.example/receipt");
  r.mutable_action_link()->set_label("Receipt");
  v1::ItemLine& line = *r.add_item_lines();
  line.set_name("Latte");
  line.mutable_amount_total()->set_value(0);  // A free item.
  line.mutable_amount_total()->set_currency_code("GBP");
  const absl::Status status = ValidateCreateIntent(r, kNow);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_THAT(Fields(status), IsEmpty());
}

TEST(ValidateCreateIntent, NegativeModifierIsADiscount) {
  v1::CreateIntentRequest request = Minimal();
  v1::ItemLine* line = request.add_item_lines();
  line->mutable_amount_total()->set_value(900);
  line->mutable_amount_total()->set_currency_code("GBP");
  v1::Modifier* modifier = line->add_modifiers();
  modifier->set_id("student");
  modifier->set_name("Student discount");
  modifier->mutable_amount_per_modifier()->set_value(-100);
  modifier->mutable_amount_per_modifier()->set_currency_code("GBP");
  modifier->set_quantity(1);
  EXPECT_TRUE(ValidateCreateIntent(request, kNow).ok());
}

TEST(ValidateCreateIntent, Reference) {
  v1::CreateIntentRequest r = Minimal();
  r.set_reference("");
  ExpectViolations(r, {"reference"});
  r.set_reference(std::string(61, 'r'));
  ExpectViolations(r, {"reference"});
  r.set_reference(std::string(60, 'r'));
  EXPECT_TRUE(ValidateCreateIntent(r, kNow).ok());
  // Control characters, NUL included, are the caller's mistake, found before
  // any store or upstream I/O (not a store outage).
  for (const std::string& bad :
       {std::string("order\0-1", 8), std::string("order\n1"),
        std::string("order\x7f")}) {
    r.set_reference(bad);
    ExpectViolations(r, {"reference"});
  }
}

TEST(ValidateCreateIntent, Amount) {
  v1::CreateIntentRequest r = Minimal();
  r.clear_amount();
  ExpectViolations(r, {"amount"});
  r = Minimal();
  r.mutable_amount()->set_value(0);
  ExpectViolations(r, {"amount.value"});
  r.mutable_amount()->set_value(-1);
  ExpectViolations(r, {"amount.value"});
  r.mutable_amount()->set_value(1);
  EXPECT_TRUE(ValidateCreateIntent(r, kNow).ok());
}

TEST(ValidateCreateIntent, Currency) {
  v1::CreateIntentRequest r = Minimal();
  r.mutable_amount()->set_currency_code("");
  ExpectViolations(r, {"amount.currency_code"});
  r.mutable_amount()->set_currency_code("USD");
  ExpectViolations(r, {"amount.currency_code"});
  r.mutable_amount()->set_currency_code("gbp");
  ExpectViolations(r, {"amount.currency_code"});
}

TEST(ValidateCreateIntent, Description) {
  v1::CreateIntentRequest r = Minimal();
  r.set_description(std::string(4097, 'd'));
  ExpectViolations(r, {"description"});
  const absl::Status status = ValidateCreateIntent(r, kNow);
  EXPECT_EQ(GetBadRequest(status)->field_violations(0).description(),
            "must be at most 4096 characters");
}

TEST(ValidateCreateIntent, AutoExpireInNeedsManualCapture) {
  v1::CreateIntentRequest r = Minimal();
  r.mutable_auto_expire_in()->set_seconds(60);
  ExpectViolations(r, {"auto_expire_in"});  // Unspecified = Dojo's AUTO.
  r.set_capture_mode(v1::CAPTURE_MODE_AUTO);
  ExpectViolations(r, {"auto_expire_in"});
  r.set_capture_mode(v1::CAPTURE_MODE_MANUAL);
  EXPECT_TRUE(ValidateCreateIntent(r, kNow).ok());
}

TEST(ValidateCreateIntent, AutoExpireInRange) {
  v1::CreateIntentRequest r = Minimal();
  r.set_capture_mode(v1::CAPTURE_MODE_MANUAL);
  r.mutable_auto_expire_in()->set_seconds(29);
  ExpectViolations(r, {"auto_expire_in"});
  r.mutable_auto_expire_in()->set_seconds(7 * 86400 + 1);
  ExpectViolations(r, {"auto_expire_in"});
  r.mutable_auto_expire_in()->set_seconds(7 * 86400);
  EXPECT_TRUE(ValidateCreateIntent(r, kNow).ok());
  r.mutable_auto_expire_in()->set_seconds(30);
  EXPECT_TRUE(ValidateCreateIntent(r, kNow).ok());
}

TEST(ValidateCreateIntent, AutoExpireActionNeedsManualCapture) {
  v1::CreateIntentRequest r = Minimal();
  r.set_auto_expire_action(v1::AUTO_EXPIRE_ACTION_CAPTURE);
  ExpectViolations(r, {"auto_expire_action"});
  r.set_capture_mode(v1::CAPTURE_MODE_MANUAL);
  EXPECT_TRUE(ValidateCreateIntent(r, kNow).ok());
}

TEST(ValidateCreateIntent, UnknownEnumNumbers) {
  v1::CreateIntentRequest r = Minimal();
  r.set_capture_mode(static_cast<v1::CaptureMode>(42));
  ExpectViolations(r, {"capture_mode"});
}

TEST(ValidateCreateIntent, ExpireAtMustBeInTheFuture) {
  v1::CreateIntentRequest r = Minimal();
  r.mutable_expire_at()->set_seconds(absl::ToUnixSeconds(kNow) - 1);
  ExpectViolations(r, {"expire_at"});
  r.mutable_expire_at()->set_seconds(absl::ToUnixSeconds(kNow));
  ExpectViolations(r, {"expire_at"});
  r.mutable_expire_at()->set_seconds(absl::ToUnixSeconds(kNow) + 1);
  EXPECT_TRUE(ValidateCreateIntent(r, kNow).ok());
}

TEST(ValidateCreateIntent, CountryCode) {
  v1::CreateIntentRequest r = Minimal();
  r.mutable_billing_address()->set_city("London");
  ExpectViolations(r, {"billing_address.country_code"});
  r.mutable_billing_address()->set_country_code("gbr");
  ExpectViolations(r, {"billing_address.country_code"});
  r.mutable_billing_address()->set_country_code("gb");
  ExpectViolations(r, {"billing_address.country_code"});
  r.mutable_billing_address()->set_country_code("GB");
  EXPECT_TRUE(ValidateCreateIntent(r, kNow).ok());

  r.mutable_shipping_details()->mutable_address()->set_country_code("GBR");
  ExpectViolations(r, {"shipping_details.address.country_code"});
}

TEST(ValidateCreateIntent, AddressLengths) {
  v1::CreateIntentRequest r = Minimal();
  r.mutable_billing_address()->set_country_code("GB");
  r.mutable_billing_address()->set_address1(std::string(101, 'a'));
  r.mutable_billing_address()->set_postcode(std::string(51, 'p'));
  ExpectViolations(r, {"billing_address.address1", "billing_address.postcode"});
}

TEST(ValidateCreateIntent, ItemLineWithoutAmountTotal) {
  v1::CreateIntentRequest r = Minimal();
  r.add_item_lines()->set_name("Latte");
  ExpectViolations(r, {"item_lines[0].amount_total"});
}

TEST(ValidateCreateIntent, LinePaths) {
  v1::CreateIntentRequest r = Minimal();
  v1::ItemLine& ok = *r.add_item_lines();
  ok.mutable_amount_total()->set_value(100);
  ok.mutable_amount_total()->set_currency_code("GBP");
  v1::ItemLine& bad = *r.add_item_lines();
  bad.set_name(std::string(101, 'n'));
  bad.mutable_amount_total()->set_value(-1);
  bad.mutable_amount_total()->set_currency_code("GBP");
  bad.add_modifiers()->set_name("Oat milk");
  v1::TaxLine& tax = *r.add_tax_lines();
  tax.set_caption("VAT");
  ExpectViolations(r, {"item_lines[1].name", "item_lines[1].amount_total.value",
                       "item_lines[1].modifiers[0].id",
                       "item_lines[1].modifiers[0].amount_per_modifier",
                       "tax_lines[0].amount_total"});
}

TEST(ValidateCreateIntent, ActionLink) {
  v1::CreateIntentRequest r = Minimal();
  r.mutable_action_link()->set_url("https://shop.example/receipt");
  ExpectViolations(r, {"action_link.label"});
  r.mutable_action_link()->set_label(std::string(61, 'l'));
  ExpectViolations(r, {"action_link.label"});
  r.mutable_action_link()->set_label("Receipt");
  r.mutable_action_link()->clear_url();
  ExpectViolations(r, {"action_link.url"});
}

TEST(ValidateCreateIntent, RedirectUrlMustBeAbsolute) {
  v1::CreateIntentRequest r = Minimal();
  r.mutable_config()->set_redirect_url("/thanks");
  ExpectViolations(r, {"config.redirect_url"});
  r.mutable_config()->set_redirect_url("shop.example/thanks");
  ExpectViolations(r, {"config.redirect_url"});
  r.mutable_config()->set_redirect_url("javascript:alert(1)");
  ExpectViolations(r, {"config.redirect_url"});
  r.mutable_config()->set_redirect_url("https://shop.example/thanks");
  r.mutable_config()->set_cancel_url("ftp://shop.example/");
  ExpectViolations(r, {"config.cancel_url"});
}

TEST(ValidateCreateIntent, ExtraAmountsMustShareTheCurrency) {
  v1::CreateIntentRequest r = Minimal();
  r.mutable_tips_amount()->set_value(100);
  r.mutable_tips_amount()->set_currency_code("EUR");
  ExpectViolations(r, {"tips_amount.currency_code"});
  const absl::Status status = ValidateCreateIntent(r, kNow);
  EXPECT_EQ(GetBadRequest(status)->field_violations(0).description(),
            "must match amount.currency_code");

  r.mutable_tips_amount()->set_currency_code("GBP");
  r.mutable_cashback_amount()->set_value(-1);
  r.mutable_cashback_amount()->set_currency_code("GBP");
  r.mutable_service_charge_amount()->set_value(5);
  r.mutable_service_charge_amount()->set_currency_code("EUR");
  ExpectViolations(
      r, {"cashback_amount.value", "service_charge_amount.currency_code"});
}

TEST(ValidateCreateIntent, PaymentMethods) {
  v1::CreateIntentRequest r = Minimal();
  r.add_payment_methods(v1::PAYMENT_METHOD_CARD);
  r.add_payment_methods(v1::PAYMENT_METHOD_UNSPECIFIED);
  ExpectViolations(r, {"payment_methods[1]"});
}

TEST(ValidateCreateIntent, SeveralProblemsInOrder) {
  v1::CreateIntentRequest r;
  r.mutable_amount()->set_value(0);
  r.mutable_amount()->set_currency_code("USD");
  r.set_description(std::string(5000, 'd'));
  r.add_item_lines();
  const absl::Status status = ValidateCreateIntent(r, kNow);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(status),
              ElementsAre("reference", "amount.value", "amount.currency_code",
                          "description", "item_lines[0].amount_total"));
  EXPECT_EQ(status.message(),
            "invalid request: reference is required (1-60 characters) (and 4 "
            "more)");
}

// "€" is 3 bytes in UTF-8 and 1 UTF-16 unit; U+1F600 is 4 bytes and 2 units.
std::string Repeat(absl::string_view text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out.append(text.data(), text.size());
  return out;
}
constexpr absl::string_view kEuro = "\xE2\x82\xAC";
constexpr absl::string_view kEmoji = "\xF0\x9F\x98\x80";

TEST(ValidateCreateIntent, LimitsCountCharactersAsDojoDoes) {
  v1::CreateIntentRequest r = Minimal();
  r.set_reference(Repeat(kEuro, 60));  // 180 bytes, 60 characters.
  r.set_description(Repeat(kEuro, 4096));
  r.mutable_customer()->set_phone_number(Repeat(kEuro, 50));
  r.mutable_config()->set_title(Repeat(kEuro, 100));
  EXPECT_TRUE(ValidateCreateIntent(r, kNow).ok())
      << ValidateCreateIntent(r, kNow);
  r.set_reference(Repeat(kEuro, 29));
  EXPECT_TRUE(ValidateCreateIntent(r, kNow).ok());

  r.set_reference(Repeat(kEuro, 61));
  ExpectViolations(r, {"reference"});
  // Outside the Basic Multilingual Plane a character is 2 UTF-16 units.
  r.set_reference(Repeat(kEmoji, 30));
  EXPECT_TRUE(ValidateCreateIntent(r, kNow).ok());
  r.set_reference(Repeat(kEmoji, 30) + "x");
  ExpectViolations(r, {"reference"});
}

TEST(ValidateCreateIntent, ActionLinkLabelCountsCharacters) {
  v1::CreateIntentRequest r = Minimal();
  r.mutable_action_link()->set_url("https://example.com/receipt");
  r.mutable_action_link()->set_label(Repeat(kEuro, 60));
  EXPECT_TRUE(ValidateCreateIntent(r, kNow).ok());
  r.mutable_action_link()->set_label(Repeat(kEuro, 61));
  ExpectViolations(r, {"action_link.label"});
}

TEST(ValidateCreateIntent, InvalidUtf8IsAFieldViolation) {
  v1::CreateIntentRequest r = Minimal();
  r.set_reference("Order-\xC3\x28");
  r.mutable_customer()->set_email_address("a\xFF@example.com");
  r.add_item_lines()->set_name("\xE2\x82");  // "€" cut short
  r.mutable_item_lines(0)->mutable_amount_total()->set_currency_code("GBP");
  (*r.mutable_metadata())["k"] = "\xED\xA0\x80";  // a surrogate
  const absl::Status status = ValidateCreateIntent(r, kNow);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(status), ::testing::UnorderedElementsAre(
                                  "reference", "customer.email_address",
                                  "item_lines[0].name", "metadata.value"))
      << status;
  auto bad = GetBadRequest(status);
  ASSERT_TRUE(bad.has_value());
  for (const auto& violation : bad->field_violations()) {
    EXPECT_EQ(violation.description(), "must be valid UTF-8");
  }
}

TEST(ValidateCreateIntent, ExpireAtMustBeARepresentableTimestamp) {
  v1::CreateIntentRequest r = Minimal();
  r.mutable_expire_at()->set_seconds(253402300800);  // 10000-01-01
  ExpectViolations(r, {"expire_at"});
  r.mutable_expire_at()->set_seconds(1795525200 + 3600);
  r.mutable_expire_at()->set_nanos(-1);
  ExpectViolations(r, {"expire_at"});
}

TEST(ValidateListIntents, TimestampsAndUtf8) {
  v1::ListIntentsRequest r;
  r.mutable_created_after()->set_seconds(-62135596801);  // before year 1
  r.mutable_created_before()->set_seconds(INT64_MAX);
  r.set_reference("\xFF");
  EXPECT_THAT(Fields(ValidateListIntents(r)),
              ::testing::UnorderedElementsAre("created_after", "created_before",
                                              "reference"));
  r.Clear();
  r.set_reference(Repeat(kEuro, 60));
  EXPECT_TRUE(ValidateListIntents(r).ok());
}

TEST(ValidateRefund, TextsCountCharacters) {
  v1::RefundIntentRequest r;
  r.set_id("pi_sandbox_abc");
  r.set_refund_key("refund-1");
  r.mutable_amount()->set_value(100);
  r.mutable_amount()->set_currency_code("GBP");
  r.set_reason(Repeat(kEuro, 1024));
  EXPECT_TRUE(ValidateRefund(r).ok()) << ValidateRefund(r);
  r.set_reason(Repeat(kEuro, 1025));
  EXPECT_THAT(Fields(ValidateRefund(r)), ElementsAre("reason"));
}

TEST(ValidateIntentId, Cases) {
  EXPECT_TRUE(ValidateIntentId("id", "pi_sandbox_G_FeegU8WESxtY_Nct8jqw").ok());
  EXPECT_TRUE(ValidateIntentId("id", "pi_sandbox_S_zeCMipQkSG9fFmqS-ceQ").ok());
  EXPECT_TRUE(ValidateIntentId("id", std::string(100, 'a')).ok());
  for (const std::string& bad :
       {std::string(), std::string("../x"), std::string(101, 'a'),
        std::string("pi_1/refunds"), std::string("pi 1"),
        std::string("pi_1?returnCanceled=true"), std::string("pi_%2e%2e")}) {
    SCOPED_TRACE(bad);
    const absl::Status status = ValidateIntentId("id", bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(Fields(status), ElementsAre("id"));
  }
  EXPECT_EQ(GetBadRequest(ValidateIntentId("id", ""))
                ->field_violations(0)
                .description(),
            "is required, e.g. pi_sandbox_...");
}

TEST(IsSupportedCurrency, OnlyGbpAndEur) {
  EXPECT_TRUE(IsSupportedCurrency("GBP"));
  EXPECT_TRUE(IsSupportedCurrency("EUR"));
  EXPECT_FALSE(IsSupportedCurrency("USD"));
  EXPECT_FALSE(IsSupportedCurrency("gbp"));
  EXPECT_FALSE(IsSupportedCurrency(""));
}

}  // namespace
}  // namespace payments
