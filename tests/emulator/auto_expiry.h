// Auto-expiry of Manual intents: when an intent becomes Authorized, an asio
// timer is set for its autoExpireIn (7 days when absent), scaled by
// autoExpireScale; when it fires and the intent is still Authorized, the
// intent's autoExpireAction (Capture, or Release by default) is applied.
// Timers park no threads; Shutdown cancels them all.
#ifndef TESTS_EMULATOR_AUTO_EXPIRY_H_
#define TESTS_EMULATOR_AUTO_EXPIRY_H_

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "tests/emulator/intent_store.h"

namespace dojo_emulator {

// Thread-safe. `store` must outlive this object.
class AutoExpiry final {
 public:
  // `scale` (0 < scale <= 1) multiplies every expiry delay: 0.01 makes a
  // 30 s autoExpireIn fire after 300 ms. It is also what Reset restores.
  AutoExpiry(boost::asio::any_io_executor executor, IntentStore* store,
             double scale = 1.0)
      : executor_(std::move(executor)),
        store_(store),
        default_scale_(scale),
        scale_(scale) {}
  ~AutoExpiry() { Shutdown(); }

  AutoExpiry(const AutoExpiry&) = delete;
  AutoExpiry& operator=(const AutoExpiry&) = delete;

  // The store's status listener: starts the timer when a Manual intent
  // becomes Authorized, drops it when the intent leaves Authorized.
  void OnStatusChange(const StoredIntent& intent);

  enum class Result { kExpired, kNotFound, kNotAuthorized, kNotManual };
  // Applies the expiry action now (the control API's .../expire). `out`
  // receives the intent as it is afterwards (when it exists).
  Result ExpireNow(const std::string& id, std::optional<StoredIntent>* out);

  // For timers started from now on.
  void SetScale(double scale);
  double Scale() const;
  static bool IsValidScale(double scale) { return scale > 0 && scale <= 1; }

  // How many timers are pending.
  size_t Pending() const;

  // Cancels every timer (when all intents are forgotten).
  void CancelAll();

  // CancelAll, and the scale goes back to its default (control reset).
  void Reset();

  // Cancels every timer and starts no new ones (emulator shutdown).
  void Shutdown();

 private:
  struct Timer {
    std::shared_ptr<boost::asio::steady_timer> timer;
    uint64_t generation = 0;
  };

  void Schedule(const std::string& id, std::chrono::milliseconds delay);
  void Cancel(const std::string& id);
  void CancelAllLocked();
  void Fire(const std::string& id);

  boost::asio::any_io_executor executor_;
  IntentStore* store_;
  const double default_scale_;
  mutable std::mutex mu_;
  double scale_;
  bool stopped_ = false;
  uint64_t next_generation_ = 1;
  std::unordered_map<std::string, Timer> timers_;
};

}  // namespace dojo_emulator

#endif  // TESTS_EMULATOR_AUTO_EXPIRY_H_
