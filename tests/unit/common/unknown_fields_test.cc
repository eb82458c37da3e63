#include "lib/common/unknown_fields.h"

#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"
#include "payments/v1/payments_service.pb.h"

namespace payments {
namespace {

v1::PaymentIntent Intent() {
  v1::PaymentIntent intent;
  intent.set_id("pi_1");
  intent.mutable_amount()->set_value(1000);
  intent.add_item_lines()->set_name("Latte");
  (*intent.mutable_metadata())["order"] = "42";
  return intent;
}

TEST(UnknownFieldsTest, NoneInAMessageThisBuildWrote) {
  v1::PaymentIntent intent = Intent();
  EXPECT_FALSE(HasUnknownFields(intent));
  const std::string before = intent.SerializeAsString();
  DiscardUnknownFieldsIfAny(intent);
  EXPECT_EQ(intent.SerializeAsString(), before);
}

// As read from a record written by a version with more fields: unknown
// fields at the top, in a singular submessage and in a repeated one are all
// found and all dropped; known fields stay.
TEST(UnknownFieldsTest, FoundAndDroppedAtAnyDepth) {
  for (int where = 0; where < 3; ++where) {
    SCOPED_TRACE(where);
    v1::PaymentIntent written = Intent();
    google::protobuf::Message* holder = &written;
    if (where == 1) holder = written.mutable_amount();
    if (where == 2) holder = written.mutable_item_lines(0);
    google::protobuf::UnknownFieldSet* unknown =
        holder->GetReflection()->MutableUnknownFields(holder);
    unknown->AddLengthDelimited(9999, "from a newer version");
    v1::PaymentIntent read;
    ASSERT_TRUE(read.ParseFromString(written.SerializeAsString()));
    EXPECT_TRUE(HasUnknownFields(read));
    DiscardUnknownFieldsIfAny(read);
    EXPECT_FALSE(HasUnknownFields(read));
    EXPECT_EQ(read.SerializeAsString(), Intent().SerializeAsString());
  }
}

}  // namespace
}  // namespace payments
