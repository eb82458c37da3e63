// Random identifiers in the shapes Dojo uses. Thread-safe (OpenSSL RAND).
#ifndef TESTS_EMULATOR_RANDOM_IDS_H_
#define TESTS_EMULATOR_RANDOM_IDS_H_

#include <cstddef>
#include <string>

namespace dojo_emulator {

// `chars` random characters from the base64url alphabet (A-Z a-z 0-9 - _).
std::string RandomBase64Url(size_t chars);

// `chars` random lowercase hex digits.
std::string RandomHex(size_t chars);

// "pi_sandbox_" + 22 base64url characters.
std::string NewIntentId();

// "evt_" + 22 base64url characters.
std::string NewEventId();

// "cp_" + 22 base64url characters (a capture).
std::string NewCaptureId();

// "rfnd_" + 22 base64url characters (a refund).
std::string NewRefundId();

// "rvs_" + 22 base64url characters (a reversal).
std::string NewReversalId();

// A W3C traceparent-like id as ASP.NET puts in problem details:
// "00-<32 hex>-<16 hex>-01".
std::string NewTraceId();

// A long random client session secret.
std::string NewClientSessionSecret();

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_RANDOM_IDS_H_
