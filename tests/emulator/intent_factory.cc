#include "tests/emulator/intent_factory.h"

#include "tests/emulator/lifecycle.h"
#include "tests/emulator/random_ids.h"

namespace dojo_emulator {
namespace {

// Request fields echoed back unchanged when present and not null.
constexpr const char* kEchoedFields[] = {"billingAddress",
                                         "shippingDetails",
                                         "config",
                                         "metadata",
                                         "tipsAmount",
                                         "cashbackAmount",
                                         "serviceChargeAmount",
                                         "actionLink",
                                         "orderDetails",
                                         "autoExpireIn",
                                         "autoExpireAction",
                                         "requestSecurity",
                                         "setupIntentId"};

const Json* Present(const Json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

int64_t MoneyValue(const Json& request, const char* name) {
  const Json* money = Present(request, name);
  if (!money) return 0;
  return (*money)["value"].get<int64_t>();
}

}  // namespace

bool IsPaymentIntentStatus(const std::string& status) {
  return status == "Created" || status == "Authorized" ||
         status == "Captured" || status == "Reversed" || status == "Refunded" ||
         status == "Canceled";
}

Json BuildPaymentIntent(const std::string& id, const Json& request,
                        TimePoint now) {
  const std::string now_text = FormatTimestamp(now);
  Json intent = Json::object();
  intent["id"] = id;
  intent["captureMode"] =
      Present(request, "captureMode") ? request["captureMode"] : Json("Auto");
  intent["cardHolderNotPresent"] = Present(request, "cardHolderNotPresent")
                                       ? request["cardHolderNotPresent"]
                                       : Json(false);
  intent["clientSessionSecretExpirationDate"] = "0001-01-01T00:00:00Z";
  intent["status"] = "Created";
  intent["paymentMethods"] = Present(request, "paymentMethods")
                                 ? request["paymentMethods"]
                                 : Json::array({"Card"});
  intent["amount"] = request["amount"];
  int64_t total = request["amount"]["value"].get<int64_t>() +
                  MoneyValue(request, "tipsAmount") +
                  MoneyValue(request, "cashbackAmount") +
                  MoneyValue(request, "serviceChargeAmount");
  intent["totalAmount"] = {{"value", total},
                           {"currencyCode", request["amount"]["currencyCode"]}};
  intent["refundedAmount"] = 0;
  if (const Json* customer = Present(request, "customer")) {
    Json echoed = Json::object();
    for (const char* field : {"id", "emailAddress", "phoneNumber"}) {
      if (customer->contains(field)) echoed[field] = (*customer)[field];
    }
    intent["customer"] = echoed;
  }
  intent["createdAt"] = now_text;
  intent["updatedAt"] = now_text;
  intent["reference"] = request["reference"];
  if (const Json* description = Present(request, "description")) {
    intent["description"] = *description;
  }
  intent["itemLines"] =
      Present(request, "itemLines") ? request["itemLines"] : Json::array();
  intent["taxLines"] =
      Present(request, "taxLines") ? request["taxLines"] : Json::array();
  for (const char* field : kEchoedFields) {
    if (const Json* value = Present(request, field)) intent[field] = *value;
  }
  intent["expireAt"] =
      Present(request, "expireAt")
          ? Json(FormatTimestamp(
                *ParseTimestamp(request["expireAt"].get<std::string>())))
          : Json(FormatTimestamp(now + std::chrono::hours(24 * 30)));
  intent["merchantConfig"] = {{"supportedPaymentMethods",
                               {{"cardSchemes", {"VISA", "MASTERCARD"}},
                                {"wallets", {"APPLE_PAY", "GOOGLE_PAY"}}}}};
  intent["paymentLink"] = "https://pay.dojo.tech:443/checkout/" + id;
  intent["captures"] = Json::array();
  // Not in the spec, but real responses carry them; clients must cope.
  intent["paymentSource"] = "api";
  intent["paymentEvents"] = Json::array();
  return intent;
}

void ApplyStatus(Json& intent, const std::string& status, TimePoint now) {
  if (status == "Authorized" || status == "Captured" || status == "Reversed" ||
      status == "Refunded") {
    AddPaymentDetails(intent, now);
  }
  if ((status == "Captured" || status == "Refunded") &&
      CapturedAmount(intent) == 0 && AuthorizedAmount(intent) > 0) {
    AppendCapture(intent, AuthorizedAmount(intent), std::nullopt, now);
  }
  if (status == "Refunded") intent["refundedAmount"] = CapturedAmount(intent);
  intent["status"] = status;
  intent["updatedAt"] = FormatTimestamp(now);
}

}  // namespace dojo_emulator
