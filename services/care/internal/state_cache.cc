#include "services/care/internal/state_cache.h"

#include <utility>

namespace carehub::care::internal {

std::unique_ptr<PatientState> StateCache::Take(const std::string& stream_id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(stream_id);
  if (it == entries_.end()) return nullptr;
  std::unique_ptr<PatientState> state = std::move(it->second.state);
  lru_.erase(it->second.lru);
  entries_.erase(it);
  return state;
}

void StateCache::Put(const std::string& stream_id, std::unique_ptr<PatientState> state) {
  if (capacity_ == 0 || state == nullptr) return;
  // Destroy evicted states outside the lock.
  std::unique_ptr<PatientState> evicted;
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(stream_id);
  if (it != entries_.end()) {
    // Two commands for one patient ran at once: keep the further-folded state.
    if (it->second.state->version() > state->version()) return;
    it->second.state = std::move(state);
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return;
  }
  lru_.push_front(stream_id);
  entries_.emplace(stream_id, Entry{std::move(state), lru_.begin()});
  if (entries_.size() > capacity_) {
    auto last = entries_.find(lru_.back());
    evicted = std::move(last->second.state);
    entries_.erase(last);
    lru_.pop_back();
  }
}

size_t StateCache::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace carehub::care::internal
