// Dojo JSON -> proto (lib/dojo/dojo_json.h). The input is one Dojo answer
// body, read as each kind of answer the client parses: a payment intent (or
// link), a create request, a refund, a search page, a capture id; and, as
// text, as a timespan and a timestamp.
//
// Invariants: whatever reads successfully writes back as Dojo JSON that
// reads again, and writing that gives the same text (stable round trip);
// required ids are non-empty; a parsed timespan is non-negative and
// survives FormatTimespan; errors are INVALID_ARGUMENT and never echo the
// input.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "lib/dojo/dojo_json.h"
#include "payments/v1/payments_service.pb.h"
#include "tests/fuzz/fuzz_check.h"

namespace payments::dojo {
namespace {

// Errors name a JSON path and the expected type; they must not grow with
// (and so cannot copy) the input. Paths come from the input's keys, so the
// bound is loose.
void CheckError(const absl::Status& status, absl::string_view input) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument,
             status.ToString());
  FUZZ_CHECK(status.message().size() <= 128 + input.size(),
             "error message grows beyond the input");
}

// `message` was read from Dojo JSON: what it writes must read back to the
// same message and write the same text again.
void CheckRoundTrip(const google::protobuf::Message& message) {
  const std::string written = ToDojoJson(message);
  std::unique_ptr<google::protobuf::Message> again(message.New());
  const absl::Status status = FromDojoJson(written, *again);
  FUZZ_CHECK(status.ok(),
             absl::StrCat(status.ToString(), " reading ", written));
  const std::string rewritten = ToDojoJson(*again);
  FUZZ_CHECK(rewritten == written,
             absl::StrCat("unstable: ", written, " -> ", rewritten));
}

template <typename Message>
void CheckMessage(absl::string_view input) {
  Message message;
  const absl::Status status = FromDojoJson(input, message);
  if (!status.ok()) {
    CheckError(status, input);
    return;
  }
  CheckRoundTrip(message);
}

void CheckAnswers(absl::string_view input) {
  CheckMessage<v1::PaymentIntent>(input);
  CheckMessage<v1::CreateIntentRequest>(input);
  CheckMessage<v1::CreatePaymentLinkRequest>(input);

  if (absl::StatusOr<v1::Refund> refund = ParseRefund(input); refund.ok()) {
    FUZZ_CHECK(!refund->id().empty(), "refund without id");
    FUZZ_CHECK(refund->amount() == 0, "refund with an amount");
  } else {
    CheckError(refund.status(), input);
  }
  if (absl::StatusOr<SearchPage> page = ParseSearchPage(input); page.ok()) {
    for (const v1::PaymentIntent& intent : page->intents) {
      CheckRoundTrip(intent);
    }
  } else {
    CheckError(page.status(), input);
  }
  if (absl::StatusOr<std::string> id = ParseIdField(input, "captureId");
      id.ok()) {
    FUZZ_CHECK(!id->empty(), "empty capture id");
  } else {
    CheckError(id.status(), input);
  }
}

void CheckTexts(absl::string_view input) {
  if (absl::StatusOr<absl::Duration> span = ParseTimespan(input); span.ok()) {
    FUZZ_CHECK(
        *span >= absl::ZeroDuration() && *span < absl::InfiniteDuration(),
        "timespan negative or infinite");
    const std::string formatted = FormatTimespan(*span);
    const absl::StatusOr<absl::Duration> again = ParseTimespan(formatted);
    FUZZ_CHECK(again.ok(), absl::StrCat("cannot read back ", formatted));
    // FormatTimespan keeps .NET's 100 ns ticks.
    FUZZ_CHECK(*again == absl::Trunc(*span, absl::Nanoseconds(100)),
               absl::StrCat("timespan round trip via ", formatted));
  }
  (void)ParseDojoTime(input);
}

}  // namespace
}  // namespace payments::dojo

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  payments::dojo::CheckAnswers(input);
  if (size <= 256) payments::dojo::CheckTexts(input);
  return 0;
}
