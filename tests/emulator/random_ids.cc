#include "tests/emulator/random_ids.h"

#include <openssl/rand.h>

#include <cstdlib>
#include <vector>

namespace dojo_emulator {
namespace {

std::vector<unsigned char> RandomBytes(size_t n) {
  std::vector<unsigned char> bytes(n);
  if (n > 0 && RAND_bytes(bytes.data(), static_cast<int>(n)) != 1) {
    std::abort();  // No entropy: nothing sensible to do in a test tool.
  }
  return bytes;
}

}  // namespace

std::string RandomBase64Url(size_t chars) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve(chars);
  for (unsigned char b : RandomBytes(chars)) out.push_back(kAlphabet[b & 63]);
  return out;
}

std::string RandomHex(size_t chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(chars);
  for (unsigned char b : RandomBytes(chars)) out.push_back(kHex[b & 15]);
  return out;
}

std::string NewIntentId() { return "pi_sandbox_" + RandomBase64Url(22); }

std::string NewEventId() { return "evt_" + RandomBase64Url(22); }

std::string NewCaptureId() { return "cp_" + RandomBase64Url(22); }

std::string NewRefundId() { return "rfnd_" + RandomBase64Url(22); }

std::string NewReversalId() { return "rvs_" + RandomBase64Url(22); }

std::string NewTraceId() {
  return "00-" + RandomHex(32) + "-" + RandomHex(16) + "-01";
}

std::string NewClientSessionSecret() { return RandomBase64Url(172); }

}  // namespace dojo_emulator
