#include "lib/common/unknown_fields.h"

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

namespace payments {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

namespace {

// The fields of `type` that hold messages (maps only when their values do),
// listed once per thread: the descriptor's own walk (field(i), cpp_type())
// costs more than the check itself.
const std::vector<const FieldDescriptor*>& MessageFields(
    const Descriptor& type) {
  thread_local absl::flat_hash_map<const Descriptor*,
                                   std::vector<const FieldDescriptor*>>
      cache;
  auto [it, inserted] = cache.try_emplace(&type);
  if (inserted) {
    for (int i = 0; i < type.field_count(); ++i) {
      const FieldDescriptor& field = *type.field(i);
      if (field.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
      if (field.is_map() && field.message_type()->map_value()->cpp_type() !=
                                FieldDescriptor::CPPTYPE_MESSAGE) {
        continue;
      }
      it->second.push_back(&field);
    }
  }
  return it->second;
}

}  // namespace

bool HasUnknownFields(const Message& message) {
  const Reflection& r = *message.GetReflection();
  if (!r.GetUnknownFields(message).empty()) return true;
  for (const FieldDescriptor* field : MessageFields(*message.GetDescriptor())) {
    if (field->is_repeated()) {
      for (int j = 0; j < r.FieldSize(message, field); ++j) {
        if (HasUnknownFields(r.GetRepeatedMessage(message, field, j))) {
          return true;
        }
      }
    } else if (r.HasField(message, field) &&
               HasUnknownFields(r.GetMessage(message, field))) {
      return true;
    }
  }
  return false;
}

void DiscardUnknownFieldsIfAny(Message& message) {
  if (HasUnknownFields(message)) message.DiscardUnknownFields();
}

}  // namespace payments
