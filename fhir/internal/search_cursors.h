// CursorCache: the read-model views that paging links pin, under opaque tokens, each valid for a
// TTL after its last use and at most `max_cursors` of them (the least recently used is dropped).
// A page cursor keeps its search's later pages consistent with its first: they are computed
// against the same snapshot, whatever the projector applied since.
//
//   std::string token = cache.Put(view);
//   ASSIGN_OR_RETURN(std::shared_ptr<const ReadModelView> view, cache.Get(token));
//
// Errors: Get returns FailedPrecondition for an unknown or expired token.
// Thread-safety: thread-safe.
#ifndef CAREHUB_FHIR_INTERNAL_SEARCH_CURSORS_H_
#define CAREHUB_FHIR_INTERNAL_SEARCH_CURSORS_H_

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/fhir/read_model.h"

namespace carehub::fhir::internal {

class CursorCache {
 public:
  // `clock` is not owned. `seed` makes tokens unguessable across restarts of the process.
  CursorCache(const Clock* clock, absl::Duration ttl, size_t max_cursors, uint64_t seed);

  std::string Put(std::shared_ptr<const ReadModelView> view);
  absl::StatusOr<std::shared_ptr<const ReadModelView>> Get(std::string_view token);
  size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<const ReadModelView> view;
    absl::Time last_used;
    std::list<std::string>::iterator lru;
  };
  void ExpireLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* clock_;
  const absl::Duration ttl_;
  const size_t max_cursors_;
  const uint64_t seed_;
  mutable absl::Mutex mu_;
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Entry, std::less<>> entries_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);  // most recently used first
};

}  // namespace carehub::fhir::internal

#endif  // CAREHUB_FHIR_INTERNAL_SEARCH_CURSORS_H_
