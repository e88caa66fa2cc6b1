#include "fhir/internal/resource_cache.h"

#include <utility>

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
  absl::MutexLock lock(&mu_);
  if (auto it = newer_.find(Sv(key)); it != newer_.end()) return it->second;
  auto it = older_.find(Sv(key));
  if (it == older_.end()) return nullptr;
  std::shared_ptr<const CachedResource> found = std::move(it->second);
  std::string moved_key = it->first;
  older_.erase(it);
  PutLocked(std::move(moved_key), found);
  return found;
}

void ResourceCache::Put(std::string key, std::shared_ptr<const CachedResource> resource) {
  absl::MutexLock lock(&mu_);
  older_.erase(key);
  PutLocked(std::move(key), std::move(resource));
}

void ResourceCache::PutLocked(std::string key, std::shared_ptr<const CachedResource> resource) {
  const size_t bytes = Bytes(key, *resource);
  auto [it, inserted] = newer_.try_emplace(std::move(key), resource);
  if (!inserted) {
    // The replaced entry's bytes stay counted until the generation turns over: a slight
    // overestimate, which only makes the turnover come earlier.
    it->second = std::move(resource);
  }
  newer_bytes_ += bytes;
  if (newer_bytes_ > max_bytes_ / 2) {
    older_ = std::move(newer_);
    newer_ = Generation();
    newer_bytes_ = 0;
  }
}

void ResourceCache::Clear() {
  absl::MutexLock lock(&mu_);
  newer_.clear();
  older_.clear();
  newer_bytes_ = 0;
}

}  // namespace carehub::fhir::internal
