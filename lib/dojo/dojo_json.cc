#include "lib/dojo/dojo_json.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
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
#include "lib/common/utf8.h"
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
  // The fields Dojo may see, in byte order of their keys (the order they
  // are written in); `always`: written even when unset.
  struct Written {
    const FieldDescriptor* field;
    bool always;
  };
  std::vector<Written> written;
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
        const FieldDescriptor& field = *t.field(i);
        index->keys.push_back(DojoKey(field));
        index->by_key.emplace(index->keys.back(), &field);
        if (!IsLocalOnly(field)) {
          index->written.push_back({&field, AlwaysWritten(field)});
        }
      }
      std::stable_sort(
          index->written.begin(), index->written.end(),
          [&](const MessageIndex::Written& a, const MessageIndex::Written& b) {
            return index->keys[a.field->index()] <
                   index->keys[b.field->index()];
          });
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
//
// Straight into the text, byte for byte what nlohmann::json's dump() wrote
// before (request fingerprints hash it): keys in byte order, no spaces,
// strings escaped as nlohmann escapes them.

void AppendJsonString(absl::string_view text, std::string& out) {
  const bool plain =
      std::all_of(text.begin(), text.end(),
                  [](char c) {
                    const auto byte = static_cast<unsigned char>(c);
                    return byte >= 0x20 && byte != '"' && byte != '\\';
                  }) &&
      utf8::IsValid(text);
  if (!plain) {
    out += Json(std::string(text))
               .dump(-1, ' ', false, Json::error_handler_t::replace);
    return;
  }
  out.push_back('"');
  out.append(text.data(), text.size());
  out.push_back('"');
}

void AppendMessage(const Message& message, std::string& out);

void AppendWellKnownOrMessage(const Message& message, std::string& out) {
  const Descriptor* type = message.GetDescriptor();
  if (type == google::protobuf::Timestamp::descriptor()) {
    AppendJsonString(
        FormatDojoTime(FromTimestamp(
            static_cast<const google::protobuf::Timestamp&>(message))),
        out);
  } else if (type == google::protobuf::Duration::descriptor()) {
    AppendJsonString(
        FormatTimespan(FromDurationProto(
            static_cast<const google::protobuf::Duration&>(message))),
        out);
  } else {
    AppendMessage(message, out);
  }
}

// One value of `field` (element `index` when it is repeated).
void AppendValue(const Message& message, const FieldDescriptor& field,
                 int index, std::string& out) {
  const Reflection& r = *message.GetReflection();
  const bool repeated = field.is_repeated();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(&out, repeated
                                ? r.GetRepeatedInt32(message, &field, index)
                                : r.GetInt32(message, &field));
      return;
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(&out, repeated
                                ? r.GetRepeatedInt64(message, &field, index)
                                : r.GetInt64(message, &field));
      return;
    case FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(&out, repeated
                                ? r.GetRepeatedUInt32(message, &field, index)
                                : r.GetUInt32(message, &field));
      return;
    case FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(&out, repeated
                                ? r.GetRepeatedUInt64(message, &field, index)
                                : r.GetUInt64(message, &field));
      return;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      out += Json(repeated ? r.GetRepeatedDouble(message, &field, index)
                           : r.GetDouble(message, &field))
                 .dump();
      return;
    case FieldDescriptor::CPPTYPE_FLOAT:
      out += Json(static_cast<double>(
                      repeated ? r.GetRepeatedFloat(message, &field, index)
                               : r.GetFloat(message, &field)))
                 .dump();
      return;
    case FieldDescriptor::CPPTYPE_BOOL:
      out += (repeated ? r.GetRepeatedBool(message, &field, index)
                       : r.GetBool(message, &field))
                 ? "true"
                 : "false";
      return;
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      AppendJsonString(
          repeated
              ? r.GetRepeatedStringReference(message, &field, index, &scratch)
              : r.GetStringReference(message, &field, &scratch),
          out);
      return;
    }
    case FieldDescriptor::CPPTYPE_ENUM:
      AppendJsonString(CachedDojoEnumName(
                           repeated ? *r.GetRepeatedEnum(message, &field, index)
                                    : *r.GetEnum(message, &field)),
                       out);
      return;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      AppendWellKnownOrMessage(
          repeated ? r.GetRepeatedMessage(message, &field, index)
                   : r.GetMessage(message, &field),
          out);
      return;
  }
}

// A map<string, ...> as an object, keys in byte order.
void AppendMap(const Message& message, const FieldDescriptor& field,
               std::string& out) {
  const Reflection& r = *message.GetReflection();
  std::vector<std::pair<std::string, const Message*>> entries;
  entries.reserve(r.FieldSize(message, &field));
  for (int i = 0; i < r.FieldSize(message, &field); ++i) {
    const Message& entry = r.GetRepeatedMessage(message, &field, i);
    entries.emplace_back(entry.GetReflection()->GetString(
                             entry, entry.GetDescriptor()->map_key()),
                         &entry);
  }
  // A key entered twice (reflection keeps both) is written once, with its
  // last value, as the map itself reads it.
  std::stable_sort(
      entries.begin(), entries.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  out.push_back('{');
  bool empty = true;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i + 1 < entries.size() && entries[i + 1].first == entries[i].first) {
      continue;
    }
    if (!empty) out.push_back(',');
    empty = false;
    AppendJsonString(entries[i].first, out);
    out.push_back(':');
    const Message& entry = *entries[i].second;
    AppendValue(entry, *entry.GetDescriptor()->map_value(), -1, out);
  }
  out.push_back('}');
}

bool IsSet(const Message& message, const FieldDescriptor& field) {
  const Reflection& r = *message.GetReflection();
  // As ListFields(): scalars that differ from their default, optional
  // scalars with presence, present messages, non-empty repeated fields.
  return field.is_repeated() ? r.FieldSize(message, &field) > 0
                             : r.HasField(message, &field);
}

// An object or array with nothing in it is left out, as an unset field is.
bool IsEmptyContainer(const std::string& out, size_t value_at) {
  return out.size() == value_at + 2 &&
         ((out[value_at] == '{' && out[value_at + 1] == '}') ||
          (out[value_at] == '[' && out[value_at + 1] == ']'));
}

void AppendMessage(const Message& message, std::string& out) {
  const MessageIndex& index =
      DescriptorIndexes::Get().For(*message.GetDescriptor());
  out.push_back('{');
  bool empty = true;
  for (const MessageIndex::Written& written : index.written) {
    const FieldDescriptor& field = *written.field;
    if (!written.always && !IsSet(message, field)) continue;
    const size_t field_at = out.size();
    if (!empty) out.push_back(',');
    AppendJsonString(index.keys[field.index()], out);
    out.push_back(':');
    const size_t value_at = out.size();
    if (field.is_map()) {
      AppendMap(message, field, out);
    } else if (field.is_repeated()) {
      out.push_back('[');
      const int size = message.GetReflection()->FieldSize(message, &field);
      for (int i = 0; i < size; ++i) {
        if (i > 0) out.push_back(',');
        AppendValue(message, field, i, out);
      }
      out.push_back(']');
    } else {
      AppendValue(message, field, -1, out);
    }
    if (IsEmptyContainer(out, value_at)) {
      out.resize(field_at);
      continue;
    }
    empty = false;
  }
  out.push_back('}');
}

// ---------------------------------------------------------------- reading
//
// One pass of nlohmann's SAX parser straight into the message: no document
// is built. The same rules as before the parser went SAX: keys match
// case-insensitively and unknown keys are skipped; nulls leave a field (or a
// map entry) unset, but are errors as array elements; a repeated field or a
// message takes the last value its key was given. A document that is not
// JSON is "not valid JSON" whatever else is wrong with it; otherwise the
// first wrong type found is the error.

absl::Status WrongType(absl::string_view path, absl::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat("dojo json: ", path, " is not ", expected));
}

bool IsTimestamp(const FieldDescriptor& field) {
  return field.message_type() == google::protobuf::Timestamp::descriptor();
}
bool IsDuration(const FieldDescriptor& field) {
  return field.message_type() == google::protobuf::Duration::descriptor();
}

// What a value of `field` must be (one element's, when it is repeated).
absl::string_view Expected(const FieldDescriptor& field) {
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return "an integer";
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      return "a number";
    case FieldDescriptor::CPPTYPE_BOOL:
      return "a boolean";
    case FieldDescriptor::CPPTYPE_STRING:
      return "a string";
    case FieldDescriptor::CPPTYPE_ENUM:
      return "an enum string";
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (IsTimestamp(field)) return "a timestamp string";
      if (IsDuration(field)) return "a timespan string";
      return "an object";
  }
  return "a value";
}

// .NET writes DateTime.MinValue for "no time"; such fields stay unset.
bool IsMinValueTime(absl::string_view text) {
  return absl::StartsWith(text, "0001-01-01T00:00:00");
}

// A JSON scalar as the SAX parser reports it.
struct Scalar {
  enum class Kind { kNull, kBool, kInteger, kUnsigned, kFloat, kString };
  Kind kind = Kind::kNull;
  bool boolean = false;
  int64_t integer = 0;
  uint64_t unsigned_integer = 0;
  double floating = 0;
  std::string* text = nullptr;  // kString: the parser's, may be moved from.

  bool IsNumber() const {
    return kind == Kind::kInteger || kind == Kind::kUnsigned ||
           kind == Kind::kFloat;
  }
  double AsDouble() const {
    if (kind == Kind::kInteger) return static_cast<double>(integer);
    if (kind == Kind::kUnsigned) return static_cast<double>(unsigned_integer);
    return floating;
  }
};

// An integer in [min, max]: a JSON integer, an integral float, or a decimal
// string; nullopt otherwise.
std::optional<int64_t> ScalarToInt(const Scalar& value, int64_t min,
                                   int64_t max) {
  int64_t result = 0;
  switch (value.kind) {
    case Scalar::Kind::kInteger:
      result = value.integer;
      break;
    case Scalar::Kind::kUnsigned:
      if (value.unsigned_integer >
          static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return std::nullopt;
      }
      result = static_cast<int64_t>(value.unsigned_integer);
      break;
    case Scalar::Kind::kFloat:
      if (std::trunc(value.floating) != value.floating ||
          std::abs(value.floating) > 9.0e18) {
        return std::nullopt;
      }
      result = static_cast<int64_t>(value.floating);
      break;
    case Scalar::Kind::kString:
      if (!absl::SimpleAtoi(*value.text, &result)) return std::nullopt;
      break;
    default:
      return std::nullopt;
  }
  if (result < min || result > max) return std::nullopt;
  return result;
}

// Sets one value of a scalar, enum, Timestamp or Duration `field` (appending
// when it is repeated); false if `value` is not one.
bool SetScalar(Scalar& value, Message& message, const FieldDescriptor& field) {
  const Reflection& r = *message.GetReflection();
  const bool repeated = field.is_repeated();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      std::optional<int64_t> v =
          ScalarToInt(value, std::numeric_limits<int32_t>::min(),
                      std::numeric_limits<int32_t>::max());
      if (!v) return false;
      repeated ? r.AddInt32(&message, &field, static_cast<int32_t>(*v))
               : r.SetInt32(&message, &field, static_cast<int32_t>(*v));
      return true;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      std::optional<int64_t> v =
          ScalarToInt(value, 0, std::numeric_limits<uint32_t>::max());
      if (!v) return false;
      repeated ? r.AddUInt32(&message, &field, static_cast<uint32_t>(*v))
               : r.SetUInt32(&message, &field, static_cast<uint32_t>(*v));
      return true;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      std::optional<int64_t> v =
          ScalarToInt(value, std::numeric_limits<int64_t>::min(),
                      std::numeric_limits<int64_t>::max());
      if (!v) return false;
      repeated ? r.AddInt64(&message, &field, *v)
               : r.SetInt64(&message, &field, *v);
      return true;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      std::optional<int64_t> v =
          ScalarToInt(value, 0, std::numeric_limits<int64_t>::max());
      if (!v) return false;
      repeated ? r.AddUInt64(&message, &field, static_cast<uint64_t>(*v))
               : r.SetUInt64(&message, &field, static_cast<uint64_t>(*v));
      return true;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      if (!value.IsNumber()) return false;
      const double d = value.AsDouble();
      if (field.cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        repeated ? r.AddDouble(&message, &field, d)
                 : r.SetDouble(&message, &field, d);
      } else {
        repeated ? r.AddFloat(&message, &field, static_cast<float>(d))
                 : r.SetFloat(&message, &field, static_cast<float>(d));
      }
      return true;
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      if (value.kind != Scalar::Kind::kBool) return false;
      repeated ? r.AddBool(&message, &field, value.boolean)
               : r.SetBool(&message, &field, value.boolean);
      return true;
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string text;
      switch (value.kind) {
        case Scalar::Kind::kString:
          text = std::move(*value.text);
          break;
        // Tolerate ids sent as numbers, written as nlohmann writes them.
        case Scalar::Kind::kInteger:
          text = absl::StrCat(value.integer);
          break;
        case Scalar::Kind::kUnsigned:
          text = absl::StrCat(value.unsigned_integer);
          break;
        case Scalar::Kind::kFloat:
          text = Json(value.floating).dump();
          break;
        default:
          return false;
      }
      repeated ? r.AddString(&message, &field, std::move(text))
               : r.SetString(&message, &field, std::move(text));
      return true;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      if (value.kind != Scalar::Kind::kString) return false;
      const EnumValueDescriptor* e =
          EnumFromDojo(*field.enum_type(), *value.text);
      repeated ? r.AddEnum(&message, &field, e)
               : r.SetEnum(&message, &field, e);
      return true;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      if (value.kind != Scalar::Kind::kString) return false;
      if (IsTimestamp(field)) {
        absl::StatusOr<absl::Time> time = ParseDojoTime(*value.text);
        if (!time.ok()) return false;
        Message* ts = repeated ? r.AddMessage(&message, &field)
                               : r.MutableMessage(&message, &field);
        ToTimestamp(*time, static_cast<google::protobuf::Timestamp&>(*ts));
        return true;
      }
      if (IsDuration(field)) {
        absl::StatusOr<absl::Duration> duration = ParseTimespan(*value.text);
        if (!duration.ok()) return false;
        Message* d = repeated ? r.AddMessage(&message, &field)
                              : r.MutableMessage(&message, &field);
        auto& proto = static_cast<google::protobuf::Duration&>(*d);
        const int64_t nanos = absl::ToInt64Nanoseconds(*duration);
        proto.set_seconds(nanos / 1000000000);
        proto.set_nanos(static_cast<int32_t>(nanos % 1000000000));
        return true;
      }
      return false;
    }
  }
  return false;
}

// Why a Timestamp or Duration that is not a well-formed string is wrong
// (the message of SetScalar's false for them).
absl::string_view ExpectedText(const FieldDescriptor& field) {
  if (IsTimestamp(field)) return "an RFC 3339 timestamp in 0001..9999";
  if (IsDuration(field)) return "a d.hh:mm:ss timespan";
  return Expected(field);
}

// The SAX handler: a stack of the objects, arrays and maps open, each
// filling its message.
class ProtoFiller final : public nlohmann::json_sax<Json> {
 public:
  ProtoFiller(Message& root, absl::string_view root_path)
      : root_(root), root_path_(root_path) {}

  // After a successful parse: the first wrong type found, or OK.
  absl::Status status() && { return std::move(status_); }

  bool null() override {
    Scalar value;
    return OnScalar(value);
  }
  bool boolean(bool b) override {
    Scalar value{Scalar::Kind::kBool};
    value.boolean = b;
    return OnScalar(value);
  }
  bool number_integer(number_integer_t i) override {
    Scalar value{Scalar::Kind::kInteger};
    value.integer = i;
    return OnScalar(value);
  }
  bool number_unsigned(number_unsigned_t u) override {
    Scalar value{Scalar::Kind::kUnsigned};
    value.unsigned_integer = u;
    return OnScalar(value);
  }
  bool number_float(number_float_t f, const string_t&) override {
    Scalar value{Scalar::Kind::kFloat};
    value.floating = f;
    return OnScalar(value);
  }
  bool string(string_t& s) override {
    Scalar value{Scalar::Kind::kString};
    value.text = &s;
    return OnScalar(value);
  }
  bool binary(binary_t&) override { return false; }  // Not in JSON text.

  bool start_object(std::size_t) override { return OnOpen(/*object=*/true); }
  bool start_array(std::size_t) override { return OnOpen(/*object=*/false); }
  bool end_object() override { return OnClose(); }
  bool end_array() override { return OnClose(); }

  bool key(string_t& key) override {
    if (Ignoring()) return true;
    Frame& frame = frames_.back();
    frame.key.assign(key);
    if (frame.kind == Frame::Kind::kObject) {
      auto it = frame.index->by_key.find(key);
      frame.field = it == frame.index->by_key.end() ? nullptr : it->second;
    }
    return true;
  }

  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  struct Frame {
    enum class Kind { kObject, kArray, kMap };
    Kind kind;
    // kObject: the message filled; kArray, kMap: the one holding `field`.
    Message* message;
    // kObject: the field of the last key (nullptr: unknown, skipped);
    // kArray, kMap: the repeated or map field filled.
    const FieldDescriptor* field;
    const MessageIndex* index = nullptr;  // kObject.
    std::string key;                      // kObject, kMap: the last key.
    size_t element = 0;                   // kArray: the element at hand.
  };

  // After a wrong type (only the syntax is still checked) or inside an
  // unknown key's value.
  bool Ignoring() const { return !status_.ok() || skip_depth_ > 0; }

  // The JSON path of the value at hand, as errors name it.
  std::string Path() const {
    std::string path(root_path_);
    for (const Frame& frame : frames_) {
      switch (frame.kind) {
        case Frame::Kind::kObject:
          if (!path.empty()) path.push_back('.');
          path += frame.key;
          break;
        case Frame::Kind::kArray:
          absl::StrAppend(&path, "[", frame.element, "]");
          break;
        case Frame::Kind::kMap:
          absl::StrAppend(&path, ".", frame.key);
          break;
      }
    }
    return path;
  }

  bool Fail(absl::string_view expected) {
    status_ = WrongType(Path(), expected);
    return true;  // Go on: a syntax error later still wins.
  }

  // The value at hand completed (an array counts its elements).
  void Completed() {
    if (!frames_.empty() && frames_.back().kind == Frame::Kind::kArray) {
      ++frames_.back().element;
    }
  }

  bool OnScalar(Scalar& value) {
    if (Ignoring()) return true;
    if (frames_.empty()) return Fail("an object");
    Frame& frame = frames_.back();
    const bool is_null = value.kind == Scalar::Kind::kNull;
    switch (frame.kind) {
      case Frame::Kind::kObject: {
        if (frame.field == nullptr || is_null) return true;
        const FieldDescriptor& field = *frame.field;
        if (IsTimestamp(field) && value.kind == Scalar::Kind::kString &&
            IsMinValueTime(*value.text)) {
          return true;
        }
        if (field.is_map()) return Fail("an object");
        if (field.is_repeated()) return Fail("an array");
        if (!SetScalar(value, *frame.message, field)) {
          return Fail(value.kind == Scalar::Kind::kString ? ExpectedText(field)
                                                          : Expected(field));
        }
        return true;
      }
      case Frame::Kind::kArray: {
        const FieldDescriptor& field = *frame.field;
        if (!SetScalar(value, *frame.message, field)) {
          return Fail(value.kind == Scalar::Kind::kString ? ExpectedText(field)
                                                          : Expected(field));
        }
        Completed();
        return true;
      }
      case Frame::Kind::kMap: {
        if (is_null) return true;
        Message& entry = NewMapEntry(frame);
        const FieldDescriptor& field = *entry.GetDescriptor()->map_value();
        if (!SetScalar(value, entry, field)) {
          return Fail(value.kind == Scalar::Kind::kString ? ExpectedText(field)
                                                          : Expected(field));
        }
        return true;
      }
    }
    return true;
  }

  Message& NewMapEntry(const Frame& frame) {
    Message& entry =
        *frame.message->GetReflection()->AddMessage(frame.message, frame.field);
    entry.GetReflection()->SetString(&entry, entry.GetDescriptor()->map_key(),
                                     frame.key);
    return entry;
  }

  // `field` of `message` takes an object (a message, or a map's entries).
  bool OpenObject(Message& message, const FieldDescriptor& field,
                  bool element) {
    if (field.is_map() && !element) {
      // A repeated key: the last one wins.
      message.GetReflection()->ClearField(&message, &field);
      frames_.push_back({Frame::Kind::kMap, &message, &field, nullptr, {}, 0});
      return true;
    }
    if (field.is_repeated() && !element) return Fail("an array");
    if (field.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
        IsTimestamp(field) || IsDuration(field)) {
      return Fail(Expected(field));
    }
    const Reflection& r = *message.GetReflection();
    Message* child;
    if (element) {
      child = r.AddMessage(&message, &field);
    } else {
      r.ClearField(&message, &field);  // A repeated key: the last one wins.
      child = r.MutableMessage(&message, &field);
    }
    PushObject(*child);
    return true;
  }

  void PushObject(Message& message) {
    frames_.push_back({Frame::Kind::kObject,
                       &message,
                       nullptr,
                       &DescriptorIndexes::Get().For(*message.GetDescriptor()),
                       {},
                       0});
  }

  // `field` of `message` takes an array.
  bool OpenArray(Message& message, const FieldDescriptor& field, bool element) {
    if (element || !field.is_repeated()) return Fail(Expected(field));
    if (field.is_map()) return Fail("an object");
    message.GetReflection()->ClearField(&message, &field);
    frames_.push_back({Frame::Kind::kArray, &message, &field, nullptr, {}, 0});
    return true;
  }

  bool OnOpen(bool object) {
    if (Ignoring()) {
      if (status_.ok()) ++skip_depth_;
      return true;
    }
    if (frames_.empty()) {
      if (!object || opened_root_) return Fail("an object");
      opened_root_ = true;
      PushObject(root_);
      return true;
    }
    Frame& frame = frames_.back();
    switch (frame.kind) {
      case Frame::Kind::kObject:
        if (frame.field == nullptr) {
          skip_depth_ = 1;
          return true;
        }
        return object ? OpenObject(*frame.message, *frame.field, false)
                      : OpenArray(*frame.message, *frame.field, false);
      case Frame::Kind::kArray:
        return object ? OpenObject(*frame.message, *frame.field, true)
                      : OpenArray(*frame.message, *frame.field, true);
      case Frame::Kind::kMap: {
        Message& entry = NewMapEntry(frame);
        const FieldDescriptor& field = *entry.GetDescriptor()->map_value();
        return object ? OpenObject(entry, field, false)
                      : OpenArray(entry, field, false);
      }
    }
    return true;
  }

  bool OnClose() {
    if (!status_.ok()) return true;
    if (skip_depth_ > 0) {
      --skip_depth_;
      return true;
    }
    frames_.pop_back();
    Completed();
    return true;
  }

  Message& root_;
  const absl::string_view root_path_;
  std::vector<Frame> frames_;
  bool opened_root_ = false;
  int skip_depth_ = 0;
  absl::Status status_;
};

// FromDojoJson, with error paths starting at `root_path`.
absl::Status ReadDojoJson(absl::string_view json, Message& message,
                          absl::string_view root_path) {
  ProtoFiller filler(message, root_path);
  if (!Json::sax_parse(json.begin(), json.end(), &filler)) {
    return absl::InvalidArgumentError("dojo json: not valid JSON");
  }
  return std::move(filler).status();
}

}  // namespace

std::string ToDojoJson(const Message& message) {
  std::string out;
  AppendMessage(message, out);
  return out;
}

absl::Status FromDojoJson(absl::string_view json, Message& message) {
  return ReadDojoJson(json, message, "");
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
      // Search pages are few (the reconciler's): each intent is written out
      // and read again, so there is one reader.
      v1::PaymentIntent intent;
      absl::Status status = ReadDojoJson(item.dump(), intent, "data[]");
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

namespace {

// Days from 1970-01-01 to year-month-day (proleptic Gregorian; H. Hinnant's
// days_from_civil).
int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year =
      (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// The form Dojo sends, "YYYY-MM-DDTHH:MM:SS[.f{1,9}][Z]", read without
// absl::ParseTime (a tenth of a GetIntent's mapping). nullopt for anything
// else (offsets, other digit counts, leap seconds, impossible dates), which
// absl::ParseTime then decides: the two agree wherever this one answers.
std::optional<absl::Time> ParseCommonDojoTime(absl::string_view text) {
  const auto number = [&](size_t at, size_t digits, int& value) {
    value = 0;
    for (size_t i = at; i < at + digits; ++i) {
      if (!absl::ascii_isdigit(text[i])) return false;
      value = value * 10 + (text[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (text.size() < 19 || !number(0, 4, year) || text[4] != '-' ||
      !number(5, 2, month) || text[7] != '-' || !number(8, 2, day) ||
      text[10] != 'T' || !number(11, 2, hour) || text[13] != ':' ||
      !number(14, 2, minute) || text[16] != ':' || !number(17, 2, second)) {
    return std::nullopt;
  }
  if (year < 1 || month < 1 || month > 12 || day < 1 ||
      day > DaysInMonth(year, month) || hour > 23 || minute > 59 ||
      second > 59) {
    return std::nullopt;
  }
  size_t at = 19;
  int64_t nanos = 0;
  if (at < text.size() && text[at] == '.') {
    const size_t first = ++at;
    while (at < text.size() && absl::ascii_isdigit(text[at])) ++at;
    const size_t digits = at - first;
    if (digits == 0 || digits > 9) return std::nullopt;
    for (size_t i = 0; i < 9; ++i) {
      nanos = nanos * 10 + (i < digits ? text[first + i] - '0' : 0);
    }
  }
  if (at < text.size() && text[at] == 'Z') ++at;
  if (at != text.size()) return std::nullopt;
  const int64_t seconds = DaysFromCivil(year, month, day) * 86400 +
                          hour * 3600 + minute * 60 + second;
  return absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
}

}  // namespace

absl::StatusOr<absl::Time> ParseDojoTime(absl::string_view text) {
  if (std::optional<absl::Time> common = ParseCommonDojoTime(text)) {
    return *common;  // Years 0001..9999: always in range.
  }
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
