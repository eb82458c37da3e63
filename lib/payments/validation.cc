#include "lib/payments/validation.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/common/status_details.h"
#include "lib/common/timestamp_range.h"
#include "lib/common/utf8.h"
#include "lib/dojo/dojo_client.h"

namespace payments {
namespace {

// Collects violations while walking a request.
class Violations {
 public:
  void Add(std::string field, std::string description) {
    list_.push_back({std::move(field), std::move(description)});
  }

  // Dojo counts characters as .NET does (UTF-16 code units), so 60 "€"
  // (180 bytes) fit a 60-character limit and an emoji counts 2.
  void MaxLength(const std::string& field, absl::string_view value,
                 size_t max) {
    // Text that is not UTF-8 is reported once, by Utf8().
    const std::optional<size_t> length = utf8::Utf16Length(value);
    if (length.has_value() && *length > max) {
      Add(field, absl::StrCat("must be at most ", max, " characters"));
    }
  }

  // Every string field of `message`, at any depth, must be valid UTF-8.
  // (gRPC refuses such bytes before we see them; this guards callers that
  // build requests in process.)
  void Utf8(const google::protobuf::Message& message,
            const std::string& prefix = "") {
    using google::protobuf::FieldDescriptor;
    const google::protobuf::Reflection& r = *message.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    r.ListFields(message, &fields);
    for (const FieldDescriptor* field : fields) {
      // Paths are built only where they are needed: an error, or a message
      // to walk into.
      const auto path_at = [&](int i) {
        return field->is_repeated() && !field->is_map()
                   ? absl::StrCat(prefix, field->name(), "[", i, "]")
                   : absl::StrCat(prefix, field->name());
      };
      const int count = field->is_repeated() ? r.FieldSize(message, field) : 1;
      for (int i = 0; i < count; ++i) {
        if (field->type() == FieldDescriptor::TYPE_STRING) {
          std::string scratch;
          const std::string& text =
              field->is_repeated()
                  ? r.GetRepeatedStringReference(message, field, i, &scratch)
                  : r.GetStringReference(message, field, &scratch);
          if (!utf8::IsValid(text)) Add(path_at(i), "must be valid UTF-8");
        } else if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
          const google::protobuf::Message& child =
              field->is_repeated() ? r.GetRepeatedMessage(message, field, i)
                                   : r.GetMessage(message, field);
          Utf8(child, field->is_map() ? absl::StrCat(prefix, field->name(), ".")
                                      : path_at(i) + ".");
        }
      }
    }
  }

  // A Timestamp every protobuf runtime (and Dojo) accepts.
  void Timestamp(const std::string& field,
                 const google::protobuf::Timestamp& time) {
    if (!IsValidTimestamp(time.seconds(), time.nanos())) {
      Add(field,
          "must be a valid timestamp between 0001-01-01 and 9999-12-31 UTC");
    }
  }

  enum class Sign { kPositive, kNonNegative, kAny };

  // A required amount of the given sign in a currency Dojo accepts.
  void Money(const std::string& field, const v1::Money& money, Sign sign) {
    if (sign == Sign::kPositive && money.value() <= 0) {
      Add(field + ".value",
          "must be greater than zero (minor units, e.g. 1000 = 10.00)");
    } else if (sign == Sign::kNonNegative && money.value() < 0) {
      Add(field + ".value", "must not be negative");
    }
    if (money.currency_code().empty()) {
      Add(field + ".currency_code", "is required (GBP or EUR)");
    } else if (!IsSupportedCurrency(money.currency_code())) {
      Add(field + ".currency_code", "must be GBP or EUR");
    }
  }

  void AbsoluteUrl(const std::string& field, absl::string_view url,
                   bool required) {
    if (url.empty()) {
      if (required) Add(field, "is required");
      return;
    }
    const std::optional<size_t> length = utf8::Utf16Length(url);
    if (!length.has_value() || *length > 2048 ||
        !(absl::StartsWith(url, "https://") ||
          absl::StartsWith(url, "http://"))) {
      Add(field, "must be an absolute http(s) URL of at most 2048 characters");
    }
  }

  void Address(const std::string& field, const v1::Address& address) {
    const std::string prefix = field + ".";
    MaxLength(prefix + "address1", address.address1(), 100);
    MaxLength(prefix + "address2", address.address2(), 100);
    MaxLength(prefix + "address3", address.address3(), 100);
    MaxLength(prefix + "address4", address.address4(), 100);
    MaxLength(prefix + "city", address.city(), 100);
    MaxLength(prefix + "state", address.state(), 100);
    MaxLength(prefix + "locality", address.locality(), 100);
    MaxLength(prefix + "county", address.county(), 100);
    MaxLength(prefix + "postcode", address.postcode(), 50);
    const std::string& country = address.country_code();
    if (country.size() != 2 || !absl::ascii_isupper(country[0]) ||
        !absl::ascii_isupper(country[1])) {
      Add(prefix + "country_code", "is required: ISO 3166-1 alpha-2, e.g. GB");
    }
  }

  absl::Status ToStatus() const {
    if (list_.empty()) return absl::OkStatus();
    return InvalidArgumentError(
        absl::StrCat("invalid request: ", list_.front().field, " ",
                     list_.front().description,
                     list_.size() > 1
                         ? absl::StrCat(" (and ", list_.size() - 1, " more)")
                         : ""),
        list_);
  }

 private:
  std::vector<FieldViolation> list_;
};

void ValidateLines(const v1::CreateIntentRequest& request, Violations& v) {
  if (request.item_lines_size() > 100) {
    v.Add("item_lines", "must have at most 100 lines");
  }
  for (int i = 0; i < request.item_lines_size(); ++i) {
    const v1::ItemLine& line = request.item_lines(i);
    const std::string field = absl::StrCat("item_lines[", i, "]");
    v.MaxLength(field + ".id", line.id(), 60);
    v.MaxLength(field + ".name", line.name(), 100);
    v.MaxLength(field + ".plu", line.plu(), 200);
    if (line.quantity() < 0) v.Add(field + ".quantity", "must not be negative");
    if (!line.has_amount_total()) {
      v.Add(field + ".amount_total", "is required");
    } else {
      v.Money(field + ".amount_total", line.amount_total(),
              Violations::Sign::kNonNegative);
    }
    for (int m = 0; m < line.modifiers_size(); ++m) {
      const v1::Modifier& modifier = line.modifiers(m);
      const std::string mfield = absl::StrCat(field, ".modifiers[", m, "]");
      if (modifier.id().empty()) v.Add(mfield + ".id", "is required");
      if (modifier.name().empty()) v.Add(mfield + ".name", "is required");
      if (!modifier.has_amount_per_modifier()) {
        v.Add(mfield + ".amount_per_modifier", "is required");
      } else {
        // A negative modifier is a discount (Dojo's spec).
        v.Money(mfield + ".amount_per_modifier", modifier.amount_per_modifier(),
                Violations::Sign::kAny);
      }
    }
  }
  if (request.tax_lines_size() > 100) {
    v.Add("tax_lines", "must have at most 100 lines");
  }
  for (int i = 0; i < request.tax_lines_size(); ++i) {
    const v1::TaxLine& line = request.tax_lines(i);
    const std::string field = absl::StrCat("tax_lines[", i, "]");
    v.MaxLength(field + ".id", line.id(), 60);
    v.MaxLength(field + ".caption", line.caption(), 100);
    v.MaxLength(field + ".sub_caption", line.sub_caption(), 100);
    v.MaxLength(field + ".affected_plu", line.affected_plu(), 200);
    if (!line.has_amount_total()) {
      v.Add(field + ".amount_total", "is required");
    } else {
      v.Money(field + ".amount_total", line.amount_total(),
              Violations::Sign::kNonNegative);
    }
  }
}

void ValidateParties(const v1::CreateIntentRequest& request, Violations& v) {
  if (request.has_customer()) {
    v.MaxLength("customer.email_address", request.customer().email_address(),
                254);
    v.MaxLength("customer.phone_number", request.customer().phone_number(), 50);
  }
  if (request.has_billing_address()) {
    v.Address("billing_address", request.billing_address());
  }
  if (request.has_shipping_details()) {
    const v1::ShippingDetails& shipping = request.shipping_details();
    v.MaxLength("shipping_details.name", shipping.name(), 100);
    v.MaxLength("shipping_details.delivery_notes", shipping.delivery_notes(),
                1024);
    if (shipping.has_address()) {
      v.Address("shipping_details.address", shipping.address());
    }
  }
  if (request.has_request_security()) {
    const v1::RequestSecurity& security = request.request_security();
    v.MaxLength("request_security.user_agent", security.user_agent(), 300);
    v.MaxLength("request_security.ip_address", security.ip_address(), 70);
    v.MaxLength("request_security.device", security.device(), 120);
  }
}

void ValidateCheckout(const v1::CreateIntentRequest& request, Violations& v) {
  if (request.has_config()) {
    v.MaxLength("config.title", request.config().title(), 100);
    v.AbsoluteUrl("config.redirect_url", request.config().redirect_url(),
                  false);
    v.AbsoluteUrl("config.cancel_url", request.config().cancel_url(), false);
  }
  if (request.has_action_link()) {
    const v1::ActionLink& link = request.action_link();
    v.AbsoluteUrl("action_link.url", link.url(), true);
    if (link.label().empty()) {
      v.Add("action_link.label", "is required, at most 60 characters");
    } else {
      v.MaxLength("action_link.label", link.label(), 60);
    }
    v.MaxLength("action_link.file_name", link.file_name(), 256);
    if (!v1::ActionType_IsValid(link.action())) {
      v.Add("action_link.action", "is not a known action type");
    }
  }
}

void ValidateCapture(const v1::CreateIntentRequest& request, absl::Time now,
                     Violations& v) {
  if (!v1::CaptureMode_IsValid(request.capture_mode())) {
    v.Add("capture_mode", "is not a known capture mode");
  }
  const bool manual = request.capture_mode() == v1::CAPTURE_MODE_MANUAL;
  if (request.has_auto_expire_in()) {
    const absl::Duration in =
        absl::Seconds(request.auto_expire_in().seconds()) +
        absl::Nanoseconds(request.auto_expire_in().nanos());
    if (!manual) {
      v.Add("auto_expire_in", "applies only to CAPTURE_MODE_MANUAL");
    } else if (in < kMinAutoExpireIn || in > kMaxAutoExpireIn) {
      v.Add("auto_expire_in", "must be between 30 seconds and 7 days");
    }
  }
  if (request.auto_expire_action() != v1::AUTO_EXPIRE_ACTION_UNSPECIFIED) {
    if (!v1::AutoExpireAction_IsValid(request.auto_expire_action())) {
      v.Add("auto_expire_action", "is not a known action");
    } else if (!manual) {
      v.Add("auto_expire_action", "applies only to CAPTURE_MODE_MANUAL");
    }
  }
  if (request.has_expire_at()) {
    if (!IsValidTimestamp(request.expire_at().seconds(),
                          request.expire_at().nanos())) {
      v.Timestamp("expire_at", request.expire_at());
    } else if (absl::FromUnixSeconds(request.expire_at().seconds()) <= now) {
      v.Add("expire_at", "must be in the future");
    }
  }
  for (int i = 0; i < request.payment_methods_size(); ++i) {
    const int method = request.payment_methods(i);
    if (method == v1::PAYMENT_METHOD_UNSPECIFIED ||
        !v1::PaymentMethod_IsValid(method)) {
      v.Add(absl::StrCat("payment_methods[", i, "]"),
            "must be CARD, WALLET or SAVED_CARD");
    }
  }
}

}  // namespace

bool IsSupportedCurrency(absl::string_view currency_code) {
  return currency_code == "GBP" || currency_code == "EUR";
}

absl::Status ValidateCreateIntent(const v1::CreateIntentRequest& request,
                                  absl::Time now) {
  Violations v;
  v.Utf8(request);
  if (request.reference().empty()) {
    v.Add("reference", "is required (1-60 characters)");
  } else {
    v.MaxLength("reference", request.reference(), kMaxReferenceLength);
    if (std::any_of(request.reference().begin(), request.reference().end(),
                    [](char c) { return absl::ascii_iscntrl(c); })) {
      v.Add("reference", "must not contain control characters");
    }
  }
  if (!request.has_amount()) {
    v.Add("amount", "is required");
  } else {
    v.Money("amount", request.amount(), Violations::Sign::kPositive);
  }
  v.MaxLength("description", request.description(), kMaxDescriptionLength);
  const std::string& currency = request.amount().currency_code();
  struct ExtraAmount {
    absl::string_view field;
    bool present;
    const v1::Money& money;
  };
  for (const ExtraAmount& extra :
       {ExtraAmount{"tips_amount", request.has_tips_amount(),
                    request.tips_amount()},
        ExtraAmount{"cashback_amount", request.has_cashback_amount(),
                    request.cashback_amount()},
        ExtraAmount{"service_charge_amount",
                    request.has_service_charge_amount(),
                    request.service_charge_amount()}}) {
    if (!extra.present) continue;
    const std::string field(extra.field);
    v.Money(field, extra.money, Violations::Sign::kNonNegative);
    if (extra.money.currency_code() != currency) {
      v.Add(field + ".currency_code", "must match amount.currency_code");
    }
  }
  ValidateCapture(request, now, v);
  ValidateParties(request, v);
  ValidateCheckout(request, v);
  ValidateLines(request, v);
  return v.ToStatus();
}

namespace {

bool IsKeyChar(char c) {
  return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':';
}

void OperationKey(Violations& v, const std::string& field,
                  absl::string_view key) {
  if (key.empty() || key.size() > 100 ||
      !std::all_of(key.begin(), key.end(), IsKeyChar)) {
    v.Add(field, "is required: 1-100 characters of [A-Za-z0-9_.:-]");
  }
}

void IntentId(Violations& v, absl::string_view id) {
  if (!dojo::IsValidIntentId(id)) {
    v.Add("id", id.empty() ? "is required, e.g. pi_sandbox_..."
                           : "must be 1-100 characters of [A-Za-z0-9_-]");
  }
}

}  // namespace

absl::Status ValidateCapture(const v1::CaptureIntentRequest& request) {
  Violations v;
  v.Utf8(request);
  IntentId(v, request.id());
  OperationKey(v, "capture_key", request.capture_key());
  v.Money("amount", request.amount(), Violations::Sign::kPositive);
  if (request.has_tips_amount()) {
    v.Money("tips_amount", request.tips_amount(),
            Violations::Sign::kNonNegative);
    if (request.tips_amount().currency_code() !=
        request.amount().currency_code()) {
      v.Add("tips_amount.currency_code", "must match amount.currency_code");
    }
  }
  return v.ToStatus();
}

absl::Status ValidateRefund(const v1::RefundIntentRequest& request) {
  Violations v;
  v.Utf8(request);
  IntentId(v, request.id());
  OperationKey(v, "refund_key", request.refund_key());
  v.Money("amount", request.amount(), Violations::Sign::kPositive);
  v.MaxLength("reason", request.reason(), 1024);
  v.MaxLength("notes", request.notes(), 4096);
  return v.ToStatus();
}

absl::Status ValidateRefundId(absl::string_view id) {
  Violations v;
  if (id.empty() || id.size() > 50 ||
      !std::all_of(id.begin(), id.end(), [](char c) {
        return absl::ascii_isalnum(c) || c == '_' || c == '-';
      })) {
    v.Add("refund_id", "is required: 1-50 characters of [A-Za-z0-9_-]");
  }
  return v.ToStatus();
}

absl::Status ValidateListIntents(const v1::ListIntentsRequest& request) {
  Violations v;
  v.Utf8(request);
  if (request.page_size() < 0 || request.page_size() > 100) {
    v.Add("page_size", "must be from 0 (the default, 50) to 100");
  }
  if (request.has_created_after()) {
    v.Timestamp("created_after", request.created_after());
  }
  if (request.has_created_before()) {
    v.Timestamp("created_before", request.created_before());
  }
  if (request.has_created_after() && request.has_created_before() &&
      request.created_after().seconds() > request.created_before().seconds()) {
    v.Add("created_before", "must not be before created_after");
  }
  for (int i = 0; i < request.statuses_size(); ++i) {
    if (request.statuses(i) == v1::PAYMENT_INTENT_STATUS_UNSPECIFIED ||
        !v1::PaymentIntentStatus_IsValid(request.statuses(i))) {
      v.Add(absl::StrCat("statuses[", i, "]"), "must be a known status");
    }
  }
  v.MaxLength("reference", request.reference(), kMaxReferenceLength);
  return v.ToStatus();
}

absl::Status ValidateIntentId(absl::string_view field, absl::string_view id) {
  if (dojo::IsValidIntentId(id)) return absl::OkStatus();
  return InvalidArgumentError(
      absl::StrCat("invalid request: ", field, " is not a payment intent id"),
      {{std::string(field),
        id.empty() ? "is required, e.g. pi_sandbox_..."
                   : "must be 1-100 characters of [A-Za-z0-9_-]"}});
}

}  // namespace payments
