#include "fhir/internal/search_cursors.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "carehub/base/strings.h"

namespace carehub::fhir::internal {
namespace {

// SplitMix64: spreads a counter into a token that does not reveal how many cursors exist.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

CursorCache::CursorCache(const Clock* clock, absl::Duration ttl, size_t max_cursors,
                         uint64_t seed)
    : clock_(clock), ttl_(ttl), max_cursors_(max_cursors == 0 ? 1 : max_cursors), seed_(seed) {}

std::string CursorCache::Put(std::shared_ptr<const ReadModelView> view) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  ExpireLocked(now);
  const uint64_t n = next_++;
  std::string token = absl::StrFormat("%016x%016x", Mix(seed_ ^ n), Mix(n + seed_ * 31));
  while (entries_.size() >= max_cursors_) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(token);
  entries_[token] = Entry{std::move(view), now, lru_.begin()};
  return token;
}

absl::StatusOr<std::shared_ptr<const ReadModelView>> CursorCache::Get(std::string_view token) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  ExpireLocked(now);
  auto it = entries_.find(token);
  if (it == entries_.end()) {
    return absl::FailedPreconditionError(
        "the page cursor has expired or never existed; repeat the search");
  }
  it->second.last_used = now;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.view;
}

size_t CursorCache::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

void CursorCache::ExpireLocked(absl::Time now) {
  // The list is in order of last use, so the expired ones are at its end.
  while (!lru_.empty()) {
    auto it = entries_.find(lru_.back());
    if (now - it->second.last_used < ttl_) break;
    entries_.erase(it);
    lru_.pop_back();
  }
}

}  // namespace carehub::fhir::internal
