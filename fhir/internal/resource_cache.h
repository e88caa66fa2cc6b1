// ResourceCache: the current versions of recently written or read resources, as the read model
// holds them, with the search-index keys of each. The projection and the read model's writer
// consult it before RocksDB: the resource an event changes was usually written a few events
// before (a patient's events come close together in the log, and every event references the same
// few organisations), so neither reads it back nor re-parses its JSON.
//
//   ResourceCache cache(64 << 20);
//   cache.Put("CarePlan/abc", {.json = json, .index_keys = keys});   // after the commit
//   if (std::shared_ptr<const CachedResource> r = cache.Get("CarePlan/abc")) ... r->json ...
//
// Only the projector's batches may fill it: the writer with what it has committed, the batch
// being projected with what it read from the model of a resource that neither it nor the batch
// being committed writes. The cache is then never ahead of or different from the database. An
// entry is replaced whole, never changed in place.
//
// Eviction: two generations; when the newer one holds more than half the byte budget it becomes
// the older one and the older one is dropped, so recently used entries (moved to the newer
// generation on a hit) survive. Approximately least-recently-used, at one hash lookup a hit. A
// dropped generation is freed a few entries per put, outside the lock, not all at once.
//
// Thread-safety: thread-safe.
#ifndef CAREHUB_FHIR_INTERNAL_RESOURCE_CACHE_H_
#define CAREHUB_FHIR_INTERNAL_RESOURCE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "fhir/internal/parsed_resource.h"

namespace carehub::fhir::internal {

struct CachedResource {
  std::string json;                     // the current version, as stored
  uint64_t version = 0;                 // its meta.versionId
  std::vector<std::string> index_keys;  // its search-index keys, sorted
  // The same version parsed, when the projection that wrote or read it handed it over; else
  // nullptr.
  std::shared_ptr<const ParsedResource> parsed;
};

class ResourceCache {
 public:
  explicit ResourceCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  // The entry of "type/id"; nullptr if not cached.
  std::shared_ptr<const CachedResource> Get(std::string_view key);
  void Put(std::string key, std::shared_ptr<const CachedResource> resource);
  void Clear();

 private:
  using Generation = absl::flat_hash_map<std::string, std::shared_ptr<const CachedResource>>;
  // Entries of the dropped generation freed with each put.
  static constexpr int kEvictionsPerPut = 4;
  static size_t Bytes(const std::string& key, const CachedResource& r);
  // Moves the dropped generation's entries it evicts to `evicted`, for the caller to free once
  // it has released the lock.
  void PutLocked(std::string key, std::shared_ptr<const CachedResource> resource,
                 std::vector<std::shared_ptr<const CachedResource>>& evicted)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_bytes_;
  absl::Mutex mu_;
  Generation newer_ ABSL_GUARDED_BY(mu_);
  Generation older_ ABSL_GUARDED_BY(mu_);
  Generation dropped_ ABSL_GUARDED_BY(mu_);  // no longer found; being freed
  size_t newer_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace carehub::fhir::internal

#endif  // CAREHUB_FHIR_INTERNAL_RESOURCE_CACHE_H_
