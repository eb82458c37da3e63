#include "lib/dojo/dojo_json.h"

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "payments/v1/payments_service.pb.h"

namespace payments::dojo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using Json = nlohmann::json;

std::string ReadFixture(const std::string& name) {
  const std::string path = std::string(TEST_DATA_DIR) + "/dojo/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

Json ParseJson(const std::string& text) {
  return Json::parse(text, nullptr, /*allow_exceptions=*/false);
}

v1::PaymentIntent ParseIntentFixture(const std::string& name) {
  v1::PaymentIntent intent;
  const absl::Status status = FromDojoJson(ReadFixture(name), intent);
  EXPECT_TRUE(status.ok()) << status;
  return intent;
}

void ExpectMoney(const v1::Money& money, int64_t value,
                 const std::string& currency) {
  EXPECT_EQ(money.value(), value);
  EXPECT_EQ(money.currency_code(), currency);
}

void ExpectTimestamp(const google::protobuf::Timestamp& ts, int64_t seconds,
                     int32_t nanos) {
  EXPECT_EQ(ts.seconds(), seconds);
  EXPECT_EQ(ts.nanos(), nanos);
}

// ------------------------------------------------ reading the spec examples

TEST(DojoJsonSpecExamples, CreateResponseAuto) {
  const v1::PaymentIntent intent =
      ParseIntentFixture("create_response_auto.json");
  EXPECT_EQ(intent.id(), "pi_sandbox_G_FeegU8WESxtY_Nct8jqw");
  EXPECT_EQ(intent.status(), v1::PAYMENT_INTENT_STATUS_CREATED);
  EXPECT_EQ(intent.capture_mode(), v1::CAPTURE_MODE_AUTO);
  EXPECT_FALSE(intent.card_holder_not_present());
  EXPECT_THAT(intent.payment_methods(), ElementsAre(v1::PAYMENT_METHOD_CARD));
  ExpectMoney(intent.amount(), 1000, "GBP");
  ExpectMoney(intent.total_amount(), 1000, "GBP");
  EXPECT_EQ(intent.refunded_amount(), 0);
  EXPECT_EQ(intent.reference(), "Order 234");
  EXPECT_EQ(intent.description(), "Demo payment intent");
  // 2024-04-07T23:25:44.802258Z: six fractional digits.
  ExpectTimestamp(intent.created_at(), 1712532344, 802258000);
  ExpectTimestamp(intent.updated_at(), 1712532344, 802258000);
  // 2024-05-07T23:25:44.8023189Z: seven fractional digits (.NET ticks).
  ExpectTimestamp(intent.expire_at(), 1715124344, 802318900);
  // .NET's DateTime.MinValue means "no secret issued".
  EXPECT_FALSE(intent.has_client_session_secret_expires_at());
  EXPECT_EQ(intent.client_session_secret(), "");
  EXPECT_EQ(intent.payment_link(),
            "https://pay.dojo.tech:443/checkout/"
            "pi_sandbox_G_FeegU8WESxtY_Nct8jqw");
  EXPECT_THAT(intent.metadata(),
              UnorderedElementsAre(Pair("location-id", "rpl_bOppxLvOEsS")));
  EXPECT_THAT(
      intent.merchant_config().supported_payment_methods().card_schemes(),
      ElementsAre("VISA", "MASTERCARD", "MAESTRO", "DISCOVER", "DCI"));
  EXPECT_THAT(intent.merchant_config().supported_payment_methods().wallets(),
              ElementsAre("APPLE_PAY", "GOOGLE_PAY"));
  EXPECT_EQ(intent.item_lines_size(), 0);
  EXPECT_EQ(intent.tax_lines_size(), 0);
  EXPECT_EQ(intent.terminal_session_history_size(), 0);
  EXPECT_FALSE(intent.has_auto_expire_in());
  EXPECT_EQ(intent.auto_expire_action(), v1::AUTO_EXPIRE_ACTION_UNSPECIFIED);
  // paymentSource, paymentEvents and config.branding/tradingName have no
  // home in our proto: ignored without error (checked by the status above).
}

TEST(DojoJsonSpecExamples, CreateResponseManual) {
  const v1::PaymentIntent intent =
      ParseIntentFixture("create_response_manual.json");
  EXPECT_EQ(intent.id(), "pi_sandbox_LXGmW_Rlv0CN5WlBimQg5A");
  EXPECT_EQ(intent.status(), v1::PAYMENT_INTENT_STATUS_CREATED);
  EXPECT_EQ(intent.capture_mode(), v1::CAPTURE_MODE_MANUAL);
  EXPECT_EQ(intent.auto_expire_action(), v1::AUTO_EXPIRE_ACTION_CAPTURE);
  ASSERT_TRUE(intent.has_auto_expire_in());
  EXPECT_EQ(intent.auto_expire_in().seconds(), 55);
  EXPECT_EQ(intent.auto_expire_in().nanos(), 0);
  ExpectMoney(intent.amount(), 1000, "GBP");
  ExpectMoney(intent.total_amount(), 1000, "GBP");
  ExpectTimestamp(intent.created_at(), 1712532293, 377081500);
  ExpectTimestamp(intent.updated_at(), 1712532293, 377081600);
  ExpectTimestamp(intent.expire_at(), 1715124293, 377139100);
  EXPECT_FALSE(intent.has_client_session_secret_expires_at());
  EXPECT_EQ(intent.payment_link(),
            "https://pay.dojo.tech:443/checkout/"
            "pi_sandbox_LXGmW_Rlv0CN5WlBimQg5A");
  EXPECT_THAT(intent.metadata(),
              UnorderedElementsAre(Pair("location-id", "rpl_bOppxLvOEsS")));
}

TEST(DojoJsonSpecExamples, GetResponse) {
  const v1::PaymentIntent intent = ParseIntentFixture("get_response.json");
  EXPECT_EQ(intent.id(), "pi_sandbox_S_zeCMipQkSG9fFmqS-ceQ");
  EXPECT_EQ(intent.status(), v1::PAYMENT_INTENT_STATUS_CAPTURED);
  EXPECT_THAT(intent.client_session_secret(), HasSubstr("bHte6dGrBuOoMwOg"));
  ExpectTimestamp(intent.client_session_secret_expires_at(), 1721899150, 0);
  ExpectTimestamp(intent.created_at(), 1721897318, 497000000);
  ExpectTimestamp(intent.updated_at(), 1721897364, 761000000);
  ExpectTimestamp(intent.expire_at(), 1724489318, 498000000);
  const v1::PaymentDetails& details = intent.payment_details();
  EXPECT_EQ(details.transaction_id(), "19e4535e-ef6e-48e2-90be-d2b313c1cefd");
  EXPECT_EQ(details.transaction_date_time(), "2024-07-25T08:49:20.973410318Z");
  EXPECT_EQ(details.message(), "DEPOSITED");
  EXPECT_EQ(details.auth_code(), "123456");
  EXPECT_EQ(details.avs_result(), "ADDRESS_MATCH_POSTCODE_MATCH");
  EXPECT_EQ(details.card().card_number(), "44565300****1096");
  EXPECT_EQ(details.card().card_name(), "test");
  EXPECT_EQ(details.card().expiry_date(), "2024-12-31");
  EXPECT_EQ(details.card().card_type(), "VISA");
  EXPECT_EQ(details.card().card_funding_type(), "Unknown");
  EXPECT_EQ(details.card().entry_mode(), "Contactless");
  EXPECT_EQ(details.card().verification_method(), "Pin");
  EXPECT_TRUE(intent.has_billing_address());
  EXPECT_EQ(intent.billing_address().country_code(), "");
  EXPECT_TRUE(intent.shipping_details().has_address());
  EXPECT_THAT(
      intent.merchant_config().supported_payment_methods().card_schemes(),
      ElementsAre("VISA", "MASTERCARD", "MAESTRO", "DISCOVER", "DCI", "AMEX"));
  EXPECT_EQ(intent.captures_size(), 0);
  EXPECT_THAT(intent.metadata(),
              UnorderedElementsAre(Pair("location-id", "202059233225269")));
}

TEST(DojoJsonSpecExamples, RefreshResponse) {
  const v1::PaymentIntent intent = ParseIntentFixture("refresh_response.json");
  EXPECT_EQ(intent.id(), "pi_sandbox_H8tBljY-O0GZZpHA-kC8UQ");
  EXPECT_EQ(intent.status(), v1::PAYMENT_INTENT_STATUS_CREATED);
  EXPECT_THAT(intent.client_session_secret(), HasSubstr("y4I5IegbtuzHR"));
  ExpectTimestamp(intent.client_session_secret_expires_at(), 1707835828, 0);
  ExpectTimestamp(intent.created_at(), 1707834014, 418000000);
  ExpectTimestamp(intent.updated_at(), 1707834028, 296105200);
}

TEST(DojoJsonSpecExamples, PaymentIntentSurvivesWriteAndReread) {
  for (const char* name :
       {"create_response_auto.json", "create_response_manual.json",
        "get_response.json", "refresh_response.json"}) {
    SCOPED_TRACE(name);
    const v1::PaymentIntent first = ParseIntentFixture(name);
    const std::string written = ToDojoJson(first);
    v1::PaymentIntent second;
    ASSERT_TRUE(FromDojoJson(written, second).ok());
    // Writing drops present-but-empty messages (the example's all-empty
    // billingAddress), so compare what each one writes.
    EXPECT_EQ(ParseJson(ToDojoJson(second)), ParseJson(written));
    EXPECT_EQ(second.id(), first.id());
    EXPECT_EQ(second.status(), first.status());
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        second.created_at(), first.created_at()));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        second.merchant_config(), first.merchant_config()));
  }
}

TEST(DojoJsonSpecExamples, RequestExamplesRoundTrip) {
  for (const char* name :
       {"create_request_auto.json", "create_request_manual.json"}) {
    SCOPED_TRACE(name);
    const std::string text = ReadFixture(name);
    v1::CreateIntentRequest request;
    ASSERT_TRUE(FromDojoJson(text, request).ok());
    // Reading is case-insensitive (the Manual example uses PascalCase
    // "AutoExpireAction"); writing emits camelCase.
    const Json original = ParseJson(text);
    Json expected = Json::object();
    for (const auto& [key, value] : original.items()) {
      std::string camel = key;
      camel[0] = static_cast<char>(std::tolower(camel[0]));
      expected[camel] = value;
    }
    EXPECT_EQ(ParseJson(CreatePaymentIntentBody(request)), expected)
        << CreatePaymentIntentBody(request);
  }
}

TEST(DojoJsonSpecExamples, ManualRequestExampleFields) {
  v1::CreateIntentRequest request;
  ASSERT_TRUE(
      FromDojoJson(ReadFixture("create_request_manual.json"), request).ok());
  EXPECT_EQ(request.reference(), "Order 234");
  ExpectMoney(request.amount(), 1000, "GBP");
  EXPECT_EQ(request.capture_mode(), v1::CAPTURE_MODE_MANUAL);
  EXPECT_EQ(request.auto_expire_action(), v1::AUTO_EXPIRE_ACTION_CAPTURE);
  EXPECT_EQ(request.auto_expire_in().seconds(), 55);
}

// ------------------------------------------------------------ timestamps

TEST(DojoJsonTime, FractionalDigitsAndZones) {
  const absl::Time base = absl::FromUnixSeconds(1712532344);
  struct Case {
    const char* text;
    absl::Time want;
  };
  for (const Case& c : {
           Case{"2024-04-07T23:25:44Z", base},
           Case{"2024-04-07T23:25:44.802Z", base + absl::Milliseconds(802)},
           Case{"2024-04-07T23:25:44.8022581Z",
                base + absl::Nanoseconds(802258100)},
           Case{"2024-04-07T23:25:44.802258123Z",
                base + absl::Nanoseconds(802258123)},
           Case{"2024-04-08T00:25:44+01:00", base},
           Case{"2024-04-08T00:25:44.5+01:00", base + absl::Milliseconds(500)},
           Case{"2024-04-07T20:25:44-03:00", base},
           Case{"2024-04-07T23:25:44", base},  // No zone: UTC.
           Case{"2024-04-07T23:25:44.25", base + absl::Milliseconds(250)},
       }) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<absl::Time> parsed = ParseDojoTime(c.text);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, c.want);
  }
}

// Dates checked against the calendar, whichever parser reads them.
TEST(DojoJsonTime, CalendarDates) {
  EXPECT_EQ(*ParseDojoTime("2024-02-29T12:00:00Z"),
            absl::FromCivil(absl::CivilSecond(2024, 2, 29, 12, 0, 0),
                            absl::UTCTimeZone()));
  EXPECT_EQ(*ParseDojoTime("0001-01-01T00:00:00.000000001Z"),
            absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0),
                            absl::UTCTimeZone()) +
                absl::Nanoseconds(1));
  EXPECT_EQ(*ParseDojoTime("9999-12-31T23:59:59.999999999"),
            absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59),
                            absl::UTCTimeZone()) +
                absl::Nanoseconds(999999999));
  for (const char* text : {"2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
                           "2024-04-07T24:00:00Z", "2024-04-07T23:25:44.Z"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(ParseDojoTime(text).ok());
  }
}

TEST(DojoJsonTime, RejectsNonTimes) {
  for (const char* text :
       {"", "yesterday", "2024-04-07", "23:25:44", "2024-13-07T23:25:44Z",
        "2024-04-07 23:25:44Zjunk"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(ParseDojoTime(text).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(DojoJsonTime, RejectsTimesNoTimestampCanHold) {
  // absl's %Y takes any number of digits; google.protobuf.Timestamp ends at
  // 9999-12-31T23:59:59.999999999Z and starts at 0001-01-01.
  for (absl::string_view text :
       {"10000-01-01T00:00:00Z", "99999-12-31T23:59:59Z",
        "0000-12-31T23:59:59Z", "-0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(ParseDojoTime(text).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(ParseDojoTime("9999-12-31T23:59:59.9999999Z").ok());
  EXPECT_TRUE(ParseDojoTime("0001-01-01T00:00:00Z").ok());
}

TEST(DojoJsonTime, OutOfRangeTimestampInAnIntentIsAnError) {
  v1::PaymentIntent intent;
  const absl::Status status = FromDojoJson(
      R"({"id":"pi_1","createdAt":"10000-01-01T00:00:00Z"})", intent);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("createdAt"));
}

TEST(DojoJsonAmounts, PlausibleIntentPasses) {
  v1::PaymentIntent intent;
  ASSERT_TRUE(FromDojoJson(R"({"id":"pi_1",
      "amount":{"value":1000,"currencyCode":"GBP"},
      "totalAmount":{"value":1100,"currencyCode":"GBP"},
      "refundedAmount":0,
      "captures":[{"amount":600,"tipsAmount":100},{"amount":400}]})",
                           intent)
                  .ok());
  EXPECT_TRUE(CheckIntentAmounts(intent).ok());
}

TEST(DojoJsonAmounts, NegativeAmountsAreRefused) {
  for (absl::string_view body : {
           R"({"id":"pi_1","amount":{"value":-1}})",
           R"({"id":"pi_1","totalAmount":{"value":-1}})",
           R"({"id":"pi_1","tipsAmount":{"value":-1}})",
           R"({"id":"pi_1","refundedAmount":-5})",
           R"({"id":"pi_1","captures":[{"amount":-1}]})",
           R"({"id":"pi_1","captures":[{"amount":1,"tipsAmount":-1}]})",
       }) {
    SCOPED_TRACE(body);
    v1::PaymentIntent intent;
    ASSERT_TRUE(FromDojoJson(body, intent).ok());
    EXPECT_EQ(CheckIntentAmounts(intent).code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(DojoJsonAmounts, CapturesThatOverflowInt64AreRefused) {
  v1::PaymentIntent intent;
  // Each value is a valid int64; their sum is not.
  ASSERT_TRUE(FromDojoJson(R"({"id":"pi_1","captures":[
      {"amount":9223372036854775807},{"amount":1}]})",
                           intent)
                  .ok());
  EXPECT_EQ(CheckIntentAmounts(intent).code(),
            absl::StatusCode::kInvalidArgument);
  intent.Clear();
  ASSERT_TRUE(FromDojoJson(R"({"id":"pi_1","captures":[
      {"amount":9223372036854775000,"tipsAmount":9223372036854775000}]})",
                           intent)
                  .ok());
  EXPECT_EQ(CheckIntentAmounts(intent).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DojoJsonAmounts, SearchPagesAreCheckedToo) {
  EXPECT_EQ(ParseSearchPage(R"({"data":[{"id":"pi_1","refundedAmount":-1}]})")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DojoJsonTime, TimestampFieldsInJson) {
  v1::PaymentIntent intent;
  ASSERT_TRUE(FromDojoJson(R"({"createdAt":"2024-04-07T23:25:44Z",
                               "updatedAt":"2024-04-07T23:25:44.123Z",
                               "expireAt":"2024-04-08T00:25:44.123456789+01:00",
                               "clientSessionSecretExpirationDate":
                                   "2024-04-07T23:25:44"})",
                           intent)
                  .ok());
  ExpectTimestamp(intent.created_at(), 1712532344, 0);
  ExpectTimestamp(intent.updated_at(), 1712532344, 123000000);
  ExpectTimestamp(intent.expire_at(), 1712532344, 123456789);
  ExpectTimestamp(intent.client_session_secret_expires_at(), 1712532344, 0);
}

TEST(DojoJsonTime, MinValueSentinelIsAbsentInAnyForm) {
  for (const char* text :
       {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00",
        "0001-01-01T00:00:00.0000000Z", "0001-01-01T00:00:00+00:00"}) {
    SCOPED_TRACE(text);
    v1::PaymentIntent intent;
    const Json json = {{"clientSessionSecretExpirationDate", text},
                       {"createdAt", text}};
    ASSERT_TRUE(FromDojoJson(json.dump(), intent).ok());
    EXPECT_FALSE(intent.has_client_session_secret_expires_at());
    EXPECT_FALSE(intent.has_created_at());
  }
}

// --------------------------------------------------------------- writing

v1::Money MakeMoney(int64_t value, const std::string& currency = "GBP") {
  v1::Money money;
  money.set_value(value);
  money.set_currency_code(currency);
  return money;
}

void FillAddress(v1::Address& address, const std::string& prefix) {
  address.set_address1(prefix + " 1");
  address.set_address2(prefix + " 2");
  address.set_address3(prefix + " 3");
  address.set_address4(prefix + " 4");
  address.set_city("London");
  address.set_state("Greater London");
  address.set_postcode("EC1A 1BB");
  address.set_country_code("GB");
  address.set_locality("Clerkenwell");
  address.set_county("Middlesex");
}

Json AddressJson(const std::string& prefix) {
  return {{"address1", prefix + " 1"}, {"address2", prefix + " 2"},
          {"address3", prefix + " 3"}, {"address4", prefix + " 4"},
          {"city", "London"},          {"state", "Greater London"},
          {"postcode", "EC1A 1BB"},    {"countryCode", "GB"},
          {"locality", "Clerkenwell"}, {"county", "Middlesex"}};
}

// Every field of every group set, none at its default.
v1::CreateIntentRequest FullRequest() {
  v1::CreateIntentRequest r;
  r.set_reference("Order-42");
  *r.mutable_amount() = MakeMoney(1000);
  r.set_description("Two coffees");
  r.add_payment_methods(v1::PAYMENT_METHOD_CARD);
  r.add_payment_methods(v1::PAYMENT_METHOD_WALLET);
  r.add_payment_methods(v1::PAYMENT_METHOD_SAVED_CARD);
  r.set_capture_mode(v1::CAPTURE_MODE_MANUAL);
  *r.mutable_tips_amount() = MakeMoney(100);
  v1::Customer& customer = *r.mutable_customer();
  customer.set_id("cust_1");
  customer.set_email_address("ada@example.com");
  customer.set_phone_number("+441234567890");
  customer.set_secret("cs_secret_1");
  customer.set_saved_card_id("card_1");
  FillAddress(*r.mutable_billing_address(), "Billing");
  r.mutable_shipping_details()->set_name("Ada Lovelace");
  r.mutable_shipping_details()->set_delivery_notes("Leave at the door");
  FillAddress(*r.mutable_shipping_details()->mutable_address(), "Shipping");
  r.set_card_holder_not_present(false);
  v1::CheckoutConfig& config = *r.mutable_config();
  config.set_title("Coffee shop");
  config.set_redirect_url("https://shop.example/done");
  config.set_cancel_url("https://shop.example/cancel");
  config.mutable_customer_email()->set_collection_required(true);
  config.mutable_details()->set_show_total(true);
  config.mutable_details()->set_show_reference(false);
  config.mutable_billing_address()->set_collection_required(false);
  config.mutable_shipping_details()->set_collection_required(true);
  config.mutable_payment()->set_custom_amount_allowed(false);
  config.mutable_payment()->set_tips_allowed(true);
  r.mutable_request_security()->set_user_agent("Mozilla/5.0");
  r.mutable_request_security()->set_ip_address("203.0.113.7");
  r.mutable_request_security()->set_device("iPhone");
  v1::ItemLine& item = *r.add_item_lines();
  item.set_id("sku-1");
  item.set_quantity(2);
  item.set_name("Latte");
  item.set_category("drinks");
  v1::Modifier& modifier = *item.add_modifiers();
  modifier.set_id("mod-1");
  modifier.set_name("Oat milk");
  *modifier.mutable_amount_per_modifier() = MakeMoney(50);
  modifier.set_quantity(2);
  *item.mutable_amount_total() = MakeMoney(800);
  item.set_plu("PLU-1");
  v1::TaxLine& tax = *r.add_tax_lines();
  tax.set_id("vat");
  tax.set_caption("VAT");
  tax.set_sub_caption("20%");
  *tax.mutable_amount_total() = MakeMoney(167);
  tax.set_affected_plu("PLU-1");
  v1::ActionLink& link = *r.mutable_action_link();
  link.set_url("https://shop.example/receipt");
  link.set_action(v1::ACTION_TYPE_OPEN_LINK);
  link.set_label("Receipt");
  link.set_file_name("receipt.pdf");
  r.mutable_expire_at()->set_seconds(1893553445);  // 2030-01-02T03:04:05Z
  // 1 day, 2 hours, 3 minutes, 4 seconds.
  r.mutable_auto_expire_in()->set_seconds(86400 + 2 * 3600 + 3 * 60 + 4);
  r.set_auto_expire_action(v1::AUTO_EXPIRE_ACTION_RELEASE);
  (*r.mutable_metadata())["order_id"] = "42";
  (*r.mutable_metadata())["channel"] = "web";
  r.set_setup_intent_id("si_1");
  v1::OrderDetails& order = *r.mutable_order_details();
  order.mutable_availability_date()->set_seconds(1893553445);
  order.mutable_availability_date()->set_nanos(500000000);
  order.set_is_update(false);
  order.set_id("ord-1");
  order.set_external_id("ext-1");
  *r.mutable_cashback_amount() = MakeMoney(200);
  *r.mutable_service_charge_amount() = MakeMoney(150);
  r.set_generate_remote_token(true);
  // Ours only: never sent to Dojo.
  r.set_account("eu-shop");
  r.set_include_client_session_secret(true);
  return r;
}

Json MoneyJson(int64_t value) {
  return {{"value", value}, {"currencyCode", "GBP"}};
}

TEST(DojoJsonWrite, FullCreateIntentRequest) {
  const Json expected = {
      {"reference", "Order-42"},
      {"amount", MoneyJson(1000)},
      {"description", "Two coffees"},
      {"paymentMethods", {"Card", "Wallet", "SavedCard"}},
      {"captureMode", "Manual"},
      {"tipsAmount", MoneyJson(100)},
      {"customer",
       {{"id", "cust_1"},
        {"emailAddress", "ada@example.com"},
        {"phoneNumber", "+441234567890"},
        {"secret", "cs_secret_1"},
        {"savedCardId", "card_1"}}},
      {"billingAddress", AddressJson("Billing")},
      {"shippingDetails",
       {{"name", "Ada Lovelace"},
        {"deliveryNotes", "Leave at the door"},
        {"address", AddressJson("Shipping")}}},
      {"cardHolderNotPresent", false},
      {"config",
       {{"title", "Coffee shop"},
        {"redirectUrl", "https://shop.example/done"},
        {"cancelUrl", "https://shop.example/cancel"},
        {"customerEmail", {{"collectionRequired", true}}},
        {"details", {{"showTotal", true}, {"showReference", false}}},
        {"billingAddress", {{"collectionRequired", false}}},
        {"shippingDetails", {{"collectionRequired", true}}},
        {"payment", {{"customAmountAllowed", false}, {"tipsAllowed", true}}}}},
      {"requestSecurity",
       {{"userAgent", "Mozilla/5.0"},
        {"ipAddress", "203.0.113.7"},
        {"device", "iPhone"}}},
      {"itemLines",
       Json::array({{{"id", "sku-1"},
                     {"quantity", 2},
                     {"name", "Latte"},
                     {"category", "drinks"},
                     {"modifiers", Json::array({{
                                       {"id", "mod-1"},
                                       {"name", "Oat milk"},
                                       {"amountPerModifier", MoneyJson(50)},
                                       {"quantity", 2},
                                   }})},
                     {"amountTotal", MoneyJson(800)},
                     {"plu", "PLU-1"}}})},
      {"taxLines", Json::array({{{"id", "vat"},
                                 {"caption", "VAT"},
                                 {"subCaption", "20%"},
                                 {"amountTotal", MoneyJson(167)},
                                 {"affectedPlu", "PLU-1"}}})},
      {"actionLink",
       {{"url", "https://shop.example/receipt"},
        {"action", "OpenLink"},
        {"label", "Receipt"},
        {"fileName", "receipt.pdf"}}},
      {"expireAt", "2030-01-02T03:04:05Z"},
      {"autoExpireIn", "1.02:03:04"},
      {"autoExpireAction", "Release"},
      {"metadata", {{"order_id", "42"}, {"channel", "web"}}},
      {"setupIntentId", "si_1"},
      {"orderDetails",
       {{"availabilityDate", "2030-01-02T03:04:05.5Z"},
        {"isUpdate", false},
        {"id", "ord-1"},
        {"externalId", "ext-1"}}},
      {"cashbackAmount", MoneyJson(200)},
      {"serviceChargeAmount", MoneyJson(150)},
      {"generateRemoteToken", true},
  };
  const std::string body = CreatePaymentIntentBody(FullRequest());
  const Json written = ParseJson(body);
  ASSERT_FALSE(written.is_discarded()) << body;
  EXPECT_EQ(written, expected) << "written:\n"
                               << written.dump(2) << "\nexpected:\n"
                               << expected.dump(2);
  // Numbers are JSON numbers, never strings.
  EXPECT_TRUE(written["amount"]["value"].is_number_integer());
  EXPECT_THAT(body, HasSubstr(R"("value":1000)"));
}

// The exact bytes, recorded from the first writer (nlohmann::json's dump()):
// request fingerprints hash them, so a record journaled by an earlier
// version must keep matching its retry. Keys in byte order, no spaces,
// strings escaped only where JSON needs it (control characters as \u00xx,
// everything else, DEL and non-ASCII included, as it is).
TEST(DojoJsonWrite, CanonicalBytesAreStable) {
  v1::CreateIntentRequest r = FullRequest();
  r.set_description(
      std::string("tab\there \"quoted\" back\\slash \x01\x1f\x7f ") +
      "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac");
  (*r.mutable_metadata())["Zeta"] = "upper first";
  (*r.mutable_metadata())["\xc3\xa9t\xc3\xa9"] = "non-ASCII last";
  (*r.mutable_metadata())["a\nb"] = "";
  r.mutable_item_lines(0)->add_modifiers();  // Quantity is always written.
  r.add_tax_lines();                         // An empty element stays: {}.
  r.mutable_config()->mutable_details()->set_show_reference(false);
  r.mutable_order_details()->mutable_availability_date()->set_nanos(123456789);
  EXPECT_EQ(CreatePaymentIntentBody(r),
            R"({"actionLink":{"action":"OpenLink","fileName":"receipt.pdf","l)"
            R"(abel":"Receipt","url":"https://shop.example/receipt"},"amount")"
            R"(:{"currencyCode":"GBP","value":1000},"autoExpireAction":"Relea)"
            R"(se","autoExpireIn":"1.02:03:04","billingAddress":{"address1":")"
            R"(Billing 1","address2":"Billing 2","address3":"Billing 3","addr)"
            R"(ess4":"Billing 4","city":"London","countryCode":"GB","county":)"
            R"("Middlesex","locality":"Clerkenwell","postcode":"EC1A 1BB","st)"
            R"(ate":"Greater London"},"captureMode":"Manual","cardHolderNotPr)"
            R"(esent":false,"cashbackAmount":{"currencyCode":"GBP","value":20)"
            R"(0},"config":{"billingAddress":{"collectionRequired":false},"ca)"
            R"(ncelUrl":"https://shop.example/cancel","customerEmail":{"colle)"
            R"(ctionRequired":true},"details":{"showReference":false,"showTot)"
            R"(al":true},"payment":{"customAmountAllowed":false,"tipsAllowed")"
            R"(:true},"redirectUrl":"https://shop.example/done","shippingDeta)"
            R"(ils":{"collectionRequired":true},"title":"Coffee shop"},"custo)"
            R"(mer":{"emailAddress":"ada@example.com","id":"cust_1","phoneNum)"
            R"(ber":"+441234567890","savedCardId":"card_1","secret":"cs_secre)"
            R"(t_1"},"description":"tab\there \"quoted\" back\\slash \u0001\u)"
            R"(001f)"
            "\x7f"
            R"( caf)"
            "\xc3\xa9"
            R"( )"
            "\xf0\x9f\x98\x80"
            R"( )"
            "\xe2\x82\xac"
            R"(","expireAt":"2030-01-02T03:04:05Z","generateRemoteToken":true)"
            R"(,"itemLines":[{"amountTotal":{"currencyCode":"GBP","value":800)"
            R"(},"category":"drinks","id":"sku-1","modifiers":[{"amountPerMod)"
            R"(ifier":{"currencyCode":"GBP","value":50},"id":"mod-1","name":")"
            R"(Oat milk","quantity":2},{"quantity":0}],"name":"Latte","plu":")"
            R"(PLU-1","quantity":2}],"metadata":{"Zeta":"upper first","a\nb":)"
            R"("","channel":"web","order_id":"42",")"
            "\xc3\xa9"
            R"(t)"
            "\xc3\xa9"
            R"(":"non-ASCII last"},"orderDetails":{"availabilityDate":"2030-0)"
            R"(1-02T03:04:05.123456789Z","externalId":"ext-1","id":"ord-1","i)"
            R"(sUpdate":false},"paymentMethods":["Card","Wallet","SavedCard"])"
            R"(,"reference":"Order-42","requestSecurity":{"device":"iPhone",")"
            R"(ipAddress":"203.0.113.7","userAgent":"Mozilla/5.0"},"serviceCh)"
            R"(argeAmount":{"currencyCode":"GBP","value":150},"setupIntentId")"
            R"(:"si_1","shippingDetails":{"address":{"address1":"Shipping 1",)"
            R"("address2":"Shipping 2","address3":"Shipping 3","address4":"Sh)"
            R"(ipping 4","city":"London","countryCode":"GB","county":"Middles)"
            R"(ex","locality":"Clerkenwell","postcode":"EC1A 1BB","state":"Gr)"
            R"(eater London"},"deliveryNotes":"Leave at the door","name":"Ada)"
            R"( Lovelace"},"taxLines":[{"affectedPlu":"PLU-1","amountTotal":{)"
            R"("currencyCode":"GBP","value":167},"caption":"VAT","id":"vat",")"
            R"(subCaption":"20%"},{}],"tipsAmount":{"currencyCode":"GBP","val)"
            R"(ue":100}})");
}

TEST(DojoJsonWrite, LocalOnlyFieldsAreNeverSent) {
  const std::string body = CreatePaymentIntentBody(FullRequest());
  EXPECT_THAT(body, Not(HasSubstr("account")));
  EXPECT_THAT(body, Not(HasSubstr("eu-shop")));
  EXPECT_THAT(body, Not(HasSubstr("includeClientSessionSecret")));
  EXPECT_THAT(body, Not(HasSubstr("include_client_session_secret")));
}

TEST(DojoJsonWrite, MinimalRequestOmitsUnsetAndEmptyFields) {
  v1::CreateIntentRequest r;
  r.set_reference("Order-1");
  *r.mutable_amount() = MakeMoney(1000);
  r.set_description("");                            // Empty string.
  r.mutable_config();                               // Present but empty.
  r.mutable_customer();                             // Present but empty.
  r.mutable_shipping_details()->mutable_address();  // Nested empty.
  r.mutable_metadata();                             // Empty map.
  r.set_capture_mode(v1::CAPTURE_MODE_UNSPECIFIED);
  r.set_account("");
  EXPECT_EQ(ParseJson(CreatePaymentIntentBody(r)),
            Json({{"reference", "Order-1"}, {"amount", MoneyJson(1000)}}))
      << CreatePaymentIntentBody(r);
}

TEST(DojoJsonWrite, OptionalBoolFalseIsWrittenAndUnsetIsNot) {
  v1::CreateIntentRequest r;
  r.set_reference("Order-1");
  r.set_card_holder_not_present(false);
  r.mutable_config()->mutable_customer_email()->set_collection_required(false);
  r.mutable_config()->mutable_details()->set_show_total(false);
  r.mutable_config()->mutable_billing_address();  // collection_required unset.
  EXPECT_EQ(ParseJson(CreatePaymentIntentBody(r)),
            Json({{"reference", "Order-1"},
                  {"cardHolderNotPresent", false},
                  {"config",
                   {{"customerEmail", {{"collectionRequired", false}}},
                    {"details", {{"showTotal", false}}}}}}))
      << CreatePaymentIntentBody(r);

  r.clear_card_holder_not_present();
  EXPECT_FALSE(
      ParseJson(CreatePaymentIntentBody(r)).contains("cardHolderNotPresent"));
}

TEST(DojoJsonWrite, EnumNames) {
  struct Case {
    v1::CaptureMode capture;
    const char* want;
  };
  for (const Case& c : {Case{v1::CAPTURE_MODE_AUTO, "Auto"},
                        Case{v1::CAPTURE_MODE_MANUAL, "Manual"}}) {
    v1::CreateIntentRequest r;
    r.set_capture_mode(c.capture);
    EXPECT_EQ(ParseJson(CreatePaymentIntentBody(r)),
              Json({{"captureMode", c.want}}));
  }
  v1::CreateIntentRequest r;
  r.set_auto_expire_action(v1::AUTO_EXPIRE_ACTION_CAPTURE);
  r.mutable_action_link()->set_action(v1::ACTION_TYPE_DOWNLOAD_FILE);
  EXPECT_EQ(ParseJson(CreatePaymentIntentBody(r)),
            Json({{"autoExpireAction", "Capture"},
                  {"actionLink", {{"action", "DownloadFile"}}}}));

  v1::PaymentIntent intent;
  intent.set_status(v1::PAYMENT_INTENT_STATUS_REFUNDED);
  intent.add_captures()->set_status(v1::CAPTURE_STATUS_SUCCESSFUL);
  EXPECT_EQ(ParseJson(ToDojoJson(intent)),
            Json({{"status", "Refunded"},
                  {"captures", Json::array({{{"status", "Successful"}}})}}));
}

TEST(DojoJsonWrite, DurationsAsDotNetTimespans) {
  struct Case {
    int64_t seconds;
    int32_t nanos;
    const char* want;
  };
  for (const Case& c :
       {Case{55, 0, "00:00:55"}, Case{30, 0, "00:00:30"},
        Case{3600, 0, "01:00:00"}, Case{86400 + 7384, 0, "1.02:03:04"},
        Case{7 * 86400, 0, "7.00:00:00"},
        Case{90, 500000000, "00:01:30.5000000"}}) {
    v1::CreateIntentRequest r;
    r.mutable_auto_expire_in()->set_seconds(c.seconds);
    r.mutable_auto_expire_in()->set_nanos(c.nanos);
    EXPECT_EQ(ParseJson(CreatePaymentIntentBody(r)),
              Json({{"autoExpireIn", c.want}}));
  }
}

TEST(DojoJsonWrite, TimestampsAsRfc3339Utc) {
  struct Case {
    int64_t seconds;
    int32_t nanos;
    const char* want;
  };
  for (const Case& c : {Case{1893553445, 0, "2030-01-02T03:04:05Z"},
                        Case{1893553445, 120000000, "2030-01-02T03:04:05.12Z"},
                        Case{1893553445, 1, "2030-01-02T03:04:05.000000001Z"},
                        Case{0, 0, "1970-01-01T00:00:00Z"}}) {
    v1::CreateIntentRequest r;
    r.mutable_expire_at()->set_seconds(c.seconds);
    r.mutable_expire_at()->set_nanos(c.nanos);
    EXPECT_EQ(ParseJson(CreatePaymentIntentBody(r)),
              Json({{"expireAt", c.want}}));
  }
}

TEST(DojoJsonWrite, LargeInt64IsAnExactNumber) {
  v1::CreateIntentRequest r;
  *r.mutable_amount() = MakeMoney(9007199254740993);  // 2^53 + 1.
  EXPECT_EQ(CreatePaymentIntentBody(r),
            R"({"amount":{"currencyCode":"GBP","value":9007199254740993}})");
}

// Dojo's Money schema requires both `value` and `currencyCode`. A zero
// amount is legitimate where the validation allows it (a free item line, a
// zero tip), so `value: 0` must still be written.
TEST(DojoJsonWrite, ZeroMoneyValueIsStillWritten) {
  v1::CreateIntentRequest r;
  *r.add_item_lines()->mutable_amount_total() = MakeMoney(0);
  *r.mutable_tips_amount() = MakeMoney(0);
  EXPECT_EQ(ParseJson(CreatePaymentIntentBody(r)),
            Json({{"itemLines", Json::array({{{"amountTotal", MoneyJson(0)}}})},
                  {"tipsAmount", MoneyJson(0)}}))
      << CreatePaymentIntentBody(r);
}

TEST(DojoJsonWrite, ModifierQuantityIsAlwaysWritten) {
  v1::CreateIntentRequest r;
  v1::ItemLine* line = r.add_item_lines();
  *line->mutable_amount_total() = MakeMoney(500);
  v1::Modifier* modifier = line->add_modifiers();
  modifier->set_id("m1");
  modifier->set_name("No cheese");
  *modifier->mutable_amount_per_modifier() = MakeMoney(-50);
  const Json written = ParseJson(CreatePaymentIntentBody(r));
  EXPECT_EQ(written["itemLines"][0]["modifiers"][0],
            Json({{"id", "m1"},
                  {"name", "No cheese"},
                  {"amountPerModifier", MoneyJson(-50)},
                  {"quantity", 0}}));
}

TEST(DojoJsonWrite, RenamedFieldsUseDojoNames) {
  v1::PaymentIntent intent;
  intent.mutable_client_session_secret_expires_at()->set_seconds(1707835828);
  intent.mutable_payment_details()->mutable_card()->set_last4_pan("1096");
  const Json expected = {
      {"clientSessionSecretExpirationDate", "2024-02-13T14:50:28Z"},
      {"paymentDetails", {{"card", {{"last4PAN", "1096"}}}}}};
  EXPECT_EQ(ParseJson(ToDojoJson(intent)), expected);

  v1::PaymentIntent reread;
  ASSERT_TRUE(FromDojoJson(expected.dump(), reread).ok());
  EXPECT_EQ(reread.payment_details().card().last4_pan(), "1096");
  ExpectTimestamp(reread.client_session_secret_expires_at(), 1707835828, 0);
}

// ------------------------------------------- no key Dojo's schema rejects

// Walks `value` and records, per schema path, the object keys written.
void CollectWrittenKeys(const Json& value, const std::string& path,
                        std::map<std::string, std::set<std::string>>& out) {
  if (value.is_array()) {
    for (const Json& element : value) {
      CollectWrittenKeys(element, path + "/*", out);
    }
  } else if (value.is_object()) {
    std::set<std::string>& keys = out[path];
    for (const auto& [key, child] : value.items()) {
      keys.insert(key);
      CollectWrittenKeys(child, path + "/" + key, out);
    }
  }
}

TEST(DojoJsonSchema, EveryWrittenKeyIsAllowedByTheSpec) {
  const Json allowed =
      ParseJson(ReadFixture("create_request_schema_keys.json"));
  ASSERT_TRUE(allowed.is_object());
  const Json written = ParseJson(CreatePaymentIntentBody(FullRequest()));
  std::map<std::string, std::set<std::string>> keys;
  CollectWrittenKeys(written, "", keys);
  for (const auto& [path, names] : keys) {
    SCOPED_TRACE("path \"" + path + "\"");
    ASSERT_TRUE(allowed.contains(path))
        << "an object the spec does not have at this path";
    const Json& allowed_here = allowed[path];
    if (allowed_here == "*") continue;  // Free-form map (metadata).
    const std::set<std::string> permitted(allowed_here.begin(),
                                          allowed_here.end());
    for (const std::string& name : names) {
      EXPECT_TRUE(permitted.count(name)) << "unknown key \"" << name << "\"";
    }
  }
}

// The converse: the full request reaches every property of the spec, so
// every field Dojo accepts has a typed home in our proto.
TEST(DojoJsonSchema, EverySpecPropertyHasAHome) {
  const Json allowed =
      ParseJson(ReadFixture("create_request_schema_keys.json"));
  const Json written = ParseJson(CreatePaymentIntentBody(FullRequest()));
  std::map<std::string, std::set<std::string>> keys;
  CollectWrittenKeys(written, "", keys);
  for (const auto& [path, names] : allowed.items()) {
    SCOPED_TRACE("path \"" + path + "\"");
    if (names == "*") {
      EXPECT_TRUE(keys.count(path));
      continue;
    }
    const std::set<std::string> spec_names(names.begin(), names.end());
    EXPECT_EQ(keys[path], spec_names);
  }
}

// ---------------------------------------------------------------- reading

TEST(DojoJsonRead, NamesAreCaseInsensitive) {
  v1::CreateIntentRequest r;
  ASSERT_TRUE(FromDojoJson(R"({"REFERENCE":"Order-1",
                               "Amount":{"Value":5,"CURRENCYCODE":"EUR"},
                               "paymentmethods":["savedcard","WALLET"]})",
                           r)
                  .ok());
  EXPECT_EQ(r.reference(), "Order-1");
  ExpectMoney(r.amount(), 5, "EUR");
  EXPECT_THAT(r.payment_methods(), ElementsAre(v1::PAYMENT_METHOD_SAVED_CARD,
                                               v1::PAYMENT_METHOD_WALLET));
}

TEST(DojoJsonRead, NullsAndUnknownKeysAreIgnored) {
  v1::PaymentIntent intent;
  ASSERT_TRUE(FromDojoJson(R"({"id":"pi_1","description":null,
                               "amount":null,"metadata":{"a":"1","b":null},
                               "brandNewField":{"x":[1,2,3]},
                               "paymentEvents":[{"eventType":"Captured"}]})",
                           intent)
                  .ok());
  EXPECT_EQ(intent.id(), "pi_1");
  EXPECT_FALSE(intent.has_amount());
  EXPECT_THAT(intent.metadata(), UnorderedElementsAre(Pair("a", "1")));
}

// A key given twice takes its last value, whatever the field holds (Dojo,
// in .NET, reads JSON the same way); a map key entered twice is written once.
TEST(DojoJsonRead, ARepeatedKeyTakesItsLastValue) {
  v1::PaymentIntent intent;
  ASSERT_TRUE(FromDojoJson(R"({"id":"pi_1","ID":"pi_2",
                               "amount":{"value":5,"currencyCode":"EUR"},
                               "amount":{"value":7},
                               "paymentMethods":["Card","Wallet"],
                               "paymentMethods":["SavedCard"],
                               "metadata":{"a":"1","b":"2"},
                               "metadata":{"c":"3","c":"4"}})",
                           intent)
                  .ok());
  EXPECT_EQ(intent.id(), "pi_2");
  ExpectMoney(intent.amount(), 7, "");
  EXPECT_THAT(intent.payment_methods(),
              ElementsAre(v1::PAYMENT_METHOD_SAVED_CARD));
  EXPECT_THAT(intent.metadata(), UnorderedElementsAre(Pair("c", "4")));
  EXPECT_THAT(ToDojoJson(intent), HasSubstr(R"("metadata":{"c":"4"})"));
}

// A document that is not JSON is reported as such even when a value before
// the syntax error already had the wrong type.
TEST(DojoJsonRead, ASyntaxErrorWinsOverAWrongType) {
  v1::PaymentIntent intent;
  EXPECT_EQ(
      FromDojoJson(R"({"amount":{"value":"x"}, "id": )", intent).message(),
      "dojo json: not valid JSON");
  EXPECT_EQ(FromDojoJson(R"({"amount":{"value":"x"}, "id":"pi_1"})", intent)
                .message(),
            "dojo json: amount.value is not an integer");
}

TEST(DojoJsonRead, LenientNumbers) {
  v1::PaymentIntent intent;
  ASSERT_TRUE(FromDojoJson(R"({"amount":{"value":"1000"},
                               "totalAmount":{"value":1000.0},
                               "refundedAmount":-5,
                               "id":12345})",
                           intent)
                  .ok());
  EXPECT_EQ(intent.amount().value(), 1000);
  EXPECT_EQ(intent.total_amount().value(), 1000);
  EXPECT_EQ(intent.refunded_amount(), -5);
  EXPECT_EQ(intent.id(), "12345");
}

TEST(DojoJsonRead, UnknownEnumStringsAreUnspecified) {
  v1::PaymentIntent intent;
  ASSERT_TRUE(FromDojoJson(R"({"status":"Pending","captureMode":"Later",
                               "paymentMethods":["Card","Crypto"],
                               "autoExpireAction":""})",
                           intent)
                  .ok());
  EXPECT_EQ(intent.status(), v1::PAYMENT_INTENT_STATUS_UNSPECIFIED);
  EXPECT_EQ(intent.capture_mode(), v1::CAPTURE_MODE_UNSPECIFIED);
  EXPECT_THAT(
      intent.payment_methods(),
      ElementsAre(v1::PAYMENT_METHOD_CARD, v1::PAYMENT_METHOD_UNSPECIFIED));
  EXPECT_EQ(intent.auto_expire_action(), v1::AUTO_EXPIRE_ACTION_UNSPECIFIED);
}

TEST(DojoJsonRead, EnumFromDojoName) {
  const auto& methods = *v1::PaymentMethod_descriptor();
  EXPECT_EQ(EnumFromDojoName(methods, "SavedCard"),
            v1::PAYMENT_METHOD_SAVED_CARD);
  EXPECT_EQ(EnumFromDojoName(methods, "savedcard"),
            v1::PAYMENT_METHOD_SAVED_CARD);
  EXPECT_EQ(EnumFromDojoName(methods, "Card"), v1::PAYMENT_METHOD_CARD);
  EXPECT_EQ(EnumFromDojoName(methods, "Wallet"), v1::PAYMENT_METHOD_WALLET);
  EXPECT_EQ(EnumFromDojoName(methods, "Unspecified"),
            v1::PAYMENT_METHOD_UNSPECIFIED);
  EXPECT_EQ(EnumFromDojoName(methods, "SAVED_CARD"),
            v1::PAYMENT_METHOD_UNSPECIFIED);
  EXPECT_EQ(EnumFromDojoName(methods, ""), v1::PAYMENT_METHOD_UNSPECIFIED);
  const auto& statuses = *v1::PaymentIntentStatus_descriptor();
  EXPECT_EQ(EnumFromDojoName(statuses, "Canceled"),
            v1::PAYMENT_INTENT_STATUS_CANCELED);
  EXPECT_EQ(EnumFromDojoName(statuses, "Authorized"),
            v1::PAYMENT_INTENT_STATUS_AUTHORIZED);
  EXPECT_EQ(EnumFromDojoName(*v1::ActionType_descriptor(), "OpenLink"),
            v1::ACTION_TYPE_OPEN_LINK);
}

struct WrongTypeCase {
  const char* json;
  const char* path;
};

class DojoJsonWrongType : public ::testing::TestWithParam<WrongTypeCase> {};

TEST_P(DojoJsonWrongType, InvalidArgumentNamingThePath) {
  v1::CreateIntentRequest r;
  const absl::Status status = FromDojoJson(GetParam().json, r);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr(GetParam().path));
  // The value itself is never echoed.
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("s3cr3t")));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DojoJsonWrongType,
    ::testing::Values(
        WrongTypeCase{R"({"amount":{"value":{"s3cr3t":1}}})", "amount.value"},
        WrongTypeCase{R"({"amount":{"value":"s3cr3t"}})", "amount.value"},
        WrongTypeCase{R"({"amount":{"value":10.5}})", "amount.value"},
        WrongTypeCase{R"({"amount":{"value":true}})", "amount.value"},
        WrongTypeCase{R"({"amount":{"value":18446744073709551615}})",
                      "amount.value"},
        WrongTypeCase{R"({"amount":"s3cr3t"})", "amount"},
        WrongTypeCase{R"({"reference":{"s3cr3t":true}})", "reference"},
        WrongTypeCase{R"({"cardHolderNotPresent":"s3cr3t"})",
                      "cardHolderNotPresent"},
        WrongTypeCase{R"({"captureMode":7})", "captureMode"},
        WrongTypeCase{R"({"paymentMethods":"Card"})", "paymentMethods"},
        WrongTypeCase{R"({"itemLines":[{"amountTotal":{"value":[1]}}]})",
                      "itemLines[0].amountTotal.value"},
        WrongTypeCase{R"({"itemLines":[{},{"quantity":"s3cr3t"}]})",
                      "itemLines[1].quantity"},
        WrongTypeCase{R"({"itemLines":[{"quantity":4294967296}]})",
                      "itemLines[0].quantity"},
        WrongTypeCase{R"({"metadata":["s3cr3t"]})", "metadata"},
        WrongTypeCase{R"({"metadata":{"k":{"s3cr3t":1}}})", "metadata.k"},
        WrongTypeCase{R"({"expireAt":"s3cr3t"})", "expireAt"},
        WrongTypeCase{R"({"expireAt":12})", "expireAt"},
        WrongTypeCase{R"({"autoExpireIn":"s3cr3t"})", "autoExpireIn"},
        WrongTypeCase{
            R"({"config":{"customerEmail":{"collectionRequired":1}}})",
            "config.customerEmail.collectionRequired"}));

TEST(DojoJsonRead, InvalidJsonIsInvalidArgument) {
  for (const char* text : {"", "{", "not json", R"({"a":})", "[1,2"}) {
    SCOPED_TRACE(text);
    v1::PaymentIntent intent;
    EXPECT_EQ(FromDojoJson(text, intent).code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(DojoJsonRead, TopLevelMustBeAnObject) {
  for (const char* text : {"[]", "42", R"("pi_1")", "null", "true"}) {
    SCOPED_TRACE(text);
    v1::PaymentIntent intent;
    EXPECT_EQ(FromDojoJson(text, intent).code(),
              absl::StatusCode::kInvalidArgument);
  }
}

// -------------------------------------------------------------- timespans

TEST(DojoJsonTimespan, Format) {
  EXPECT_EQ(FormatTimespan(absl::Seconds(55)), "00:00:55");
  EXPECT_EQ(FormatTimespan(absl::ZeroDuration()), "00:00:00");
  EXPECT_EQ(
      FormatTimespan(absl::Hours(26) + absl::Minutes(3) + absl::Seconds(4)),
      "1.02:03:04");
  EXPECT_EQ(FormatTimespan(absl::Hours(24 * 7)), "7.00:00:00");
  EXPECT_EQ(
      FormatTimespan(absl::Hours(23) + absl::Minutes(59) + absl::Seconds(59)),
      "23:59:59");
  EXPECT_EQ(FormatTimespan(absl::Hours(24 * 30)), "30.00:00:00");
  // Fractions in .NET ticks (100 ns), seven digits.
  EXPECT_EQ(FormatTimespan(absl::Milliseconds(1500)), "00:00:01.5000000");
  EXPECT_EQ(FormatTimespan(absl::Nanoseconds(100)), "00:00:00.0000001");
  EXPECT_EQ(FormatTimespan(absl::Nanoseconds(99)), "00:00:00");
  // Negative durations clamp to zero.
  EXPECT_EQ(FormatTimespan(-absl::Seconds(5)), "00:00:00");
}

TEST(DojoJsonTimespan, Parse) {
  struct Case {
    const char* text;
    absl::Duration want;
  };
  for (const Case& c : {
           Case{"00:00:55", absl::Seconds(55)},
           Case{"00:00:00", absl::ZeroDuration()},
           Case{"1.02:03:04",
                absl::Hours(26) + absl::Minutes(3) + absl::Seconds(4)},
           Case{"7.00:00:00", absl::Hours(24 * 7)},
           Case{"23:59:59",
                absl::Hours(23) + absl::Minutes(59) + absl::Seconds(59)},
           Case{"00:00:01.5", absl::Milliseconds(1500)},
           Case{"00:00:01.5000000", absl::Milliseconds(1500)},
           Case{"00:00:00.0000001", absl::Nanoseconds(100)},
           Case{"00:00:00.123456789", absl::Nanoseconds(123456789)},
           Case{"2.00:00:00.25", absl::Hours(48) + absl::Milliseconds(250)},
       }) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<absl::Duration> parsed = ParseTimespan(c.text);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, c.want);
  }
}

TEST(DojoJsonTimespan, ParseRejects) {
  for (const char* text :
       {"", "55", "00:55", "1:2:3:4", "abc", "24:00:00", "00:60:00", "00:00:60",
        "-1.00:00:00", "00:00:-5", "1.:00:00", "x.00:00:00",
        "00:00:01.1234567890", "00:00:01.5x", "P1D"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(ParseTimespan(text).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

// absl::SimpleAtoi accepts a sign, so "-00:00:05" (minus five seconds in
// .NET) would read as plus five, and a signed fraction shifts the value.
// Every component must be plain digits.
TEST(DojoJsonTimespan, ParseRejectsSignsInsideComponents) {
  for (const char* text : {"-00:00:05", "+00:00:05", "00:+1:00", "00:00:01.-5",
                           "00:00:01.+5", "+1.00:00:00"}) {
    SCOPED_TRACE(text);
    absl::StatusOr<absl::Duration> parsed = ParseTimespan(text);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << "parsed as " << (parsed.ok() ? absl::FormatDuration(*parsed) : "");
  }
}

TEST(DojoJsonTimespan, FormatThenParseIsIdentity) {
  for (absl::Duration d :
       {absl::Seconds(30), absl::Seconds(55), absl::Hours(24 * 7),
        absl::Hours(49) + absl::Seconds(1) + absl::Nanoseconds(300),
        absl::Milliseconds(123)}) {
    absl::StatusOr<absl::Duration> parsed = ParseTimespan(FormatTimespan(d));
    ASSERT_TRUE(parsed.ok()) << FormatTimespan(d);
    EXPECT_EQ(*parsed, d) << FormatTimespan(d);
  }
}

}  // namespace
}  // namespace payments::dojo
