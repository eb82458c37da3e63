#include "tests/emulator/intent_store.h"

namespace dojo_emulator {

StoredIntent IntentStore::Insert(const std::string& account,
                                 TimePoint created_at, Json body) {
  std::lock_guard<std::mutex> lock(mu_);
  StoredIntent intent{account, next_seq_++, created_at, std::move(body)};
  std::string id = intent.body["id"].get<std::string>();
  id_by_seq_[intent.seq] = id;
  by_id_[id] = intent;
  return intent;
}

std::optional<StoredIntent> IntentStore::Get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::optional<StoredIntent> IntentStore::Update(
    const std::string& id, const std::function<void(StoredIntent&)>& mutate) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  mutate(it->second);
  return it->second;
}

std::vector<StoredIntent> IntentStore::List(const std::string& account) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<StoredIntent> out;
  for (auto it = id_by_seq_.rbegin(); it != id_by_seq_.rend(); ++it) {
    const StoredIntent& intent = by_id_.at(it->second);
    if (account.empty() || intent.account == account) out.push_back(intent);
  }
  return out;
}

std::vector<StoredIntent> IntentStore::FindByReference(
    const std::string& reference) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<StoredIntent> out;
  for (const auto& [seq, id] : id_by_seq_) {
    const StoredIntent& intent = by_id_.at(id);
    auto ref = intent.body.find("reference");
    if (ref != intent.body.end() && ref->is_string() && *ref == reference) {
      out.push_back(intent);
    }
  }
  return out;
}

void IntentStore::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  by_id_.clear();
  id_by_seq_.clear();
}

}  // namespace dojo_emulator
