#include "tests/emulator/validation.h"

#include <cctype>
#include <limits>
#include <regex>
#include <vector>

namespace dojo_emulator {
namespace {

enum class Kind {
  kString,
  kInt64,
  kInt32,
  kBoolean,
  kObject,
  kArray,
  kStringMap
};
enum class Format { kNone, kUri, kDateTime, kTimeSpan, kCountryCode };

struct Schema;

// One property of an object schema. Names are the JSON (camelCase) names.
struct Field {
  const char* name;
  Kind kind;
  bool required = false;
  int min_length = 0;
  int max_length = 0;              // 0: unlimited
  const Schema* schema = nullptr;  // kObject, or kArray of objects
  Kind item_kind = Kind::kString;  // kArray of scalars
  Format format = Format::kNone;
  std::vector<std::string_view> enum_values = {};
  const char* enum_type = "";  // the .NET enum named in messages
  std::optional<int64_t> minimum = std::nullopt;
  std::optional<int64_t> maximum = std::nullopt;
};

struct Schema {
  const char* name;  // the .NET type name used in messages
  bool closed;       // additionalProperties: false
  std::vector<Field> fields;
};

// The schemas below follow components/schemas in the OpenAPI document.
const std::vector<std::string_view> kPaymentIntentStatuses = {
    "Created", "Authorized", "Captured", "Reversed", "Refunded", "Canceled"};

const Schema& MoneySchema() {
  static const Schema s{
      "Money",
      true,
      {{.name = "value", .kind = Kind::kInt64, .required = true},
       {.name = "currencyCode",
        .kind = Kind::kString,
        .required = true,
        .min_length = 1,
        .max_length = 10}}};
  return s;
}

const Schema& CustomerSchema() {
  static const Schema s{
      "PaymentCustomerDetails",
      true,
      {{.name = "id", .kind = Kind::kString},
       {.name = "emailAddress", .kind = Kind::kString, .max_length = 254},
       {.name = "phoneNumber", .kind = Kind::kString, .max_length = 50},
       {.name = "secret", .kind = Kind::kString},
       {.name = "savedCardId", .kind = Kind::kString}}};
  return s;
}

const Schema& AddressSchema() {
  static const Schema s{
      "Address",
      true,
      {{.name = "address1", .kind = Kind::kString, .max_length = 100},
       {.name = "address2", .kind = Kind::kString, .max_length = 100},
       {.name = "address3", .kind = Kind::kString, .max_length = 100},
       {.name = "address4", .kind = Kind::kString, .max_length = 100},
       {.name = "city", .kind = Kind::kString, .max_length = 100},
       {.name = "state", .kind = Kind::kString, .max_length = 100},
       {.name = "postcode", .kind = Kind::kString, .max_length = 50},
       {.name = "countryCode",
        .kind = Kind::kString,
        .required = true,
        .max_length = 10,
        .format = Format::kCountryCode},
       {.name = "locality", .kind = Kind::kString, .max_length = 100},
       {.name = "county", .kind = Kind::kString, .max_length = 100}}};
  return s;
}

const Schema& ShippingDetailsSchema() {
  static const Schema s{
      "ShippingDetails",
      true,
      {{.name = "name", .kind = Kind::kString, .max_length = 100},
       {.name = "deliveryNotes", .kind = Kind::kString, .max_length = 1024},
       {.name = "address", .kind = Kind::kObject, .schema = &AddressSchema()}}};
  return s;
}

const Schema& CollectionRequiredSchema(const char* name) {
  static const Schema email{
      "PaymentIntentConfigCustomerEmail",
      true,
      {{.name = "collectionRequired", .kind = Kind::kBoolean}}};
  static const Schema billing{
      "PaymentIntentConfigBillingAddress",
      true,
      {{.name = "collectionRequired", .kind = Kind::kBoolean}}};
  static const Schema shipping{
      "PaymentIntentConfigShippingDetails",
      true,
      {{.name = "collectionRequired", .kind = Kind::kBoolean}}};
  std::string_view n = name;
  if (n == "customerEmail") return email;
  if (n == "billingAddress") return billing;
  return shipping;
}

const Schema& ConfigSchema() {
  static const Schema details{
      "PaymentIntentConfigDetails",
      true,
      {{.name = "showTotal", .kind = Kind::kBoolean},
       {.name = "showReference", .kind = Kind::kBoolean}}};
  static const Schema payment{
      "PaymentConfigDetails",
      true,
      {{.name = "customAmountAllowed", .kind = Kind::kBoolean},
       {.name = "tipsAllowed", .kind = Kind::kBoolean}}};
  static const Schema s{
      "PaymentIntentConfigRequest",
      true,
      {{.name = "title", .kind = Kind::kString, .max_length = 100},
       {.name = "redirectUrl", .kind = Kind::kString, .format = Format::kUri},
       {.name = "cancelUrl", .kind = Kind::kString, .format = Format::kUri},
       {.name = "customerEmail",
        .kind = Kind::kObject,
        .schema = &CollectionRequiredSchema("customerEmail")},
       {.name = "details", .kind = Kind::kObject, .schema = &details},
       {.name = "billingAddress",
        .kind = Kind::kObject,
        .schema = &CollectionRequiredSchema("billingAddress")},
       {.name = "shippingDetails",
        .kind = Kind::kObject,
        .schema = &CollectionRequiredSchema("shippingDetails")},
       {.name = "payment", .kind = Kind::kObject, .schema = &payment}}};
  return s;
}

const Schema& RequestSecuritySchema() {
  static const Schema s{
      "RequestSecurity",
      true,
      {{.name = "userAgent", .kind = Kind::kString, .max_length = 300},
       {.name = "ipAddress", .kind = Kind::kString, .max_length = 70},
       {.name = "device", .kind = Kind::kString, .max_length = 120}}};
  return s;
}

const Schema& ModifierSchema() {
  static const Schema s{
      "Modifier",
      false,
      {{.name = "name", .kind = Kind::kString, .required = true},
       {.name = "amountPerModifier",
        .kind = Kind::kObject,
        .required = true,
        .schema = &MoneySchema()},
       {.name = "quantity", .kind = Kind::kInt32, .required = true},
       {.name = "id", .kind = Kind::kString, .required = true}}};
  return s;
}

const Schema& ItemLineSchema() {
  static const Schema s{
      "ItemLine",
      true,
      {{.name = "id", .kind = Kind::kString, .max_length = 60},
       {.name = "quantity", .kind = Kind::kInt32},
       {.name = "name", .kind = Kind::kString, .max_length = 100},
       {.name = "category", .kind = Kind::kString},
       {.name = "modifiers", .kind = Kind::kArray, .schema = &ModifierSchema()},
       {.name = "amountTotal",
        .kind = Kind::kObject,
        .required = true,
        .schema = &MoneySchema()},
       {.name = "plu", .kind = Kind::kString, .max_length = 200}}};
  return s;
}

const Schema& TaxLineSchema() {
  static const Schema s{
      "TaxLine",
      true,
      {{.name = "id", .kind = Kind::kString, .max_length = 60},
       {.name = "caption", .kind = Kind::kString, .max_length = 100},
       {.name = "subCaption", .kind = Kind::kString, .max_length = 100},
       {.name = "amountTotal",
        .kind = Kind::kObject,
        .required = true,
        .schema = &MoneySchema()},
       {.name = "affectedPlu", .kind = Kind::kString, .max_length = 200}}};
  return s;
}

const Schema& ActionLinkSchema() {
  static const Schema s{
      "ActionLink",
      true,
      {{.name = "url",
        .kind = Kind::kString,
        .required = true,
        .min_length = 1,
        .format = Format::kUri},
       {.name = "action",
        .kind = Kind::kString,
        .enum_values = {"OpenLink", "DownloadFile"},
        .enum_type = "ActionType"},
       {.name = "label",
        .kind = Kind::kString,
        .required = true,
        .min_length = 1,
        .max_length = 60},
       {.name = "fileName", .kind = Kind::kString, .max_length = 256}}};
  return s;
}

const Schema& OrderDetailsSchema() {
  static const Schema s{"OrderDetails",
                        true,
                        {{.name = "availabilityDate",
                          .kind = Kind::kString,
                          .format = Format::kDateTime},
                         {.name = "isUpdate", .kind = Kind::kBoolean},
                         {.name = "id", .kind = Kind::kString},
                         {.name = "externalId", .kind = Kind::kString}}};
  return s;
}

const Schema& CreatePaymentIntentSchema() {
  static const Schema s{
      "CreatePaymentIntentRequest",
      true,
      {{.name = "captureMode",
        .kind = Kind::kString,
        .enum_values = {"Auto", "Manual"},
        .enum_type = "CaptureMode"},
       {.name = "amount",
        .kind = Kind::kObject,
        .required = true,
        .schema = &MoneySchema()},
       {.name = "tipsAmount", .kind = Kind::kObject, .schema = &MoneySchema()},
       {.name = "reference",
        .kind = Kind::kString,
        .required = true,
        .min_length = 1,
        .max_length = 60},
       {.name = "description", .kind = Kind::kString, .max_length = 4096},
       {.name = "customer", .kind = Kind::kObject, .schema = &CustomerSchema()},
       {.name = "billingAddress",
        .kind = Kind::kObject,
        .schema = &AddressSchema()},
       {.name = "shippingDetails",
        .kind = Kind::kObject,
        .schema = &ShippingDetailsSchema()},
       {.name = "cardHolderNotPresent", .kind = Kind::kBoolean},
       {.name = "config", .kind = Kind::kObject, .schema = &ConfigSchema()},
       {.name = "requestSecurity",
        .kind = Kind::kObject,
        .schema = &RequestSecuritySchema()},
       {.name = "itemLines", .kind = Kind::kArray, .schema = &ItemLineSchema()},
       {.name = "taxLines", .kind = Kind::kArray, .schema = &TaxLineSchema()},
       {.name = "paymentMethods",
        .kind = Kind::kArray,
        .item_kind = Kind::kString,
        .enum_values = {"Card", "Wallet", "SavedCard"},
        .enum_type = "PaymentMethod"},
       {.name = "actionLink",
        .kind = Kind::kObject,
        .schema = &ActionLinkSchema()},
       {.name = "expireAt", .kind = Kind::kString, .format = Format::kDateTime},
       {.name = "autoExpireIn",
        .kind = Kind::kString,
        .format = Format::kTimeSpan},
       {.name = "autoExpireAction",
        .kind = Kind::kString,
        .enum_values = {"Release", "Capture"},
        .enum_type = "AutoExpireAction"},
       {.name = "metadata", .kind = Kind::kStringMap},
       {.name = "setupIntentId", .kind = Kind::kString},
       {.name = "orderDetails",
        .kind = Kind::kObject,
        .schema = &OrderDetailsSchema()},
       {.name = "cashbackAmount",
        .kind = Kind::kObject,
        .schema = &MoneySchema()},
       {.name = "serviceChargeAmount",
        .kind = Kind::kObject,
        .schema = &MoneySchema()},
       {.name = "generateRemoteToken", .kind = Kind::kBoolean}}};
  return s;
}

const Schema& SearchSchema() {
  static const Schema cursor{
      "Cursor",
      true,
      {{.name = "limit", .kind = Kind::kInt32, .minimum = 1, .maximum = 100},
       {.name = "before", .kind = Kind::kString},
       {.name = "after", .kind = Kind::kString}}};
  static const Schema s{
      "SearchPaymentIntentRequest",
      true,
      {{.name = "statuses",
        .kind = Kind::kArray,
        .item_kind = Kind::kString,
        .enum_values = kPaymentIntentStatuses,
        .enum_type = "PaymentIntentStatus"},
       {.name = "startDate",
        .kind = Kind::kString,
        .format = Format::kDateTime},
       {.name = "endDate", .kind = Kind::kString, .format = Format::kDateTime},
       {.name = "cursor", .kind = Kind::kObject, .schema = &cursor}}};
  return s;
}

const Schema& CreateCaptureSchema() {
  static const Schema s{
      "CreateCaptureRequest",
      true,
      {{.name = "amount", .kind = Kind::kInt64, .required = true},
       {.name = "tipsAmount", .kind = Kind::kInt64}}};
  return s;
}

const Schema& CreateRefundSchema() {
  static const Schema s{
      "CreateRefundRequest",
      true,
      {{.name = "amount", .kind = Kind::kInt64, .required = true},
       {.name = "previousTransactionId",
        .kind = Kind::kString,
        .max_length = 100},
       {.name = "refundReason", .kind = Kind::kString, .max_length = 1024},
       {.name = "notes", .kind = Kind::kString, .max_length = 4096}}};
  return s;
}

const Schema& SetAmountSchema() {
  static const Schema s{
      "SetAmountRequest",
      true,
      {{.name = "amount",
        .kind = Kind::kObject,
        .required = true,
        .schema = &MoneySchema()},
       {.name = "itemLines", .kind = Kind::kArray, .schema = &ItemLineSchema()},
       {.name = "taxLines", .kind = Kind::kArray, .schema = &TaxLineSchema()}}};
  return s;
}

std::string Pascal(std::string_view name) {
  std::string out(name);
  if (!out.empty()) {
    out[0] =
        static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  }
  return out;
}

std::string Join(const std::string& path, std::string_view name) {
  return path.empty() ? Pascal(name) : path + "." + Pascal(name);
}

// The last segment of a dotted path, as ASP.NET names a field in messages.
std::string LeafName(const std::string& path) {
  size_t dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

void AddError(Json& errors, const std::string& key, std::string message) {
  errors[key].push_back(std::move(message));
}

// .NET string lengths count UTF-16 code units; count code points (close
// enough for the limits checked here) by skipping continuation bytes.
int64_t TextLength(const std::string& s) {
  int64_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool IsAbsoluteUri(const std::string& s) {
  static const std::regex kUri(
      R"(^[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#]+[^\s]*$)");
  return std::regex_match(s, kUri);
}

std::string ConversionError(std::string_view type_name) {
  return "The JSON value could not be converted to " + std::string(type_name) +
         ".";
}

std::string_view KindTypeName(Kind kind) {
  switch (kind) {
    case Kind::kString:
      return "System.String";
    case Kind::kInt64:
      return "System.Int64";
    case Kind::kInt32:
      return "System.Int32";
    case Kind::kBoolean:
      return "System.Boolean";
    case Kind::kStringMap:
      return "System.Collections.Generic.Dictionary`2[System.String,System."
             "String]";
    default:
      return "System.Object";
  }
}

void ValidateObject(const Json& object, const Schema& schema,
                    const std::string& path, Json& errors);

void ValidateScalar(const Json& value, Kind kind, const Field& field,
                    const std::string& path, Json& errors) {
  switch (kind) {
    case Kind::kString: {
      if (!value.is_string()) {
        AddError(errors, path, ConversionError(KindTypeName(kind)));
        return;
      }
      const std::string& s = value.get_ref<const std::string&>();
      std::string leaf = LeafName(path);
      if (field.required && s.empty()) {
        AddError(errors, path, "The " + leaf + " field is required.");
        return;
      }
      int64_t len = TextLength(s);
      if (field.max_length > 0 && len > field.max_length) {
        AddError(errors, path,
                 "The field " + leaf +
                     " must be a string or array type with a maximum length "
                     "of '" +
                     std::to_string(field.max_length) + "'.");
      }
      if (field.min_length > 0 && len < field.min_length) {
        AddError(errors, path,
                 "The field " + leaf +
                     " must be a string or array type with a minimum length "
                     "of '" +
                     std::to_string(field.min_length) + "'.");
      }
      if (!field.enum_values.empty()) {
        bool found = false;
        for (auto v : field.enum_values) found = found || v == s;
        if (!found) {
          AddError(
              errors, path,
              "The JSON value could not be converted to " +
                  std::string(field.enum_type) + ". Allowed values: " +
                  [&] {
                    std::string all;
                    for (auto v : field.enum_values) {
                      if (!all.empty()) all += ", ";
                      all += v;
                    }
                    return all;
                  }() +
                  ".");
        }
      }
      switch (field.format) {
        case Format::kUri:
          if (!IsAbsoluteUri(s)) {
            AddError(errors, path,
                     "The " + leaf +
                         " field is not a valid fully-qualified "
                         "http, https, or ftp URL.");
          }
          break;
        case Format::kDateTime:
          if (!ParseTimestamp(s)) {
            AddError(errors, path, ConversionError("System.DateTime"));
          }
          break;
        case Format::kTimeSpan:
          if (!ParseTimeSpan(s)) {
            AddError(errors, path, ConversionError("System.TimeSpan"));
          }
          break;
        case Format::kCountryCode: {
          static const std::regex kAlpha2("^[A-Za-z]{2}$");
          if (!std::regex_match(s, kAlpha2)) {
            AddError(errors, path,
                     "The field " + leaf +
                         " must be a two-letter ISO 3166-1 alpha-2 country "
                         "code.");
          }
          break;
        }
        case Format::kNone:
          break;
      }
      return;
    }
    case Kind::kInt64:
    case Kind::kInt32: {
      bool ok = value.is_number_integer();
      int64_t n = 0;
      if (ok && value.is_number_unsigned()) {
        ok = value.get<uint64_t>() <=
             static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
      }
      if (ok) n = value.get<int64_t>();
      if (ok && kind == Kind::kInt32) {
        ok = n >= std::numeric_limits<int32_t>::min() &&
             n <= std::numeric_limits<int32_t>::max();
      }
      if (!ok) {
        AddError(errors, path, ConversionError(KindTypeName(kind)));
        return;
      }
      if ((field.minimum && n < *field.minimum) ||
          (field.maximum && n > *field.maximum)) {
        AddError(errors, path,
                 "The field " + LeafName(path) + " must be between " +
                     std::to_string(field.minimum.value_or(
                         std::numeric_limits<int64_t>::min())) +
                     " and " +
                     std::to_string(field.maximum.value_or(
                         std::numeric_limits<int64_t>::max())) +
                     ".");
      }
      return;
    }
    case Kind::kBoolean:
      if (!value.is_boolean()) {
        AddError(errors, path, ConversionError(KindTypeName(kind)));
      }
      return;
    case Kind::kStringMap:
      if (!value.is_object()) {
        AddError(errors, path, ConversionError(KindTypeName(kind)));
        return;
      }
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string() && !v.is_null()) {
          AddError(errors, path + "." + k, ConversionError("System.String"));
        }
      }
      return;
    case Kind::kObject:
      if (!value.is_object()) {
        AddError(errors, path, ConversionError(field.schema->name));
        return;
      }
      ValidateObject(value, *field.schema, path, errors);
      return;
    case Kind::kArray:
      return;  // Handled by the caller.
  }
}

void ValidateField(const Json& value, const Field& field,
                   const std::string& path, Json& errors) {
  if (field.kind != Kind::kArray) {
    ValidateScalar(value, field.kind, field, path, errors);
    return;
  }
  if (!value.is_array()) {
    AddError(errors, path, ConversionError("System.Collections.Generic.List"));
    return;
  }
  for (size_t i = 0; i < value.size(); ++i) {
    std::string item_path = path + "[" + std::to_string(i) + "]";
    const Json& item = value[i];
    if (field.schema != nullptr) {
      if (!item.is_object()) {
        AddError(errors, item_path, ConversionError(field.schema->name));
      } else {
        ValidateObject(item, *field.schema, item_path, errors);
      }
    } else if (item.is_null()) {
      AddError(errors, item_path, "The value must not be null.");
    } else {
      Field item_field = field;
      item_field.kind = field.item_kind;
      item_field.required = false;
      ValidateScalar(item, field.item_kind, item_field, item_path, errors);
    }
  }
}

void ValidateObject(const Json& object, const Schema& schema,
                    const std::string& path, Json& errors) {
  if (schema.closed) {
    for (const auto& [key, value] : object.items()) {
      bool known = false;
      for (const Field& f : schema.fields) known = known || key == f.name;
      if (!known) {
        AddError(errors, Join(path, key),
                 "The JSON property '" + key +
                     "' could not be mapped to any .NET member contained in "
                     "type '" +
                     schema.name + "'.");
      }
    }
  }
  for (const Field& field : schema.fields) {
    std::string field_path = Join(path, field.name);
    auto it = object.find(field.name);
    if (it == object.end() || it->is_null()) {
      if (field.required) {
        AddError(errors, field_path,
                 "The " + Pascal(field.name) + " field is required.");
      }
      continue;
    }
    ValidateField(*it, field, field_path, errors);
  }
}

// Parses `body` as a JSON object, recording ASP.NET-style errors otherwise.
// `param` is the action's body parameter (the spec's x-name).
std::optional<Json> ParseObject(std::string_view body, const Schema& schema,
                                Json& errors, const char* param = "request") {
  Json doc = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    AddError(errors, "$", "The request body is not valid JSON or is empty.");
    AddError(errors, param,
             "The " + std::string(param) + " field is required.");
    return std::nullopt;
  }
  if (!doc.is_object()) {
    AddError(errors, "$", ConversionError(schema.name));
    return std::nullopt;
  }
  return doc;
}

const Json* Present(const Json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

// True for an integer below `min`. nlohmann keeps non-negative numbers as
// unsigned, so 0 must not be skipped as "unsigned, hence fine".
bool IntegerBelow(const Json* value, int64_t min) {
  if (value == nullptr || !value->is_number_integer()) return false;
  if (value->is_number_unsigned()) {
    return min > 0 && value->get<uint64_t>() < static_cast<uint64_t>(min);
  }
  return value->get<int64_t>() < min;
}

// Rules beyond the schema: positive amounts, supported currencies, timing.
void ValidateCreateSemantics(const Json& request, TimePoint now, Json& errors) {
  std::string currency;
  if (const Json* amount = Present(request, "amount");
      amount && amount->is_object()) {
    const Json* value = Present(*amount, "value");
    if (IntegerBelow(value, 1)) {
      AddError(errors, "Amount.Value",
               "The field Value must be between 1 and 9223372036854775807.");
    }
    const Json* code = Present(*amount, "currencyCode");
    if (code && code->is_string()) {
      currency = code->get<std::string>();
      if (currency != "GBP" && currency != "EUR") {
        AddError(errors, "Amount.CurrencyCode",
                 "Currency code '" + currency +
                     "' is not supported. Supported currencies: GBP, EUR.");
      }
    }
  }
  for (const char* name :
       {"tipsAmount", "cashbackAmount", "serviceChargeAmount"}) {
    const Json* money = Present(request, name);
    if (!money || !money->is_object()) continue;
    const Json* value = Present(*money, "value");
    if (IntegerBelow(value, 0)) {
      AddError(errors, Pascal(name) + ".Value",
               "The field Value must be between 0 and 9223372036854775807.");
    }
    const Json* code = Present(*money, "currencyCode");
    if (code && code->is_string() && !currency.empty() &&
        code->get<std::string>() != currency) {
      AddError(errors, Pascal(name) + ".CurrencyCode",
               "The currency must match Amount.CurrencyCode.");
    }
  }
  std::string capture_mode = "Auto";
  if (const Json* mode = Present(request, "captureMode");
      mode && mode->is_string()) {
    capture_mode = mode->get<std::string>();
  }
  if (const Json* expire_in = Present(request, "autoExpireIn");
      expire_in && expire_in->is_string()) {
    if (auto span = ParseTimeSpan(expire_in->get<std::string>())) {
      if (*span < std::chrono::seconds(30) ||
          *span > std::chrono::hours(24 * 7)) {
        AddError(errors, "AutoExpireIn",
                 "The field AutoExpireIn must be between 00:00:30 and "
                 "7.00:00:00.");
      }
    }
    if (capture_mode != "Manual") {
      AddError(errors, "AutoExpireIn",
               "AutoExpireIn can only be set when CaptureMode is Manual.");
    }
  }
  if (const Json* expire_at = Present(request, "expireAt");
      expire_at && expire_at->is_string()) {
    if (auto t = ParseTimestamp(expire_at->get<std::string>());
        t && *t <= now) {
      AddError(errors, "ExpireAt", "The field ExpireAt must be in the future.");
    }
  }
}

// `name` must be an integer >= `min` when it is a valid int64 at all (type
// errors are reported by the schema pass).
void CheckMinimum(const Json& request, const char* name, int64_t min,
                  Json& errors) {
  const Json* value = Present(request, name);
  if (IntegerBelow(value, min)) {
    AddError(errors, Pascal(name),
             "The field " + Pascal(name) + " must be between " +
                 std::to_string(min) + " and 9223372036854775807.");
  }
}

}  // namespace

Json ValidateCreateCapture(std::string_view body) {
  Json errors = Json::object();
  std::optional<Json> request =
      ParseObject(body, CreateCaptureSchema(), errors);
  if (!request) return errors;
  ValidateObject(*request, CreateCaptureSchema(), "", errors);
  CheckMinimum(*request, "amount", 1, errors);
  CheckMinimum(*request, "tipsAmount", 0, errors);
  return errors;
}

Json ValidateCreateRefund(std::string_view body,
                          std::optional<std::string_view> idempotency_key) {
  Json errors = Json::object();
  if (!idempotency_key || idempotency_key->empty()) {
    AddError(errors, "idempotencyKey", "The idempotencyKey field is required.");
  } else if (TextLength(std::string(*idempotency_key)) > 100) {
    AddError(errors, "idempotencyKey",
             "The field idempotencyKey must be a string or array type with a "
             "maximum length of '100'.");
  }
  std::optional<Json> request =
      ParseObject(body, CreateRefundSchema(), errors, "createRefundRequest");
  if (!request) return errors;
  ValidateObject(*request, CreateRefundSchema(), "", errors);
  CheckMinimum(*request, "amount", 1, errors);
  return errors;
}

Json ValidateSetAmount(std::string_view body) {
  Json errors = Json::object();
  std::optional<Json> request = ParseObject(body, SetAmountSchema(), errors);
  if (!request) return errors;
  ValidateObject(*request, SetAmountSchema(), "", errors);
  if (const Json* amount = Present(*request, "amount");
      amount && amount->is_object()) {
    const Json* value = Present(*amount, "value");
    if (IntegerBelow(value, 1)) {
      AddError(errors, "Amount.Value",
               "The field Value must be between 1 and 9223372036854775807.");
    }
    const Json* code = Present(*amount, "currencyCode");
    if (code && code->is_string() && code->get<std::string>() != "GBP" &&
        code->get<std::string>() != "EUR") {
      AddError(errors, "Amount.CurrencyCode",
               "Currency code '" + code->get<std::string>() +
                   "' is not supported. Supported currencies: GBP, EUR.");
    }
  }
  return errors;
}

Json ValidateRefundId(std::string_view refund_id) {
  Json errors = Json::object();
  if (TextLength(std::string(refund_id)) > 50) {
    AddError(errors, "refundId",
             "The field refundId must be a string or array type with a "
             "maximum length of '50'.");
  }
  return errors;
}

Json ValidateCreatePaymentIntent(std::string_view body, TimePoint now) {
  Json errors = Json::object();
  std::optional<Json> request =
      ParseObject(body, CreatePaymentIntentSchema(), errors);
  if (!request) return errors;
  ValidateObject(*request, CreatePaymentIntentSchema(), "", errors);
  ValidateCreateSemantics(*request, now, errors);
  return errors;
}

Json ValidateSearchPaymentIntents(std::string_view body) {
  Json errors = Json::object();
  bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  std::optional<Json> request = ParseObject(
      blank ? std::string_view("{}") : body, SearchSchema(), errors);
  if (!request) return errors;
  ValidateObject(*request, SearchSchema(), "", errors);
  if (const Json* cursor = Present(*request, "cursor");
      cursor && cursor->is_object() && Present(*cursor, "before") &&
      Present(*cursor, "after")) {
    AddError(errors, "Cursor",
             "Only one of Cursor.Before and Cursor.After may be set.");
  }
  return errors;
}

}  // namespace dojo_emulator
