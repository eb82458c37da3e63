#include "tests/emulator/auto_expiry.h"

#include <cmath>

#include "tests/emulator/lifecycle.h"
#include "tests/emulator/timestamps.h"

namespace dojo_emulator {

void AutoExpiry::OnStatusChange(const StoredIntent& intent) {
  const std::string id = intent.body.value("id", "");
  if (intent.body.value("status", "") != "Authorized" ||
      !IsManualCapture(intent.body)) {
    Cancel(id);
    return;
  }
  double scale = Scale();
  auto delay = std::chrono::milliseconds(static_cast<int64_t>(std::llround(
      std::chrono::duration<double, std::milli>(AutoExpireInOf(intent.body))
          .count() *
      scale)));
  Schedule(id, delay);
}

void AutoExpiry::Schedule(const std::string& id,
                          std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return;
  if (auto it = timers_.find(id); it != timers_.end()) {
    it->second.timer->cancel();
  }
  auto timer = std::make_shared<boost::asio::steady_timer>(executor_, delay);
  const uint64_t generation = next_generation_++;
  timers_[id] = {timer, generation};
  // The handler owns the timer while it waits. A cancelled (or superseded)
  // timer's handler finds another generation, or none, and does nothing.
  timer->async_wait(
      [this, timer, id, generation](boost::system::error_code ec) {
        if (ec) return;
        {
          std::lock_guard<std::mutex> lock(mu_);
          auto it = timers_.find(id);
          if (stopped_ || it == timers_.end() ||
              it->second.generation != generation) {
            return;
          }
          timers_.erase(it);
        }
        Fire(id);
      });
}

void AutoExpiry::Cancel(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = timers_.find(id); it != timers_.end()) {
    it->second.timer->cancel();
    timers_.erase(it);
  }
}

void AutoExpiry::Fire(const std::string& id) {
  // The store's listener then sends the webhook (and calls OnStatusChange,
  // which finds no timer left for this intent).
  store_->Update(
      id, [](StoredIntent& s) { ApplyAutoExpiry(s.body, Clock::now()); });
}

AutoExpiry::Result AutoExpiry::ExpireNow(const std::string& id,
                                         std::optional<StoredIntent>* out) {
  Result result = Result::kNotAuthorized;
  *out = store_->Update(id, [&](StoredIntent& s) {
    if (s.body.value("status", "") != "Authorized") return;
    if (!IsManualCapture(s.body)) {
      result = Result::kNotManual;
      return;
    }
    ApplyAutoExpiry(s.body, Clock::now());
    result = Result::kExpired;
  });
  if (!*out) return Result::kNotFound;
  return result;
}

void AutoExpiry::SetScale(double scale) {
  std::lock_guard<std::mutex> lock(mu_);
  scale_ = scale;
}

double AutoExpiry::Scale() const {
  std::lock_guard<std::mutex> lock(mu_);
  return scale_;
}

size_t AutoExpiry::Pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return timers_.size();
}

void AutoExpiry::CancelAllLocked() {
  for (auto& [id, t] : timers_) t.timer->cancel();
  timers_.clear();
}

void AutoExpiry::CancelAll() {
  std::lock_guard<std::mutex> lock(mu_);
  CancelAllLocked();
}

void AutoExpiry::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  CancelAllLocked();
  scale_ = default_scale_;
}

void AutoExpiry::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
  CancelAllLocked();
}

}  // namespace dojo_emulator
