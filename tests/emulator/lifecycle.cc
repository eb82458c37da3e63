#include "tests/emulator/lifecycle.h"

#include "tests/emulator/random_ids.h"

namespace dojo_emulator {
namespace {

int64_t IntOr(const Json& object, const char* name, int64_t fallback) {
  auto it = object.find(name);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>()
                                                       : fallback;
}

void Touch(Json& intent, TimePoint now) {
  intent["updatedAt"] = FormatTimestamp(now);
}

Json& Captures(Json& intent) {
  if (!intent.contains("captures") || !intent["captures"].is_array()) {
    intent["captures"] = Json::array();
  }
  return intent["captures"];
}

// Sets object[name] = value, placing a new key right after `after` (the
// field order of Dojo's documents) instead of at the end.
void SetAfter(Json& object, const char* after, const char* name, Json value) {
  if (object.contains(name) || !object.contains(after)) {
    object[name] = std::move(value);
    return;
  }
  Json out = Json::object();
  for (auto& [key, item] : object.items()) {
    out[key] = std::move(item);
    if (key == after) out[name] = value;
  }
  object = std::move(out);
}

int64_t MoneyValueOf(const Json& intent, const char* name) {
  auto it = intent.find(name);
  if (it == intent.end() || !it->is_object()) return 0;
  return IntOr(*it, "value", 0);
}

}  // namespace

int64_t AuthorizedAmount(const Json& intent) {
  auto total = intent.find("totalAmount");
  if (total == intent.end() || !total->is_object()) return 0;
  return IntOr(*total, "value", 0);
}

int64_t CapturedAmount(const Json& intent) {
  auto captures = intent.find("captures");
  if (captures == intent.end() || !captures->is_array()) return 0;
  int64_t sum = 0;
  for (const Json& capture : *captures) {
    if (capture.value("status", "") == "Successful") {
      sum += IntOr(capture, "amount", 0);
    }
  }
  return sum;
}

int64_t RefundedAmount(const Json& intent) {
  return IntOr(intent, "refundedAmount", 0);
}

bool IsManualCapture(const Json& intent) {
  return intent.value("captureMode", "") == "Manual";
}

bool CustomAmountAllowed(const Json& intent) {
  auto config = intent.find("config");
  if (config == intent.end() || !config->is_object()) return false;
  auto payment = config->find("payment");
  if (payment == config->end() || !payment->is_object()) return false;
  auto allowed = payment->find("customAmountAllowed");
  return allowed != payment->end() && allowed->is_boolean() &&
         allowed->get<bool>();
}

void AddPaymentDetails(Json& intent, TimePoint now) {
  if (intent.contains("paymentDetails")) return;
  // Where Dojo puts it: right after clientSessionSecretExpirationDate.
  SetAfter(intent, "clientSessionSecretExpirationDate", "paymentDetails",
           {{"transactionId", "tr_" + RandomBase64Url(22)},
            {"transactionDateTime", FormatTimestamp(now)},
            {"message", "Payment successful"},
            {"authCode", RandomHex(6)},
            {"card",
             {{"cardNumber", "4***********0119"},
              {"cardName", "TEST CARDHOLDER"},
              {"expiryDate", "12/30"},
              {"cardType", "VISA"},
              {"last4PAN", "0119"}}},
            {"avsResult", "FULL_MATCH"}});
}

void Authorize(Json& intent, TimePoint now) {
  AddPaymentDetails(intent, now);
  intent["status"] = "Authorized";
  Touch(intent, now);
  if (!IsManualCapture(intent)) {
    int64_t rest = AuthorizedAmount(intent) - CapturedAmount(intent);
    if (rest > 0) AppendCapture(intent, rest, std::nullopt, now);
    intent["status"] = "Captured";
  }
}

Json NewCapture(int64_t amount, std::optional<int64_t> tips_amount,
                TimePoint now) {
  Json capture = Json::object();
  capture["id"] = NewCaptureId();
  capture["amount"] = amount;
  if (tips_amount) capture["tipsAmount"] = *tips_amount;
  capture["status"] = "Successful";
  capture["createdAt"] = FormatTimestamp(now);
  return capture;
}

void AddCapture(Json& intent, Json capture, TimePoint now) {
  Captures(intent).push_back(std::move(capture));
  if (CapturedAmount(intent) >= AuthorizedAmount(intent)) {
    intent["status"] = "Captured";
  }
  Touch(intent, now);
}

Json AppendCapture(Json& intent, int64_t amount,
                   std::optional<int64_t> tips_amount, TimePoint now) {
  Json capture = NewCapture(amount, tips_amount, now);
  AddCapture(intent, capture, now);
  return capture;
}

void ChangeAmount(Json& intent, const Json& request, TimePoint now) {
  if (!intent.contains("requestedAmount")) {
    SetAfter(intent, "amount", "requestedAmount", intent["amount"]);
  }
  intent["amount"] = request["amount"];
  int64_t total = request["amount"]["value"].get<int64_t>() +
                  MoneyValueOf(intent, "tipsAmount") +
                  MoneyValueOf(intent, "cashbackAmount") +
                  MoneyValueOf(intent, "serviceChargeAmount");
  intent["totalAmount"] = {{"value", total},
                           {"currencyCode", request["amount"]["currencyCode"]}};
  for (const char* lines : {"itemLines", "taxLines"}) {
    auto it = request.find(lines);
    if (it != request.end() && !it->is_null()) intent[lines] = *it;
  }
  Touch(intent, now);
}

void Reverse(Json& intent, TimePoint now) {
  intent["status"] = "Reversed";
  Touch(intent, now);
}

void ApplyRefund(StoredIntent& intent, RefundRecord refund, TimePoint now) {
  int64_t refunded = RefundedAmount(intent.body) + refund.amount;
  intent.body["refundedAmount"] = refunded;
  if (refunded >= CapturedAmount(intent.body)) {
    intent.body["status"] = "Refunded";
  }
  Touch(intent.body, now);
  intent.refunds.push_back(std::move(refund));
}

Json RefundBody(const std::string& payment_intent_id,
                const RefundRecord& refund) {
  Json body = Json::object();
  body["paymentIntentId"] = payment_intent_id;
  body["refundId"] = refund.refund_id;
  body["refundReason"] = refund.refund_reason;
  body["notes"] = refund.notes;
  return body;
}

std::string AutoExpireActionOf(const Json& intent) {
  auto it = intent.find("autoExpireAction");
  return it != intent.end() && it->is_string() ? it->get<std::string>()
                                               : "Release";
}

std::chrono::seconds AutoExpireInOf(const Json& intent) {
  auto it = intent.find("autoExpireIn");
  if (it != intent.end() && it->is_string()) {
    if (auto span = ParseTimeSpan(it->get<std::string>())) return *span;
  }
  return std::chrono::hours(24 * 7);
}

bool ApplyAutoExpiry(Json& intent, TimePoint now) {
  if (intent.value("status", "") != "Authorized" || !IsManualCapture(intent)) {
    return false;
  }
  const int64_t captured = CapturedAmount(intent);
  if (AutoExpireActionOf(intent) == "Capture") {
    int64_t rest = AuthorizedAmount(intent) - captured;
    if (rest > 0) AppendCapture(intent, rest, std::nullopt, now);
    intent["status"] = "Captured";
  } else if (captured == 0) {
    intent["status"] = "Reversed";
  } else {
    intent["status"] = "Captured";  // the rest of the hold is released
  }
  Touch(intent, now);
  return true;
}

}  // namespace dojo_emulator
