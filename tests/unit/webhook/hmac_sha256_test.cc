#include "lib/webhook/hmac_sha256.h"

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace payments::webhook {
namespace {

std::string Hex(const std::optional<Sha256Digest>& digest) {
  if (!digest.has_value()) return "(failed)";
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest->data()), digest->size()));
}

// RFC 4231, test cases 1, 2 and 6 (a key longer than SHA-256's block, which
// HMAC hashes first).
TEST(HmacSha256Test, MatchesRfc4231) {
  EXPECT_EQ(Hex(HmacSha256(std::string(20, '\x0b')).Sign("Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(Hex(HmacSha256("Jefe").Sign("what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(Hex(HmacSha256(std::string(131, '\xaa'))
                    .Sign("Test Using Larger Than Block-Size Key - Hash Key "
                          "First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// Each Sign starts from the keyed state: signing one message does not change
// the next one's digest, and an empty message or key is signed too.
TEST(HmacSha256Test, EachSignStartsFromTheKey) {
  const HmacSha256 hmac("Jefe");
  const std::string first = Hex(hmac.Sign("what do ya want for nothing?"));
  EXPECT_NE(Hex(hmac.Sign("something else")), first);
  EXPECT_EQ(Hex(hmac.Sign("what do ya want for nothing?")), first);
  EXPECT_EQ(Hex(HmacSha256("").Sign("")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacSha256Test, SignsFromManyThreadsAtOnce) {
  const HmacSha256 hmac("Jefe");
  const std::string expected =
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (Hex(hmac.Sign("what do ya want for nothing?")) != expected) {
          ++wrong[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace payments::webhook
