#include "lib/payments/fingerprint.h"

#include "gtest/gtest.h"

namespace payments {
namespace {

v1::CreateIntentRequest Base() {
  v1::CreateIntentRequest request;
  request.set_reference("Order-1");
  request.mutable_amount()->set_value(1000);
  request.mutable_amount()->set_currency_code("GBP");
  request.set_description("Two coffees");
  (*request.mutable_metadata())["a"] = "1";
  (*request.mutable_metadata())["b"] = "2";
  return request;
}

TEST(FingerprintTest, IsAStableVersionedSha256Hex) {
  const std::string fingerprint = CreateFingerprint(Base());
  EXPECT_EQ(fingerprint.substr(0, 3), "v1:");
  EXPECT_EQ(fingerprint.size(), 3u + 64u);
  EXPECT_EQ(fingerprint, CreateFingerprint(Base()));
}

// Recorded from the writer that journaled records were made with: a record
// journaled by an earlier version must keep matching its retries.
TEST(FingerprintTest, HasNotChanged) {
  EXPECT_EQ(
      CreateFingerprint(Base()),
      "v1:69948bd438c4fdc7877f0fd3e2d46c4b352070d5678d7b8e0064b1d7ca4d9a0c");
}

TEST(FingerprintTest, RecordsFromBeforeVersioningStillMatch) {
  const std::string current = CreateFingerprint(Base());
  EXPECT_TRUE(SameFingerprint(current, current));
  EXPECT_TRUE(SameFingerprint(current.substr(3), current));
  v1::CreateIntentRequest other = Base();
  other.set_description("Three coffees");
  EXPECT_FALSE(SameFingerprint(CreateFingerprint(other).substr(3), current));
  EXPECT_FALSE(SameFingerprint("v2:" + current.substr(3), current));
}

TEST(IsIntentOfTest, ReferenceAmountAndCurrencyMustAllMatch) {
  const v1::CreateIntentRequest request = Base();
  const std::string params = CreateParams(request);
  EXPECT_EQ(params, "1000 GBP");
  v1::PaymentIntent intent;
  intent.set_reference("Order-1");
  intent.mutable_amount()->set_value(1000);
  intent.mutable_amount()->set_currency_code("GBP");
  EXPECT_TRUE(IsIntentOf(intent, "Order-1", params));
  EXPECT_FALSE(IsIntentOf(intent, "Order-2", params));
  intent.mutable_amount()->set_value(1001);
  EXPECT_FALSE(IsIntentOf(intent, "Order-1", params));
  intent.mutable_amount()->set_value(1000);
  intent.mutable_amount()->set_currency_code("EUR");
  EXPECT_FALSE(IsIntentOf(intent, "Order-1", params));
  // A migrated record has no params: the reference decides.
  EXPECT_TRUE(IsIntentOf(intent, "Order-1", ""));
  EXPECT_FALSE(IsIntentOf(intent, "Order-2", ""));
}

TEST(FingerprintTest, BusinessParametersChangeIt) {
  const std::string base = CreateFingerprint(Base());
  auto changed = [&](auto mutate) {
    v1::CreateIntentRequest request = Base();
    mutate(request);
    return CreateFingerprint(request) != base;
  };
  EXPECT_TRUE(changed([](auto& r) { r.mutable_amount()->set_value(1001); }));
  EXPECT_TRUE(
      changed([](auto& r) { r.mutable_amount()->set_currency_code("EUR"); }));
  EXPECT_TRUE(changed([](auto& r) { r.set_description("Three coffees"); }));
  EXPECT_TRUE(changed([](auto& r) { r.set_reference("Order-2"); }));
  EXPECT_TRUE(
      changed([](auto& r) { r.set_capture_mode(v1::CAPTURE_MODE_MANUAL); }));
  EXPECT_TRUE(changed([](auto& r) { (*r.mutable_metadata())["a"] = "9"; }));
  EXPECT_TRUE(changed(
      [](auto& r) { r.mutable_customer()->set_email_address("a@b.example"); }));
}

TEST(FingerprintTest, PerAttemptAndPresentationFieldsDoNot) {
  const std::string base = CreateFingerprint(Base());
  v1::CreateIntentRequest request = Base();
  request.set_account("second");
  request.set_include_client_session_secret(true);
  request.mutable_expire_at()->set_seconds(1900000000);
  request.mutable_request_security()->set_ip_address("203.0.113.7");
  request.mutable_customer()->set_secret("cs_secret");
  EXPECT_EQ(CreateFingerprint(request), base);
}

TEST(FingerprintTest, MapOrderDoesNotMatter) {
  v1::CreateIntentRequest a = Base();
  v1::CreateIntentRequest b = Base();
  b.mutable_metadata()->clear();
  (*b.mutable_metadata())["b"] = "2";
  (*b.mutable_metadata())["a"] = "1";
  EXPECT_EQ(CreateFingerprint(a), CreateFingerprint(b));
}

}  // namespace
}  // namespace payments
