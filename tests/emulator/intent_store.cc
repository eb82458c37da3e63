#include "tests/emulator/intent_store.h"

#include <algorithm>
#include <limits>

namespace dojo_emulator {
namespace {

using Ticks = std::chrono::duration<int64_t, std::ratio<1, 10000000>>;

std::string StatusOf(const Json& body) {
  auto it = body.find("status");
  return it != body.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

TimePoint TruncateToTick(TimePoint t) {
  return TimePoint(std::chrono::duration_cast<Clock::duration>(
      std::chrono::floor<Ticks>(t.time_since_epoch())));
}

int64_t ToTicks(TimePoint t) {
  return std::chrono::floor<Ticks>(t.time_since_epoch()).count();
}

IntentKey StoredIntent::key() const { return {ToTicks(created_at), seq}; }

IntentStore::Batch IntentStore::NewBatch() {
  std::lock_guard<std::mutex> lock(mu_);
  Batch batch = next_batch_++;
  staged_[batch];
  return batch;
}

StoredIntent IntentStore::Insert(const std::string& account,
                                 TimePoint created_at, Json body, Batch batch) {
  std::lock_guard<std::mutex> lock(mu_);
  StoredIntent intent{account,
                      next_seq_++,
                      TruncateToTick(created_at),
                      std::chrono::steady_clock::now(),
                      std::move(body),
                      {}};
  if (batch == kNoBatch) {
    InsertLocked(intent);
  } else if (auto it = staged_.find(batch); it != staged_.end()) {
    it->second.push_back({intent, {}, {}});
  }  // else: the batch was cleared (reset) before the write; drop it.
  return intent;
}

void IntentStore::InsertMany(const std::string& account, TimePoint created_at,
                             size_t count,
                             const std::function<Json(size_t)>& make) {
  // Build the documents outside the lock; only the indexing is serialized.
  std::vector<Json> bodies;
  bodies.reserve(count);
  for (size_t i = 0; i < count; ++i) bodies.push_back(make(i));
  TimePoint created = TruncateToTick(created_at);
  std::lock_guard<std::mutex> lock(mu_);
  for (Json& body : bodies) {
    InsertLocked({account, next_seq_++, created, {}, std::move(body), {}});
  }
}

void IntentStore::InsertLocked(StoredIntent intent) {
  std::string id = intent.body["id"].get<std::string>();
  intent.committed_at = std::chrono::steady_clock::now();
  IntentKey key = intent.key();
  all_by_key_[key] = id;
  by_account_[intent.account][key] = id;
  IndexRefundsLocked(intent);
  by_id_[id] = std::move(intent);
}

std::optional<IntentStore::StatusChange> IntentStore::ApplyLocked(
    const std::string& id, const Change& change) {
  auto it = by_id_.find(id);
  // A change of an intent forgotten since: nothing to do.
  if (it == by_id_.end() || !change) return std::nullopt;
  std::string old_status = StatusOf(it->second.body);
  change(it->second);
  IndexRefundsLocked(it->second);
  if (StatusOf(it->second.body) == old_status) return std::nullopt;
  return StatusChange{it->second, std::move(old_status)};
}

void IntentStore::IndexRefundsLocked(const StoredIntent& intent) {
  for (const RefundRecord& refund : intent.refunds) {
    refund_index_[refund.refund_id] = intent.body["id"].get<std::string>();
  }
}

void IntentStore::Notify(const std::vector<StatusChange>& changes) const {
  if (!listener_) return;
  for (const StatusChange& change : changes) {
    listener_(change.intent, change.old_status);
  }
}

std::optional<StoredIntent> IntentStore::Get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::optional<StoredIntent> IntentStore::Update(
    const std::string& id, const std::function<void(StoredIntent&)>& mutate) {
  return Apply(id, [&](const StoredIntent&) -> Change { return mutate; });
}

std::optional<StoredIntent> IntentStore::Apply(
    const std::string& id,
    const std::function<Change(const StoredIntent&)>& decide, Batch batch) {
  std::vector<StatusChange> changes;
  std::optional<StoredIntent> result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return std::nullopt;
    Change change = decide(it->second);
    if (batch != kNoBatch) {
      // Staged: the handler answers from the change applied to a copy; the
      // stored intent gets the change at Commit.
      StoredIntent copy = it->second;
      if (change) change(copy);
      if (auto staged = staged_.find(batch);
          staged != staged_.end() && change) {
        staged->second.push_back({std::nullopt, id, std::move(change)});
      }
      return copy;
    }
    if (auto status_change = ApplyLocked(id, change)) {
      changes.push_back(std::move(*status_change));
    }
    result = it->second;
  }
  Notify(changes);
  return result;
}

void IntentStore::Commit(Batch batch) {
  std::vector<StatusChange> changes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = staged_.find(batch);
    if (it == staged_.end()) return;
    for (StagedWrite& write : it->second) {
      if (write.insert) {
        InsertLocked(std::move(*write.insert));
      } else if (auto change = ApplyLocked(write.id, write.change)) {
        changes.push_back(std::move(*change));
      }
    }
    staged_.erase(it);
    if (auto keys = batch_keys_.find(batch); keys != batch_keys_.end()) {
      for (const std::string& key : keys->second) reserved_keys_.erase(key);
      batch_keys_.erase(keys);
    }
  }
  Notify(changes);
}

std::optional<std::pair<StoredIntent, RefundRecord>> IntentStore::GetRefund(
    const std::string& refund_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto ref = refund_index_.find(refund_id);
  if (ref == refund_index_.end()) return std::nullopt;
  auto it = by_id_.find(ref->second);
  if (it == by_id_.end()) return std::nullopt;
  for (const RefundRecord& refund : it->second.refunds) {
    if (refund.refund_id == refund_id) return std::pair{it->second, refund};
  }
  return std::nullopt;  // not in the intent's refunds (defensive)
}

bool IntentStore::ReserveKey(const std::string& key, Batch batch) {
  std::lock_guard<std::mutex> lock(mu_);
  if (reserved_keys_.count(key) > 0) return false;
  if (batch == kNoBatch) return true;
  if (staged_.find(batch) == staged_.end()) return true;  // cleared batch
  reserved_keys_.insert(key);
  batch_keys_[batch].push_back(key);
  return true;
}

void IntentStore::ReleaseKey(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (reserved_keys_.erase(key) == 0) return;
  for (auto& [batch, keys] : batch_keys_) {
    keys.erase(std::remove(keys.begin(), keys.end(), key), keys.end());
  }
}

std::vector<StoredIntent> IntentStore::List(const std::string& account) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<StoredIntent> out;
  const std::map<IntentKey, std::string>* index = &all_by_key_;
  if (!account.empty()) {
    auto it = by_account_.find(account);
    if (it == by_account_.end()) return out;
    index = &it->second;
  }
  out.reserve(index->size());
  for (auto it = index->rbegin(); it != index->rend(); ++it) {
    out.push_back(by_id_.at(it->second));
  }
  return out;
}

std::vector<StoredIntent> IntentStore::FindByReference(
    const std::string& reference) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const StoredIntent*> found;
  for (const auto& [id, intent] : by_id_) {
    auto ref = intent.body.find("reference");
    if (ref != intent.body.end() && ref->is_string() && *ref == reference) {
      found.push_back(&intent);
    }
  }
  std::sort(found.begin(), found.end(),
            [](const StoredIntent* a, const StoredIntent* b) {
              return a->seq < b->seq;
            });
  std::vector<StoredIntent> out;
  out.reserve(found.size());
  for (const StoredIntent* intent : found) out.push_back(*intent);
  return out;
}

SearchPage IntentStore::Search(const SearchQuery& query) const {
  const auto now = std::chrono::steady_clock::now();
  const std::chrono::milliseconds lag = SearchLag();
  std::lock_guard<std::mutex> lock(mu_);
  SearchPage page;
  auto account = by_account_.find(query.account);
  if (account == by_account_.end()) return page;
  const std::map<IntentKey, std::string>& index = account->second;
  using It = std::map<IntentKey, std::string>::const_iterator;

  auto matches = [&](It it) -> const StoredIntent* {
    const StoredIntent& s = by_id_.at(it->second);
    if (s.committed_at + lag > now) return nullptr;  // not indexed yet
    if (query.start && s.created_at < *query.start) return nullptr;
    if (query.end && s.created_at > *query.end) return nullptr;
    if (!query.statuses.empty() &&
        std::find(query.statuses.begin(), query.statuses.end(),
                  s.body["status"].get<std::string>()) ==
            query.statuses.end()) {
      return nullptr;
    }
    return &s;
  };
  // Is there a match in [from, to)?
  auto any_match = [&](It from, It to) {
    for (It it = from; it != to; ++it) {
      if (matches(it)) return true;
    }
    return false;
  };
  // [lo, hi): the date window in key order (exact bounds checked by matches).
  constexpr uint64_t kMaxSeq = std::numeric_limits<uint64_t>::max();
  const It window_lo = query.start
                           ? index.lower_bound({ToTicks(*query.start), 0})
                           : index.begin();
  const It window_hi = query.end
                           ? index.upper_bound({ToTicks(*query.end), kMaxSeq})
                           : index.end();
  auto before_or_at = [&](It a, It b) {  // a <= b in key order
    if (b == index.end()) return true;
    if (a == index.end()) return false;
    return a->first <= b->first;
  };
  It lo = window_lo, hi = window_hi;
  if (query.after) {  // strictly older than the cursor
    It at = index.lower_bound(*query.after);
    if (before_or_at(at, hi)) hi = at;
  }
  if (query.before) {  // strictly newer than the cursor
    It at = index.upper_bound(*query.before);
    if (before_or_at(lo, at)) lo = at;
  }
  if (!before_or_at(lo, hi)) return page;

  if (query.before) {
    // The `limit` matches right above the cursor, then newest first.
    It it = lo;
    for (; it != hi && page.items.size() < query.limit; ++it) {
      if (const StoredIntent* s = matches(it)) page.items.push_back(*s);
    }
    if (page.items.empty()) return page;
    page.newer = any_match(it, window_hi);
    page.older = any_match(window_lo, index.find(page.items.front().key()));
    std::reverse(page.items.begin(), page.items.end());
    return page;
  }
  // Newest first from just below the cursor (or the window's top).
  It it = hi;
  while (it != lo && page.items.size() < query.limit) {
    --it;
    if (const StoredIntent* s = matches(it)) page.items.push_back(*s);
  }
  if (page.items.empty()) return page;
  page.older = any_match(lo, it);
  page.newer =
      any_match(std::next(index.find(page.items.front().key())), window_hi);
  return page;
}

void IntentStore::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  by_id_.clear();
  all_by_key_.clear();
  by_account_.clear();
  staged_.clear();
  refund_index_.clear();
  reserved_keys_.clear();
  batch_keys_.clear();
}

}  // namespace dojo_emulator
