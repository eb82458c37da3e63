#include "lib/dojo/dojo_json.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <unordered_map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/timestamp.pb.h"
#include "lib/common/timestamp_range.h"
#include "nlohmann/json.hpp"

namespace payments::dojo {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using Json = nlohmann::json;

// Our field -> Dojo's key, where the proto JSON name differs.
const std::string* DojoRename(const FieldDescriptor& field) {
  static const auto* const kRenames = new std::map<std::string, std::string>{
      {"payments.v1.PaymentIntent.client_session_secret_expires_at",
       "clientSessionSecretExpirationDate"},
      {"payments.v1.Card.last4_pan", "last4PAN"},
  };
  auto it = kRenames->find(field.full_name());
  return it == kRenames->end() ? nullptr : &it->second;
}

// Fields of our API that Dojo must never see.
bool IsLocalOnly(const FieldDescriptor& field) {
  return field.containing_type()->full_name() ==
             "payments.v1.CreateIntentRequest" &&
         (field.name() == "account" ||
          field.name() == "include_client_session_secret");
}

// Fields Dojo's schema requires even at their proto default: Money needs
// both members, so a free item line is {"value":0,"currencyCode":"GBP"};
// a modifier needs its quantity.
bool AlwaysWritten(const FieldDescriptor& field) {
  return field.full_name() == "payments.v1.Money.value" ||
         field.full_name() == "payments.v1.Modifier.quantity";
}

std::string DojoKey(const FieldDescriptor& field) {
  if (const std::string* renamed = DojoRename(field)) return *renamed;
  return field.json_name();
}

// ASCII case-insensitive hashing and equality, for lookups by string_view.
struct CaseInsensitiveHash {
  using is_transparent = void;
  size_t operator()(absl::string_view text) const {
    uint64_t hash = 14695981039346656037u;  // FNV-1a.
    for (char c : text) {
      hash ^= static_cast<unsigned char>(absl::ascii_tolower(c));
      hash *= 1099511628211u;
    }
    return static_cast<size_t>(hash);
  }
};
struct CaseInsensitiveEqual {
  using is_transparent = void;
  bool operator()(absl::string_view a, absl::string_view b) const {
    return absl::EqualsIgnoreCase(a, b);
  }
};
template <typename T>
using CaseInsensitiveMap =
    std::unordered_map<std::string, T, CaseInsensitiveHash,
                       CaseInsensitiveEqual>;

// CaptureMode -> "CAPTURE_MODE_"; PaymentIntentStatus ->
// "PAYMENT_INTENT_STATUS_".
std::string EnumPrefix(const EnumDescriptor& type) {
  std::string prefix;
  for (char c : type.name()) {
    if (absl::ascii_isupper(c) && !prefix.empty()) prefix.push_back('_');
    prefix.push_back(absl::ascii_toupper(c));
  }
  prefix.push_back('_');
  return prefix;
}

// PAYMENT_METHOD_SAVED_CARD -> "SavedCard".
std::string DojoEnumName(const EnumValueDescriptor& value) {
  absl::string_view rest = value.name();
  absl::ConsumePrefix(&rest, EnumPrefix(*value.type()));
  std::string out;
  for (absl::string_view word : absl::StrSplit(rest, '_')) {
    if (word.empty()) continue;
    out.push_back(word[0]);
    out.append(absl::AsciiStrToLower(word.substr(1)));
  }
  return out;
}

// The Dojo names of one message type's fields and of one enum's values,
// computed once per type: mapping a document used to rebuild every field's
// key (a map lookup and a copy) for each JSON key it read.
struct MessageIndex {
  // Dojo key (case-insensitive) -> the first field, in declaration order,
  // with that key.
  CaseInsensitiveMap<const FieldDescriptor*> by_key;
  // Field index -> its Dojo key.
  std::vector<std::string> keys;
};
struct EnumIndex {
  // Dojo name (case-insensitive) -> the first non-zero value with it.
  CaseInsensitiveMap<const EnumValueDescriptor*> by_name;
  // Value index -> its Dojo name.
  std::vector<std::string> names;
};

// Thread-safe; entries live as long as the process (descriptors do too).
class DescriptorIndexes {
 public:
  static DescriptorIndexes& Get() {
    static auto* const instance = new DescriptorIndexes();
    return *instance;
  }

  const MessageIndex& For(const Descriptor& type) {
    return Lookup(messages_, type, [](const Descriptor& t) {
      auto index = std::make_unique<MessageIndex>();
      index->keys.reserve(t.field_count());
      for (int i = 0; i < t.field_count(); ++i) {
        index->keys.push_back(DojoKey(*t.field(i)));
        index->by_key.emplace(index->keys.back(), t.field(i));
      }
      return index;
    });
  }

  const EnumIndex& For(const EnumDescriptor& type) {
    return Lookup(enums_, type, [](const EnumDescriptor& t) {
      auto index = std::make_unique<EnumIndex>();
      index->names.reserve(t.value_count());
      for (int i = 0; i < t.value_count(); ++i) {
        index->names.push_back(DojoEnumName(*t.value(i)));
        if (t.value(i)->number() != 0) {
          index->by_name.emplace(index->names.back(), t.value(i));
        }
      }
      return index;
    });
  }

 private:
  template <typename Type, typename Index, typename Build>
  const Index& Lookup(
      std::unordered_map<const Type*, std::unique_ptr<Index>>& indexes,
      const Type& type, Build build) {
    {
      absl::ReaderMutexLock lock(&mu_);
      auto it = indexes.find(&type);
      if (it != indexes.end()) return *it->second;
    }
    std::unique_ptr<Index> built = build(type);
    absl::MutexLock lock(&mu_);
    // Another thread may have built it meanwhile: keep the first.
    return *indexes.emplace(&type, std::move(built)).first->second;
  }

  absl::Mutex mu_;
  std::unordered_map<const Descriptor*, std::unique_ptr<MessageIndex>> messages_
      ABSL_GUARDED_BY(mu_);
  std::unordered_map<const EnumDescriptor*, std::unique_ptr<EnumIndex>> enums_
      ABSL_GUARDED_BY(mu_);
};

const std::string& CachedDojoKey(const FieldDescriptor& field) {
  return DescriptorIndexes::Get()
      .For(*field.containing_type())
      .keys[field.index()];
}

const std::string& CachedDojoEnumName(const EnumValueDescriptor& value) {
  return DescriptorIndexes::Get().For(*value.type()).names[value.index()];
}

const EnumValueDescriptor* EnumFromDojo(const EnumDescriptor& type,
                                        absl::string_view name) {
  const EnumIndex& index = DescriptorIndexes::Get().For(type);
  auto it = index.by_name.find(name);
  return it != index.by_name.end() ? it->second : type.FindValueByNumber(0);
}

std::string FormatDojoTime(absl::Time time) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", time, absl::UTCTimeZone());
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

void ToTimestamp(absl::Time time, google::protobuf::Timestamp& ts) {
  const int64_t seconds = absl::ToUnixSeconds(time);
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
}

absl::Duration FromDurationProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// ---------------------------------------------------------------- writing

Json MessageToJson(const Message& message);

Json WellKnownOrMessageToJson(const Message& message) {
  const std::string& type = message.GetDescriptor()->full_name();
  if (type == "google.protobuf.Timestamp") {
    return FormatDojoTime(FromTimestamp(
        static_cast<const google::protobuf::Timestamp&>(message)));
  }
  if (type == "google.protobuf.Duration") {
    return FormatTimespan(FromDurationProto(
        static_cast<const google::protobuf::Duration&>(message)));
  }
  return MessageToJson(message);
}

Json ScalarToJson(const Message& message, const FieldDescriptor& field,
                  int index) {
  const Reflection& r = *message.GetReflection();
  const bool repeated = field.is_repeated();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return repeated ? r.GetRepeatedInt32(message, &field, index)
                      : r.GetInt32(message, &field);
    case FieldDescriptor::CPPTYPE_INT64:
      return repeated ? r.GetRepeatedInt64(message, &field, index)
                      : r.GetInt64(message, &field);
    case FieldDescriptor::CPPTYPE_UINT32:
      return repeated ? r.GetRepeatedUInt32(message, &field, index)
                      : r.GetUInt32(message, &field);
    case FieldDescriptor::CPPTYPE_UINT64:
      return repeated ? r.GetRepeatedUInt64(message, &field, index)
                      : r.GetUInt64(message, &field);
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return repeated ? r.GetRepeatedDouble(message, &field, index)
                      : r.GetDouble(message, &field);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return repeated ? r.GetRepeatedFloat(message, &field, index)
                      : r.GetFloat(message, &field);
    case FieldDescriptor::CPPTYPE_BOOL:
      return repeated ? r.GetRepeatedBool(message, &field, index)
                      : r.GetBool(message, &field);
    case FieldDescriptor::CPPTYPE_STRING:
      return repeated ? r.GetRepeatedString(message, &field, index)
                      : r.GetString(message, &field);
    case FieldDescriptor::CPPTYPE_ENUM:
      return CachedDojoEnumName(repeated
                                    ? *r.GetRepeatedEnum(message, &field, index)
                                    : *r.GetEnum(message, &field));
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return WellKnownOrMessageToJson(
          repeated ? r.GetRepeatedMessage(message, &field, index)
                   : r.GetMessage(message, &field));
  }
  return nullptr;
}

bool IsEmptyJson(const Json& value) {
  return (value.is_object() || value.is_array()) && value.empty();
}

Json MessageToJson(const Message& message) {
  const Reflection& r = *message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  // ListFields() yields exactly the fields that are set: scalars that differ
  // from their default, optional scalars with presence, present messages and
  // non-empty repeated fields.
  r.ListFields(message, &fields);
  const Descriptor& type = *message.GetDescriptor();
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor* field = type.field(i);
    if (AlwaysWritten(*field) &&
        std::find(fields.begin(), fields.end(), field) == fields.end()) {
      fields.push_back(field);
    }
  }
  Json out = Json::object();
  for (const FieldDescriptor* field : fields) {
    if (IsLocalOnly(*field)) continue;
    Json value;
    if (field->is_map()) {
      value = Json::object();
      for (int i = 0; i < r.FieldSize(message, field); ++i) {
        const Message& entry = r.GetRepeatedMessage(message, field, i);
        const Descriptor* entry_type = entry.GetDescriptor();
        value[entry.GetReflection()->GetString(entry, entry_type->map_key())] =
            ScalarToJson(entry, *entry_type->map_value(), -1);
      }
    } else if (field->is_repeated()) {
      value = Json::array();
      for (int i = 0; i < r.FieldSize(message, field); ++i) {
        value.push_back(ScalarToJson(message, *field, i));
      }
    } else {
      value = ScalarToJson(message, *field, -1);
    }
    if (IsEmptyJson(value)) continue;
    out[CachedDojoKey(*field)] = std::move(value);
  }
  return out;
}

// ---------------------------------------------------------------- reading

absl::Status WrongType(absl::string_view path, absl::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat("dojo json: ", path, " is not ", expected));
}

const FieldDescriptor* FindField(const MessageIndex& index,
                                 absl::string_view key) {
  auto it = index.by_key.find(key);
  return it == index.by_key.end() ? nullptr : it->second;
}

absl::StatusOr<int64_t> JsonToInt(const Json& value, absl::string_view path,
                                  int64_t min, int64_t max) {
  int64_t result = 0;
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() &&
        value.get<uint64_t>() >
            static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return WrongType(path, "an integer in range");
    }
    result = value.get<int64_t>();
  } else if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::trunc(d) != d || std::abs(d) > 9.0e18) {
      return WrongType(path, "an integer");
    }
    result = static_cast<int64_t>(d);
  } else if (value.is_string()) {
    if (!absl::SimpleAtoi(value.get_ref<const std::string&>(), &result)) {
      return WrongType(path, "an integer");
    }
  } else {
    return WrongType(path, "an integer");
  }
  if (result < min || result > max) return WrongType(path, "in range");
  return result;
}

absl::Status JsonToMessage(const Json& json, Message& message,
                           const std::string& path);

absl::Status JsonToWellKnownOrMessage(const Json& json, Message& message,
                                      const std::string& path) {
  const std::string& type = message.GetDescriptor()->full_name();
  if (type == "google.protobuf.Timestamp") {
    if (!json.is_string()) return WrongType(path, "a timestamp string");
    absl::StatusOr<absl::Time> time =
        ParseDojoTime(json.get_ref<const std::string&>());
    if (!time.ok()) {
      return WrongType(path, "an RFC 3339 timestamp in 0001..9999");
    }
    ToTimestamp(*time, static_cast<google::protobuf::Timestamp&>(message));
    return absl::OkStatus();
  }
  if (type == "google.protobuf.Duration") {
    if (!json.is_string()) return WrongType(path, "a timespan string");
    absl::StatusOr<absl::Duration> duration =
        ParseTimespan(json.get_ref<const std::string&>());
    if (!duration.ok()) return WrongType(path, "a d.hh:mm:ss timespan");
    auto& proto = static_cast<google::protobuf::Duration&>(message);
    const int64_t nanos = absl::ToInt64Nanoseconds(*duration);
    proto.set_seconds(nanos / 1000000000);
    proto.set_nanos(static_cast<int32_t>(nanos % 1000000000));
    return absl::OkStatus();
  }
  return JsonToMessage(json, message, path);
}

// .NET writes DateTime.MinValue for "no time"; keep such fields unset.
bool IsMinValueTime(const Json& json) {
  if (!json.is_string()) return false;
  const std::string& text = json.get_ref<const std::string&>();
  return absl::StartsWith(text, "0001-01-01T00:00:00");
}

// Sets one value of `field` (appending when repeated).
absl::Status SetValue(const Json& json, Message& message,
                      const FieldDescriptor& field, const std::string& path) {
  const Reflection& r = *message.GetReflection();
  const bool repeated = field.is_repeated();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_UINT32: {
      const bool is_signed = field.cpp_type() == FieldDescriptor::CPPTYPE_INT32;
      absl::StatusOr<int64_t> v = JsonToInt(
          json, path, is_signed ? std::numeric_limits<int32_t>::min() : 0,
          is_signed ? std::numeric_limits<int32_t>::max()
                    : std::numeric_limits<uint32_t>::max());
      if (!v.ok()) return v.status();
      if (is_signed) {
        repeated ? r.AddInt32(&message, &field, static_cast<int32_t>(*v))
                 : r.SetInt32(&message, &field, static_cast<int32_t>(*v));
      } else {
        repeated ? r.AddUInt32(&message, &field, static_cast<uint32_t>(*v))
                 : r.SetUInt32(&message, &field, static_cast<uint32_t>(*v));
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64: {
      absl::StatusOr<int64_t> v =
          JsonToInt(json, path, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max());
      if (!v.ok()) return v.status();
      if (field.cpp_type() == FieldDescriptor::CPPTYPE_INT64) {
        repeated ? r.AddInt64(&message, &field, *v)
                 : r.SetInt64(&message, &field, *v);
      } else {
        if (*v < 0) return WrongType(path, "a non-negative integer");
        repeated ? r.AddUInt64(&message, &field, static_cast<uint64_t>(*v))
                 : r.SetUInt64(&message, &field, static_cast<uint64_t>(*v));
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      if (!json.is_number()) return WrongType(path, "a number");
      const double d = json.get<double>();
      if (field.cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        repeated ? r.AddDouble(&message, &field, d)
                 : r.SetDouble(&message, &field, d);
      } else {
        repeated ? r.AddFloat(&message, &field, static_cast<float>(d))
                 : r.SetFloat(&message, &field, static_cast<float>(d));
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      if (!json.is_boolean()) return WrongType(path, "a boolean");
      repeated ? r.AddBool(&message, &field, json.get<bool>())
               : r.SetBool(&message, &field, json.get<bool>());
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string text;
      if (json.is_string()) {
        text = json.get<std::string>();
      } else if (json.is_number()) {
        text = json.dump();  // Tolerate ids sent as numbers.
      } else {
        return WrongType(path, "a string");
      }
      repeated ? r.AddString(&message, &field, std::move(text))
               : r.SetString(&message, &field, std::move(text));
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      if (!json.is_string()) return WrongType(path, "an enum string");
      const EnumValueDescriptor* value =
          EnumFromDojo(*field.enum_type(), json.get_ref<const std::string&>());
      repeated ? r.AddEnum(&message, &field, value)
               : r.SetEnum(&message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      Message* child = repeated ? r.AddMessage(&message, &field)
                                : r.MutableMessage(&message, &field);
      return JsonToWellKnownOrMessage(json, *child, path);
    }
  }
  return absl::OkStatus();
}

absl::Status JsonToMessage(const Json& json, Message& message,
                           const std::string& path) {
  if (!json.is_object()) return WrongType(path, "an object");
  const MessageIndex& index =
      DescriptorIndexes::Get().For(*message.GetDescriptor());
  const Reflection& r = *message.GetReflection();
  for (const auto& [key, value] : json.items()) {
    const FieldDescriptor* field = FindField(index, key);
    if (field == nullptr || value.is_null()) continue;
    const std::string child_path = path.empty() ? key : path + "." + key;
    if (field->message_type() != nullptr &&
        field->message_type()->full_name() == "google.protobuf.Timestamp" &&
        IsMinValueTime(value)) {
      continue;
    }
    if (field->is_map()) {
      if (!value.is_object()) return WrongType(child_path, "an object");
      for (const auto& [entry_key, entry_value] : value.items()) {
        if (entry_value.is_null()) continue;
        Message* entry = r.AddMessage(&message, field);
        const Descriptor& entry_type = *entry->GetDescriptor();
        entry->GetReflection()->SetString(entry, entry_type.map_key(),
                                          entry_key);
        absl::Status status =
            SetValue(entry_value, *entry, *entry_type.map_value(),
                     child_path + "." + entry_key);
        if (!status.ok()) return status;
      }
    } else if (field->is_repeated()) {
      if (!value.is_array()) return WrongType(child_path, "an array");
      r.ClearField(&message, field);
      for (size_t i = 0; i < value.size(); ++i) {
        absl::Status status = SetValue(value[i], message, *field,
                                       absl::StrCat(child_path, "[", i, "]"));
        if (!status.ok()) return status;
      }
    } else {
      absl::Status status = SetValue(value, message, *field, child_path);
      if (!status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string ToDojoJson(const Message& message) {
  return MessageToJson(message).dump(-1, ' ', false,
                                     Json::error_handler_t::replace);
}

absl::Status FromDojoJson(absl::string_view json, Message& message) {
  Json parsed = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return absl::InvalidArgumentError("dojo json: not valid JSON");
  }
  return JsonToMessage(parsed, message, "");
}

std::string CreatePaymentIntentBody(const v1::CreateIntentRequest& request) {
  return ToDojoJson(request);
}

std::string SearchPaymentIntentsBody(
    absl::Time start, absl::Time end, int limit, absl::string_view after,
    const std::vector<v1::PaymentIntentStatus>& statuses) {
  Json body = {{"cursor", {{"limit", limit}}}};
  if (start != absl::InfinitePast()) body["startDate"] = FormatDojoTime(start);
  if (end != absl::InfiniteFuture()) body["endDate"] = FormatDojoTime(end);
  if (!after.empty()) body["cursor"]["after"] = std::string(after);
  if (!statuses.empty()) {
    const EnumDescriptor& type = *v1::PaymentIntentStatus_descriptor();
    Json names = Json::array();
    for (v1::PaymentIntentStatus status : statuses) {
      names.push_back(CachedDojoEnumName(*type.FindValueByNumber(status)));
    }
    body["statuses"] = std::move(names);
  }
  return body.dump();
}

std::string CaptureBody(int64_t amount, int64_t tips_amount) {
  Json body = {{"amount", amount}};
  if (tips_amount > 0) body["tipsAmount"] = tips_amount;
  return body.dump();
}

std::string RefundBody(int64_t amount, absl::string_view reason,
                       absl::string_view notes) {
  Json body = {{"amount", amount}};
  if (!reason.empty()) body["refundReason"] = std::string(reason);
  if (!notes.empty()) body["notes"] = std::string(notes);
  return body.dump();
}

absl::StatusOr<std::string> ParseIdField(absl::string_view json,
                                         absl::string_view field) {
  Json parsed = Json::parse(json.begin(), json.end(), nullptr,
                            /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return absl::InvalidArgumentError("dojo json: answer is not an object");
  }
  auto it = parsed.find(std::string(field));
  if (it == parsed.end() || !it->is_string() ||
      it->get<std::string>().empty()) {
    return WrongType(field, "a non-empty string");
  }
  return it->get<std::string>();
}

absl::StatusOr<v1::Refund> ParseRefund(absl::string_view json) {
  Json parsed = Json::parse(json.begin(), json.end(), nullptr,
                            /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return absl::InvalidArgumentError("dojo json: refund is not an object");
  }
  v1::Refund refund;
  auto text = [&](const char* key) -> std::string {
    auto it = parsed.find(key);
    return it != parsed.end() && it->is_string() ? it->get<std::string>() : "";
  };
  refund.set_id(text("refundId"));
  refund.set_payment_intent_id(text("paymentIntentId"));
  refund.set_reason(text("refundReason"));
  refund.set_notes(text("notes"));
  if (refund.id().empty()) return WrongType("refundId", "a non-empty string");
  return refund;
}

absl::StatusOr<SearchPage> ParseSearchPage(absl::string_view json) {
  Json parsed = Json::parse(json.begin(), json.end(), nullptr,
                            /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return absl::InvalidArgumentError(
        "dojo json: search page is not an object");
  }
  SearchPage page;
  auto data = parsed.find("data");
  if (data != parsed.end() && !data->is_null()) {
    if (!data->is_array()) return WrongType("data", "an array");
    for (const Json& item : *data) {
      v1::PaymentIntent intent;
      absl::Status status = JsonToMessage(item, intent, "data[]");
      if (status.ok()) status = CheckIntentAmounts(intent);
      if (!status.ok()) return status;
      page.intents.push_back(std::move(intent));
    }
  }
  auto after = parsed.find("after");
  if (after != parsed.end() && after->is_string()) {
    page.after = after->get<std::string>();
  }
  return page;
}

absl::Status CheckIntentAmounts(const v1::PaymentIntent& intent) {
  const auto negative = [](absl::string_view field) {
    return absl::InvalidArgumentError(
        absl::StrCat("dojo json: ", field, " is negative"));
  };
  for (const auto& [field, value] :
       std::initializer_list<std::pair<absl::string_view, int64_t>>{
           {"amount.value", intent.amount().value()},
           {"totalAmount.value", intent.total_amount().value()},
           {"tipsAmount.value", intent.tips_amount().value()},
           {"requestedAmount.value", intent.requested_amount().value()},
           {"refundedAmount", intent.refunded_amount()}}) {
    if (value < 0) return negative(field);
  }
  int64_t captured = 0;
  for (const v1::CaptureDetails& capture : intent.captures()) {
    if (capture.amount() < 0 || capture.tips_amount() < 0) {
      return negative("captures[].amount");
    }
    if (__builtin_add_overflow(captured, capture.amount(), &captured) ||
        __builtin_add_overflow(captured, capture.tips_amount(), &captured)) {
      return absl::InvalidArgumentError(
          "dojo json: captures[] add up to more than an int64");
    }
  }
  return absl::OkStatus();
}

int EnumFromDojoName(const google::protobuf::EnumDescriptor& type,
                     absl::string_view name) {
  return EnumFromDojo(type, name)->number();
}

std::string FormatTimespan(absl::Duration duration) {
  if (duration < absl::ZeroDuration()) duration = absl::ZeroDuration();
  const int64_t days = absl::IDivDuration(duration, absl::Hours(24), &duration);
  const int64_t hours = absl::IDivDuration(duration, absl::Hours(1), &duration);
  const int64_t minutes =
      absl::IDivDuration(duration, absl::Minutes(1), &duration);
  const int64_t seconds =
      absl::IDivDuration(duration, absl::Seconds(1), &duration);
  std::string out = days > 0 ? absl::StrCat(days, ".") : "";
  absl::StrAppendFormat(&out, "%02d:%02d:%02d", hours, minutes, seconds);
  const int64_t ticks = absl::ToInt64Nanoseconds(duration) / 100;
  if (ticks > 0) absl::StrAppendFormat(&out, ".%07d", ticks);
  return out;
}

namespace {
// Plain decimal digits only: absl::SimpleAtoi would accept a sign or spaces.
bool ParseDigits(absl::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 18) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return absl::SimpleAtoi(text, out);
}
}  // namespace

absl::StatusOr<absl::Duration> ParseTimespan(absl::string_view text) {
  const auto invalid = [] {
    return absl::InvalidArgumentError("timespan: expected d.hh:mm:ss");
  };
  int64_t days = 0;
  absl::string_view clock = text;
  // "d.hh:mm:ss": a '.' before the first ':' separates the days.
  const size_t first_colon = text.find(':');
  const size_t dot = text.find('.');
  if (dot != absl::string_view::npos && dot < first_colon) {
    if (!ParseDigits(text.substr(0, dot), &days) || days < 0) {
      return invalid();
    }
    clock = text.substr(dot + 1);
  }
  std::vector<absl::string_view> parts = absl::StrSplit(clock, ':');
  if (parts.size() != 3) return invalid();
  int64_t hours = 0;
  int64_t minutes = 0;
  if (!ParseDigits(parts[0], &hours) || !ParseDigits(parts[1], &minutes) ||
      hours < 0 || hours > 23 || minutes < 0 || minutes > 59) {
    return invalid();
  }
  absl::string_view seconds_text = parts[2];
  absl::string_view fraction;
  if (size_t point = seconds_text.find('.'); point != absl::string_view::npos) {
    fraction = seconds_text.substr(point + 1);
    seconds_text = seconds_text.substr(0, point);
  }
  int64_t seconds = 0;
  if (!ParseDigits(seconds_text, &seconds) || seconds < 0 || seconds > 59 ||
      fraction.size() > 9) {
    return invalid();
  }
  int64_t nanos = 0;
  if (!fraction.empty()) {
    std::string padded(fraction);
    padded.resize(9, '0');
    if (!ParseDigits(padded, &nanos)) return invalid();
  }
  return absl::Hours(24 * days + hours) + absl::Minutes(minutes) +
         absl::Seconds(seconds) + absl::Nanoseconds(nanos);
}

absl::StatusOr<absl::Time> ParseDojoTime(absl::string_view text) {
  absl::Time time;
  std::string error;
  const std::string input(text);
  if (!absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", input, &time, &error) &&
      !absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S", input, absl::UTCTimeZone(),
                       &time, &error)) {
    return absl::InvalidArgumentError("time: expected RFC 3339");
  }
  // %Y takes any number of digits: "99999-01-01" parses. Such a time has no
  // google.protobuf.Timestamp (and would overflow nanosecond arithmetic).
  if (!InTimestampRange(time)) {
    return absl::InvalidArgumentError(
        "time: outside 0001-01-01..9999-12-31 UTC");
  }
  return time;
}

}  // namespace payments::dojo
