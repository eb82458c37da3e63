#include "lib/webhook/webhook_event.h"

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace payments::webhook {
namespace {

absl::Time Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::UTCTimeZone());
}

std::string WithCreatedAt(const std::string& created_at) {
  return R"({"id":"evt_1","event":"payment_intent.created","createdAt":")" +
         created_at + R"("})";
}

TEST(ParseWebhookEventTest, DocsPayload) {
  auto event = ParseWebhookEvent(
      R"({"id":"evt_hnnHxIKR_Uy6bhZCusCltw","event":"payment_intent.created",)"
      R"("accountId":"acc_test","createdAt":"2022-02-01T13:07:41.8667859Z",)"
      R"("data":{"paymentIntentId":"pi_vpwd4ooAPEqyNAQe4z89WQ",)"
      R"("paymentStatus":"Created","captureMode":"Auto"}})");
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->id, "evt_hnnHxIKR_Uy6bhZCusCltw");
  EXPECT_EQ(event->type, "payment_intent.created");
  EXPECT_EQ(event->account_id, "acc_test");
  EXPECT_EQ(event->created_at,
            Utc(2022, 2, 1, 13, 7, 41) + absl::Nanoseconds(866785900));
  EXPECT_EQ(event->payment_intent_id, "pi_vpwd4ooAPEqyNAQe4z89WQ");
  EXPECT_EQ(event->payment_status, "Created");
  EXPECT_EQ(event->capture_mode, "Auto");
}

TEST(ParseWebhookEventTest, FractionalDigitsAndZones) {
  const absl::Time base = Utc(2022, 2, 1, 13, 7, 41);
  const struct {
    std::string text;
    absl::Time want;
  } cases[] = {
      {"2022-02-01T13:07:41Z", base},
      {"2022-02-01T13:07:41.5Z", base + absl::Milliseconds(500)},
      {"2022-02-01T13:07:41.123456789Z", base + absl::Nanoseconds(123456789)},
      {"2022-02-01T14:07:41.25+01:00", base + absl::Milliseconds(250)},
      {"2022-02-01T12:07:41-01:00", base},
      {"2022-02-01t13:07:41z", base},
      {"2022-02-01T13:07:41.1", base + absl::Milliseconds(100)},  // No zone.
      {"2022-02-01T13:07:41", base},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto event = ParseWebhookEvent(WithCreatedAt(c.text));
    ASSERT_TRUE(event.ok()) << event.status();
    EXPECT_EQ(event->created_at, c.want);
  }
}

TEST(ParseWebhookEventTest, BadTimestamp) {
  for (const char* text : {"yesterday", "2022-02-01", "2022-02-01T13:07Z",
                           "2022-02-01T13:07:41+0100x"}) {
    SCOPED_TRACE(text);
    auto event = ParseWebhookEvent(WithCreatedAt(text));
    ASSERT_FALSE(event.ok());
    EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ParseWebhookEventTest, UnknownFieldsAndMissingOptionalsTolerated) {
  auto event = ParseWebhookEvent(
      R"({"id":"evt_2","event":"payment_intent.status_updated","extra":[1,{}],)"
      R"("accountId":null,"data":{"paymentIntentId":"pi_1","more":true}})");
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->id, "evt_2");
  EXPECT_EQ(event->type, "payment_intent.status_updated");
  EXPECT_EQ(event->account_id, "");
  EXPECT_EQ(event->created_at, absl::InfinitePast());
  EXPECT_EQ(event->payment_intent_id, "pi_1");
  EXPECT_EQ(event->payment_status, "");
}

TEST(ParseWebhookEventTest, IdWithControlCharactersIsRefused) {
  // A NUL in the id was accepted, then refused by the store, so the event
  // was never remembered and a redelivery never flagged as a duplicate.
  for (const std::string& body : {
           std::string(R"({"id":"evt_1\u0000x","event":"e"})"),
           std::string(R"({"id":"evt_1\nx","event":"e"})"),
           std::string(R"({"id":"evt_1\u007f","event":"e"})"),
           R"({"id":")" + std::string(256, 'e') + R"(","event":"e"})",
       }) {
    SCOPED_TRACE(body);
    auto event = ParseWebhookEvent(body);
    EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
  }
  auto longest = ParseWebhookEvent(R"({"id":")" + std::string(255, 'e') +
                                   R"(","event":"e"})");
  EXPECT_TRUE(longest.ok()) << longest.status();
}

TEST(ParseWebhookEventTest, CreatedAtOutsideTimestampRangeIsRefused) {
  EXPECT_EQ(
      ParseWebhookEvent(WithCreatedAt("10000-01-01T00:00:00Z")).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ParseWebhookEvent(WithCreatedAt("9999-12-31T23:59:59Z")).ok());
}

TEST(ParseWebhookEventTest, InvalidBodies) {
  const char* bodies[] = {
      "",
      "not json",
      R"({"id":"evt_1","event":"x")",  // Truncated.
      "[]",
      R"("string")",
      R"({"event":"payment_intent.created"})",  // No id.
      R"({"id":"evt_1"})",                      // No event.
      R"({"id":"","event":"x"})",
      R"({"id":42,"event":"x"})",
      R"({"id":"evt_1","event":["x"]})",
      R"({"id":"evt_1","event":"x","createdAt":12})",
      R"({"id":"evt_1","event":"x","data":"pi_1"})",
      R"({"id":"evt_1","event":"x","data":{"paymentStatus":1}})",
  };
  for (const char* body : bodies) {
    SCOPED_TRACE(body);
    auto event = ParseWebhookEvent(body);
    ASSERT_FALSE(event.ok());
    EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
    if (std::string(body).size() > 4) {
      EXPECT_EQ(std::string(event.status().message()).find(body),
                std::string::npos);
    }
  }
}

}  // namespace
}  // namespace payments::webhook
