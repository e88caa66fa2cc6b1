#include "fhir/internal/resource_cache.h"

#include <utility>
#include <vector>

#include "carehub/base/strings.h"

namespace carehub::fhir::internal {

size_t ResourceCache::Bytes(const std::string& key, const CachedResource& r) {
  // Payload plus a rough per-string overhead (headers, hash slot, control block).
  size_t bytes = key.size() + r.json.size() + 96;
  for (const std::string& k : r.index_keys) bytes += k.size() + 32;
  // A parsed document takes several times its text: a node per value, a string per member.
  if (r.parsed != nullptr) bytes += 6 * r.json.size();
  return bytes;
}

std::shared_ptr<const CachedResource> ResourceCache::Get(std::string_view key) {
  std::vector<std::shared_ptr<const CachedResource>> evicted;  // freed after the lock
  absl::MutexLock lock(&mu_);
  if (auto it = newer_.find(Sv(key)); it != newer_.end()) return it->second;
  auto it = older_.find(Sv(key));
  if (it == older_.end()) return nullptr;
  std::shared_ptr<const CachedResource> found = std::move(it->second);
  std::string moved_key = it->first;
  older_.erase(it);
  PutLocked(std::move(moved_key), found, evicted);
  return found;
}

void ResourceCache::Put(std::string key, std::shared_ptr<const CachedResource> resource) {
  std::vector<std::shared_ptr<const CachedResource>> evicted;  // freed after the lock
  absl::MutexLock lock(&mu_);
  if (auto it = older_.find(key); it != older_.end()) {
    evicted.push_back(std::move(it->second));
    older_.erase(it);
  }
  PutLocked(std::move(key), std::move(resource), evicted);
}

void ResourceCache::PutLocked(std::string key, std::shared_ptr<const CachedResource> resource,
                              std::vector<std::shared_ptr<const CachedResource>>& evicted) {
  // A few entries of the dropped generation go with every put: dropped at once, a generation of
  // parsed documents took 50-170 ms to free, a stall of the writer and of every lookup.
  for (int i = 0; i < kEvictionsPerPut && !dropped_.empty(); ++i) {
    auto victim = dropped_.begin();
    evicted.push_back(std::move(victim->second));
    dropped_.erase(victim);
  }
  const size_t bytes = Bytes(key, *resource);
  auto [it, inserted] = newer_.try_emplace(std::move(key), resource);
  if (!inserted) {
    // The replaced entry's bytes stay counted until the generation turns over: a slight
    // overestimate, which only makes the turnover come earlier.
    it->second = std::move(resource);
  }
  newer_bytes_ += bytes;
  if (newer_bytes_ > max_bytes_ / 2) {
    // Each put since the last turnover freed kEvictionsPerPut of the generation dropped then,
    // which held at most one entry per put: nothing is left of it unless the puts were
    // replacements of one key (then it is small, and freed here).
    dropped_ = std::exchange(older_, std::move(newer_));
    newer_ = Generation();
    newer_bytes_ = 0;
  }
}

void ResourceCache::Clear() {
  absl::MutexLock lock(&mu_);
  newer_.clear();
  older_.clear();
  dropped_.clear();
  newer_bytes_ = 0;
}

}  // namespace carehub::fhir::internal
