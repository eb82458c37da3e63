// In-memory payment intents, owned by accounts.
#ifndef TESTS_EMULATOR_INTENT_STORE_H_
#define TESTS_EMULATOR_INTENT_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/emulator/http_types.h"
#include "tests/emulator/timestamps.h"

namespace dojo_emulator {

struct StoredIntent {
  std::string account;  // the owner's account name
  uint64_t seq = 0;     // creation order, 1-based; also the search cursor
  TimePoint created_at;
  Json body;  // the PaymentIntent as served; body["status"] is authoritative
};

// Thread-safe; every method takes one internal lock and returns copies.
class IntentStore final {
 public:
  // Stores `body` (which must carry "id") for `account`; returns the copy.
  StoredIntent Insert(const std::string& account, TimePoint created_at,
                      Json body);

  std::optional<StoredIntent> Get(const std::string& id) const;

  // Runs `mutate` under the lock on the stored intent and returns the result;
  // nullopt when there is no such intent.
  std::optional<StoredIntent> Update(
      const std::string& id, const std::function<void(StoredIntent&)>& mutate);

  // All intents of `account` (or of every account when empty), newest first.
  std::vector<StoredIntent> List(const std::string& account) const;

  // All intents whose reference equals `reference`, oldest first.
  std::vector<StoredIntent> FindByReference(const std::string& reference) const;

  void Clear();

 private:
  mutable std::mutex mu_;
  uint64_t next_seq_ = 1;
  std::map<std::string, StoredIntent> by_id_;
  std::map<uint64_t, std::string> id_by_seq_;
};

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_INTENT_STORE_H_
