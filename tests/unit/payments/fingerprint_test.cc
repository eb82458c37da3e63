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

TEST(FingerprintTest, IsAStableSha256Hex) {
  const std::string fingerprint = CreateFingerprint(Base());
  EXPECT_EQ(fingerprint.size(), 64u);
  EXPECT_EQ(fingerprint, CreateFingerprint(Base()));
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
