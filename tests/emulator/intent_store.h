// In-memory payment intents, owned by accounts.
#ifndef TESTS_EMULATOR_INTENT_STORE_H_
#define TESTS_EMULATOR_INTENT_STORE_H_

#include <atomic>
#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tests/emulator/http_types.h"
#include "tests/emulator/timestamps.h"

namespace dojo_emulator {

// Where an intent sits in search results. Newest first means descending
// keys: by createdAt (100 ns ticks, as served), then by creation sequence.
// Search cursors encode a key, so they stay valid while intents come and go.
struct IntentKey {
  int64_t created_ticks = 0;  // createdAt in 100 ns ticks since 1970
  uint64_t seq = 0;           // creation order, 1-based

  auto operator<=>(const IntentKey&) const = default;
};

// createdAt precision: Dojo (.NET) keeps 100 ns ticks, so intents store their
// creation time truncated to a tick, exactly as FormatTimestamp prints it.
TimePoint TruncateToTick(TimePoint t);
int64_t ToTicks(TimePoint t);

// One refund of an intent. Kept beside the served PaymentIntent (which has
// only the running `refundedAmount`): the spec's Refund has no amount, and the
// idempotency key is needed to recognise retries.
struct RefundRecord {
  std::string refund_id;        // rfnd_...
  std::string idempotency_key;  // the request's `idempotencyKey` header
  int64_t amount = 0;
  // The request's optional strings, null when absent.
  Json refund_reason;
  Json notes;
  Json previous_transaction_id;
  std::string created_at;
};

struct StoredIntent {
  std::string account;   // the owner's account name
  uint64_t seq = 0;      // creation order, 1-based (allocated at receipt)
  TimePoint created_at;  // truncated to a tick; equals body["createdAt"]
  // When the intent became visible (its commit). Search lag counts from here.
  std::chrono::steady_clock::time_point committed_at;
  Json body;  // the PaymentIntent as served; body["status"] is authoritative
  std::vector<RefundRecord> refunds;  // oldest first

  IntentKey key() const;
};

// What POST /payment-intents/search asks the store for.
struct SearchQuery {
  std::string account;
  std::optional<TimePoint> start, end;     // inclusive bounds on createdAt
  std::vector<std::string> statuses;       // empty: any
  std::optional<IntentKey> before, after;  // at most one
  size_t limit = 50;
};

// One page, newest first; `newer` / `older` tell whether matching intents
// exist beyond the page's first / last item.
struct SearchPage {
  std::vector<StoredIntent> items;
  bool newer = false;
  bool older = false;
};

// Thread-safe; every method takes one internal lock and returns copies.
//
// Writes can be staged: a write made under a batch (see NewBatch) is invisible
// to every reader until Commit(batch). That models a slow database commit:
// the handler ran (ids allocated, createdAt fixed) but nobody can see it yet.
class IntentStore final {
 public:
  // 0 means "commit at once".
  using Batch = uint64_t;
  static constexpr Batch kNoBatch = 0;

  // Told about every committed change of an intent's status (by Update,
  // Apply or Commit), with the intent as committed and its previous status.
  // Called after the store's lock is released, on the thread that made the
  // change.
  using StatusListener = std::function<void(const StoredIntent& intent,
                                            const std::string& old_status)>;

  // Set once, before the store is shared between threads.
  void SetStatusListener(StatusListener listener) {
    listener_ = std::move(listener);
  }

  // A fresh batch id for staged writes.
  Batch NewBatch();

  // Stores `body` (which must carry "id") for `account`, created at
  // `created_at` (truncated to a tick); returns the copy. Staged if `batch`.
  StoredIntent Insert(const std::string& account, TimePoint created_at,
                      Json body, Batch batch = kNoBatch);

  // Stores many new intents of one account in one go (committed at once).
  // `make(i)` returns the body of the i-th (0-based) intent.
  void InsertMany(const std::string& account, TimePoint created_at,
                  size_t count, const std::function<Json(size_t)>& make);

  // The committed intent.
  std::optional<StoredIntent> Get(const std::string& id) const;

  // Runs `mutate` under the lock on the committed intent and returns the
  // result (committed at once); nullopt when there is no such intent.
  std::optional<StoredIntent> Update(
      const std::string& id, const std::function<void(StoredIntent&)>& mutate);

  // A change to one intent, kept by value so that it can be applied later.
  using Change = std::function<void(StoredIntent&)>;

  // A request's read-check-write on one intent. `decide` runs under the lock
  // on the committed intent: it checks the rules against that state and
  // returns the change they allow (an empty Change: none). Returns the intent
  // with the change applied (what the handler answers from); nullopt when
  // there is no such committed intent. Without a batch the change is applied
  // at once. With a batch it is staged and applied at Commit, as a change, to
  // the intent as committed then: what was committed meanwhile (another
  // refund, a status change) is kept, as a database applies
  // `refunded = refunded + x`. The rules are not checked again at commit.
  std::optional<StoredIntent> Apply(
      const std::string& id,
      const std::function<Change(const StoredIntent&)>& decide,
      Batch batch = kNoBatch);

  // Makes the batch's writes visible (no-op for an unknown or cleared batch):
  // its new intents are stored and its changes applied to the intents as they
  // are now, in the order they were made.
  void Commit(Batch batch);

  // The committed refund `refund_id` and the intent it belongs to.
  std::optional<std::pair<StoredIntent, RefundRecord>> GetRefund(
      const std::string& refund_id) const;

  // In-flight request keys (e.g. a refund's intent id + idempotency key):
  // false when `key` is already reserved by a staged write. With a batch the
  // key stays reserved until that batch commits (or Clear); kNoBatch only
  // checks. ReleaseKey drops a reservation whose write did not happen.
  bool ReserveKey(const std::string& key, Batch batch);
  void ReleaseKey(const std::string& key);

  // All committed intents of `account` (or of every account when empty),
  // newest first.
  std::vector<StoredIntent> List(const std::string& account) const;

  // All committed intents whose reference equals `reference`, oldest first.
  std::vector<StoredIntent> FindByReference(const std::string& reference) const;

  // One search page over committed intents that have been committed for at
  // least the search lag.
  SearchPage Search(const SearchQuery& query) const;

  // Search lag: how long after its commit an intent starts to show up in
  // Search (Get and the control listings see it at once).
  void SetSearchLag(std::chrono::milliseconds lag) {
    search_lag_ms_ = lag.count();
  }
  std::chrono::milliseconds SearchLag() const {
    return std::chrono::milliseconds(search_lag_ms_.load());
  }

  // Forgets every intent, committed or staged (staged batches then commit
  // nothing), and every refund and reservation.
  void Clear();

 private:
  struct StatusChange {
    StoredIntent intent;
    std::string old_status;
  };

  // A staged write: a new intent, or a change to intent `id`.
  struct StagedWrite {
    std::optional<StoredIntent> insert;
    std::string id;
    Change change;
  };

  void InsertLocked(StoredIntent intent);
  // Applies `change` to committed intent `id` (nothing if it is gone since);
  // returns the status change it made, if any.
  std::optional<StatusChange> ApplyLocked(const std::string& id,
                                          const Change& change);
  void IndexRefundsLocked(const StoredIntent& intent);
  void Notify(const std::vector<StatusChange>& changes) const;

  mutable std::mutex mu_;
  uint64_t next_seq_ = 1;
  Batch next_batch_ = 1;
  std::unordered_map<std::string, StoredIntent> by_id_;  // committed only
  // Committed intents in key order (ascending): all, and per account.
  std::map<IntentKey, std::string> all_by_key_;
  std::map<std::string, std::map<IntentKey, std::string>> by_account_;
  // Staged writes per batch, in the order they were made.
  std::map<Batch, std::vector<StagedWrite>> staged_;
  // refundId -> intent id, committed refunds only.
  std::unordered_map<std::string, std::string> refund_index_;
  std::set<std::string> reserved_keys_;
  std::map<Batch, std::vector<std::string>> batch_keys_;
  std::atomic<int64_t> search_lag_ms_{0};
  StatusListener listener_;
};

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_INTENT_STORE_H_
