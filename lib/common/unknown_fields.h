#ifndef LIB_COMMON_UNKNOWN_FIELDS_H_
#define LIB_COMMON_UNKNOWN_FIELDS_H_

#include "google/protobuf/message.h"

namespace payments {

// Whether `message` or any message in it holds fields this build does not
// know (e.g. read from a record another version wrote). Maps with scalar
// values are not looked into: their entries are rebuilt from key and value
// when serialized, so nothing unknown in them is ever sent.
bool HasUnknownFields(const google::protobuf::Message& message);

// Message::DiscardUnknownFields(), only when HasUnknownFields(): the check
// reads, where discarding rewrites every submessage by reflection (about a
// tenth of a replayed CreateIntent's instructions, for nothing in the
// usual case).
void DiscardUnknownFieldsIfAny(google::protobuf::Message& message);

}  // namespace payments

#endif  // LIB_COMMON_UNKNOWN_FIELDS_H_
