// Webhook signature verification (lib/webhook/signature_verifier.h) and
// event parsing (lib/webhook/webhook_event.h). The input holds a secret and
// a signature header, each ended by a backslash and one other character
// ("\\" is a literal backslash; FuzzedDataProvider's random-length string),
// then the raw body.
//
// Invariants: a presented header is accepted only if it is the body's
// signature under the secret it names; the signature we compute is accepted
// (any case, surrounding blanks) and any one-digit change of it, or of the
// body, is refused as a mismatch; errors never carry the expected
// signature; a parsed event has its required fields.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "lib/common/status_details.h"
#include "lib/webhook/signature_verifier.h"
#include "lib/webhook/webhook_event.h"
#include "tests/fuzz/fuzz_check.h"

namespace payments::webhook {
namespace {

// A second active secret, as during a rotation.
constexpr char kOtherSecret[] = "whsec_fuzz_other_0f3c9a";

std::string ReasonOf(const absl::Status& status) {
  const std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(status);
  return info.has_value() ? info->reason() : "";
}

void CheckPresented(const SignatureVerifier& verifier,
                    const std::vector<WebhookSecret>& secrets,
                    const std::string& body, const std::string& header) {
  const absl::StatusOr<std::string> id = verifier.Verify(body, header);
  const absl::string_view presented = absl::StripAsciiWhitespace(header);
  if (id.ok()) {
    const WebhookSecret* named = nullptr;
    for (const WebhookSecret& secret : secrets) {
      if (secret.id == *id) named = &secret;
    }
    FUZZ_CHECK(named != nullptr && !named->secret.empty(),
               "accepted with an unknown or empty secret");
    FUZZ_CHECK(absl::EqualsIgnoreCase(presented,
                                      ComputeSignature(named->secret, body)),
               "accepted a signature that is not the body's");
    return;
  }
  FUZZ_CHECK(id.status().code() == absl::StatusCode::kUnauthenticated,
             id.status().ToString());
  const std::string reason = ReasonOf(id.status());
  FUZZ_CHECK(reason == reason::kSignatureMissing ||
                 reason == reason::kSignatureMalformed ||
                 reason == reason::kSignatureMismatch,
             absl::StrCat("unexpected reason ", reason));
  FUZZ_CHECK((reason == reason::kSignatureMissing) == presented.empty(),
             "missing iff blank");
  for (const WebhookSecret& secret : secrets) {
    FUZZ_CHECK(
        !absl::StrContains(id.status().ToString(),
                           ComputeSignature(secret.secret, body).substr(7)),
        "error carries the expected signature");
  }
}

void CheckComputed(const SignatureVerifier& verifier, const std::string& secret,
                   const std::string& body, size_t mutation) {
  const std::string signature = ComputeSignature(secret, body);
  FUZZ_CHECK(signature.size() == 7 + 32 * 3 - 1, "signature length");
  const absl::StatusOr<std::string> id = verifier.Verify(body, signature);
  if (secret.empty()) {
    // An empty secret is dropped: nothing signed with it is accepted.
    FUZZ_CHECK(!id.ok(), "accepted a body signed with an empty secret");
    return;
  }
  FUZZ_CHECK(id.ok() && *id == "fuzzed", "own signature refused");
  FUZZ_CHECK(
      verifier
          .Verify(body,
                  absl::StrCat(" \t", absl::AsciiStrToLower(signature), "\r\n"))
          .ok(),
      "lower-case signature with blanks refused");

  // Change one hex digit into another hex digit.
  std::string mutated = signature;
  const size_t byte = mutation % 32;
  const size_t at = 7 + byte * 3 + (mutation / 32) % 2;
  mutated[at] = mutated[at] == '0' ? '1' : '0';
  const absl::StatusOr<std::string> refused = verifier.Verify(body, mutated);
  FUZZ_CHECK(
      !refused.ok() && ReasonOf(refused.status()) == reason::kSignatureMismatch,
      "a changed signature was not refused as a mismatch");
  const absl::StatusOr<std::string> other_body =
      verifier.Verify(body + " ", signature);
  FUZZ_CHECK(!other_body.ok() || *other_body != "fuzzed",
             "a changed body was accepted");
}

void CheckEvent(const std::string& body) {
  const absl::StatusOr<WebhookEvent> event = ParseWebhookEvent(body);
  if (!event.ok()) {
    FUZZ_CHECK(event.status().code() == absl::StatusCode::kInvalidArgument,
               event.status().ToString());
    FUZZ_CHECK(event.status().message().size() <= 128,
               "error message too long (does it echo the body?)");
    return;
  }
  FUZZ_CHECK(!event->id.empty() && !event->type.empty(),
             "event without id or type");
  // RFC 3339 years have four digits; the time also becomes a
  // google.protobuf.Timestamp, valid for years 0001 to 9999.
  if (event->created_at != absl::InfinitePast()) {
    const absl::Time first =
        absl::FromCivil(absl::CivilSecond(1, 1, 1), absl::UTCTimeZone());
    const absl::Time end =
        absl::FromCivil(absl::CivilSecond(10000, 1, 1), absl::UTCTimeZone());
    FUZZ_CHECK(event->created_at >= first && event->created_at < end,
               "createdAt outside years 0001-9999");
  }
}

}  // namespace
}  // namespace payments::webhook

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace payments::webhook;
  FuzzedDataProvider provider(data, size);
  const std::string secret = provider.ConsumeRandomLengthString(128);
  const std::string header = provider.ConsumeRandomLengthString(256);
  const std::string body = provider.ConsumeRemainingBytesAsString();
  const std::vector<WebhookSecret> secrets = {{"fuzzed", secret},
                                              {"other", kOtherSecret}};
  const SignatureVerifier verifier(secrets);

  CheckPresented(verifier, secrets, body, header);
  CheckComputed(verifier, secret, body, size);
  CheckEvent(body);
  return 0;
}
