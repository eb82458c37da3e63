// Request validation as Dojo (ASP.NET) does it, driven by a small copy of the
// OpenAPI schemas in tests/data/openapi/openapi-2025-09-10.yaml.
#ifndef TESTS_EMULATOR_VALIDATION_H_
#define TESTS_EMULATOR_VALIDATION_H_

#include <optional>
#include <string_view>

#include "tests/emulator/http_types.h"
#include "tests/emulator/timestamps.h"

namespace dojo_emulator {

// Each returns the ASP.NET `errors` map ({"Amount.Value": ["..."]}); an empty
// object means the request is valid. Keys are PascalCase dotted paths with
// array indices ("ItemLines[0].AmountTotal"); "$" is the document itself.

// Validates a CreatePaymentIntentRequest body (raw bytes, parsed here).
Json ValidateCreatePaymentIntent(std::string_view body, TimePoint now);

// Validates a SearchPaymentIntentRequest body; an empty body counts as {}.
Json ValidateSearchPaymentIntents(std::string_view body);

// Validates a CreateCaptureRequest body (amount >= 1, tipsAmount >= 0).
Json ValidateCreateCapture(std::string_view body);

// Validates a CreateRefundRequest body (amount >= 1) and the required
// `idempotencyKey` header (nullopt: absent; at most 100 characters).
Json ValidateCreateRefund(std::string_view body,
                          std::optional<std::string_view> idempotency_key);

// Validates a SetAmountRequest body (amount.value >= 1, GBP or EUR).
Json ValidateSetAmount(std::string_view body);

// The refundId path parameter: at most 50 characters.
Json ValidateRefundId(std::string_view refund_id);

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_VALIDATION_H_
