#include "lib/webhook/signature_verifier.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "lib/common/status_details.h"

namespace payments::webhook {
namespace {

// Dojo's documented test vector (the body has no trailing newline).
constexpr absl::string_view kBody =
    R"({"id":"evt_hnnHxIKR_Uy6bhZCusCltw","event":"payment_intent.created",)"
    R"("accountId":"acc_test","createdAt":"2022-02-01T13:07:41.8667859Z",)"
    R"("data":{"paymentIntentId":"pi_vpwd4ooAPEqyNAQe4z89WQ",)"
    R"("paymentStatus":"Created","captureMode":"Auto"}})";
constexpr absl::string_view kSecret = "PDYkJQq6sESYHp_zJuTTBQ";
constexpr absl::string_view kSignature =
    "sha256=4B-49-F8-FE-25-A7-E6-7D-00-4F-A7-9C-F8-0B-63-00-C7-77-B4-F2-2D-E5-"
    "E1-22-84-FA-04-18-50-A1-76-FD";

SignatureVerifier DocsVerifier() {
  return SignatureVerifier(
      std::vector<WebhookSecret>{{"primary", std::string(kSecret)}});
}

void ExpectError(const absl::StatusOr<std::string>& result,
                 absl::StatusCode code, absl::string_view reason) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), code) << result.status();
  auto info = GetErrorInfo(result.status());
  ASSERT_TRUE(info.has_value()) << result.status();
  EXPECT_EQ(info->reason(), reason);
  EXPECT_EQ(std::string(result.status().message()).find(std::string(kSecret)),
            std::string::npos);
}

TEST(SignatureVerifierTest, DocsVectorVerifies) {
  auto result = DocsVerifier().Verify(kBody, kSignature);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "primary");
}

TEST(SignatureVerifierTest, ComputeSignatureReproducesDocsVector) {
  EXPECT_EQ(ComputeSignature(kSecret, kBody), kSignature);
}

TEST(SignatureVerifierTest, OneByteChangeMismatches) {
  std::string body(kBody);
  body[body.size() - 3] = 'X';  // "Auto" -> "AutX".
  ExpectError(DocsVerifier().Verify(body, kSignature),
              absl::StatusCode::kUnauthenticated, reason::kSignatureMismatch);
  ExpectError(DocsVerifier().Verify(std::string(kBody) + "\n", kSignature),
              absl::StatusCode::kUnauthenticated, reason::kSignatureMismatch);
}

TEST(SignatureVerifierTest, WrongSecretMismatches) {
  SignatureVerifier verifier(
      std::vector<WebhookSecret>{{"other", "not-the-secret"}});
  ExpectError(verifier.Verify(kBody, kSignature),
              absl::StatusCode::kUnauthenticated, reason::kSignatureMismatch);
}

TEST(SignatureVerifierTest, LowercaseHexAndPrefixAccepted) {
  std::string lower = absl::AsciiStrToLower(std::string(kSignature));
  EXPECT_TRUE(DocsVerifier().Verify(kBody, lower).ok());
  std::string upper_prefix = "SHA256=" + std::string(kSignature.substr(7));
  EXPECT_TRUE(DocsVerifier().Verify(kBody, upper_prefix).ok());
}

TEST(SignatureVerifierTest, SurroundingWhitespaceTrimmed) {
  EXPECT_TRUE(
      DocsVerifier().Verify(kBody, "  " + std::string(kSignature) + "\t").ok());
}

TEST(SignatureVerifierTest, MissingSignature) {
  ExpectError(DocsVerifier().Verify(kBody, ""),
              absl::StatusCode::kUnauthenticated, reason::kSignatureMissing);
  ExpectError(DocsVerifier().Verify(kBody, "   "),
              absl::StatusCode::kUnauthenticated, reason::kSignatureMissing);
}

TEST(SignatureVerifierTest, MalformedSignatures) {
  const std::string hex(kSignature.substr(7));
  const std::vector<std::string> malformed = {
      "sha1=" + hex,                                       // Wrong prefix.
      hex,                                                 // No prefix.
      "sha256:" + hex,                                     // Wrong separator.
      "sha256=" + hex.substr(3),                           // 31 pairs.
      "sha256=" + hex + "-00",                             // 33 pairs.
      "sha256=" + hex.substr(0, hex.size() - 1) + "G",     // Non-hex.
      "sha256= " + hex,                                    // Space after '='.
      "sha256=" + hex.substr(0, 5) + " " + hex.substr(5),  // Space inside.
      "sha256=" + std::string(hex).replace(2, 1, ":"),     // Wrong joiner.
      "sha256=" + std::string(hex).replace(2, 1, ""),      // Joiner missing.
      "sha256=",
  };
  for (const std::string& header : malformed) {
    SCOPED_TRACE(header);
    ExpectError(DocsVerifier().Verify(kBody, header),
                absl::StatusCode::kUnauthenticated,
                reason::kSignatureMalformed);
  }
}

TEST(SignatureVerifierTest, RotationReturnsMatchingSecretId) {
  SignatureVerifier verifier(std::vector<WebhookSecret>{
      {"old", "an-old-secret"}, {"new", std::string(kSecret)}});
  auto result = verifier.Verify(kBody, kSignature);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "new");

  const std::string signed_with_old = ComputeSignature("an-old-secret", kBody);
  result = verifier.Verify(kBody, signed_with_old);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "old");
}

TEST(SignatureVerifierTest, NoSecretsIsFailedPrecondition) {
  SignatureVerifier verifier(std::vector<WebhookSecret>{});
  ExpectError(verifier.Verify(kBody, kSignature),
              absl::StatusCode::kFailedPrecondition, reason::kNoWebhookSecrets);
  SignatureVerifier only_empty(std::vector<WebhookSecret>{{"blank", ""}});
  EXPECT_EQ(only_empty.secret_count(), 0u);
  ExpectError(only_empty.Verify(kBody, kSignature),
              absl::StatusCode::kFailedPrecondition, reason::kNoWebhookSecrets);
}

TEST(SignatureVerifierTest, ErrorMessagesHoldNoSignature) {
  auto result = DocsVerifier().Verify("tampered", kSignature);
  ASSERT_FALSE(result.ok());
  const std::string message(result.status().message());
  EXPECT_EQ(message.find("4B-49"), std::string::npos);
  const std::string expected = ComputeSignature(kSecret, "tampered");
  EXPECT_EQ(message.find(expected.substr(7, 8)), std::string::npos);
}

TEST(SignatureFromHeadersTest, ExplicitSignatureWins) {
  EXPECT_EQ(SignatureFromHeaders("sha256=AA", {{"dojo-signature", "other"}}),
            "sha256=AA");
}

TEST(SignatureFromHeadersTest, HeaderMatchedCaseInsensitively) {
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"content-type", "application/json"},
      {"Dojo-Signature", "sha256=BB"},
      {"dojo-signature", "sha256=CC"},
  };
  EXPECT_EQ(SignatureFromHeaders("", headers), "sha256=BB");
  EXPECT_EQ(SignatureFromHeaders("", {{"DOJO-SIGNATURE", "x"}}), "x");
  EXPECT_EQ(SignatureFromHeaders("", {{"content-type", "y"}}), "");
  EXPECT_EQ(SignatureFromHeaders("", {}), "");
}

}  // namespace
}  // namespace payments::webhook
