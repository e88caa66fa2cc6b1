// StateCache: folded patient states kept between commands, so that a command folds only the
// events appended since the last one instead of the patient's whole stream. A state taken out is
// owned by one command at a time (Take removes it), so no two commands ever share a mutable
// state; a concurrent command for the same patient simply folds its own from the stream.
//
//   std::unique_ptr<PatientState> state = cache.Take(stream_id);   // nullptr if not cached
//   ... catch the state up from state->version() + 1, decide, append ...
//   cache.Put(stream_id, std::move(state));                        // a valid prefix of the stream
//
// A cached state is never wrong, only possibly behind: it is a fold of a prefix of an
// append-only stream, and every user catches it up from its version before deciding. Bounded by
// `capacity` states, least recently used first out.
//
// Thread-safe.
#ifndef CAREHUB_SERVICES_CARE_INTERNAL_STATE_CACHE_H_
#define CAREHUB_SERVICES_CARE_INTERNAL_STATE_CACHE_H_

#include <cstddef>
#include <list>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "services/care/internal/patient_state.h"

namespace carehub::care::internal {

class StateCache {
 public:
  explicit StateCache(size_t capacity) : capacity_(capacity) {}

  // The cached state of the stream, removed from the cache; nullptr if none.
  std::unique_ptr<PatientState> Take(const std::string& stream_id);
  // Caches `state` as the stream's; replaces an older one, evicts beyond capacity.
  void Put(const std::string& stream_id, std::unique_ptr<PatientState> state);

  size_t size() const;

 private:
  struct Entry {
    std::unique_ptr<PatientState> state;
    std::list<std::string>::iterator lru;
  };

  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);  // most recently used first
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace carehub::care::internal

#endif  // CAREHUB_SERVICES_CARE_INTERNAL_STATE_CACHE_H_
