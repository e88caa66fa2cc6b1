// ScratchStore: an EventStore opened in a fresh directory that is deleted when the ScratchStore
// is destroyed. Each write measurement gets its own, so none inherits another's memtables,
// compactions or log size.
//
//   ASSIGN_OR_RETURN(auto scratch, ScratchStore::Open(run_dir / "library.w64"));
//   RunLibraryAppends(*scratch->store(), spec);
//
// Thread-safe as the EventStore it holds.
#ifndef CAREHUB_SERVICES_EVENTSTORE_BENCH_SCRATCH_STORE_H_
#define CAREHUB_SERVICES_EVENTSTORE_BENCH_SCRATCH_STORE_H_

#include <filesystem>
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "carehub/eventstore/event_store.h"

namespace carehub::bench {

class ScratchStore {
 public:
  // Fails with AlreadyExists if `path` exists: the benchmark never writes into data it did not
  // create.
  static absl::StatusOr<std::unique_ptr<ScratchStore>> Open(std::filesystem::path path);

  ScratchStore(const ScratchStore&) = delete;
  ScratchStore& operator=(const ScratchStore&) = delete;
  // Closes the store (waiting for its pending appends), then removes the directory.
  ~ScratchStore();

  eventstore::EventStore* store() const { return store_.get(); }

 private:
  ScratchStore(std::filesystem::path path, std::unique_ptr<eventstore::EventStore> store)
      : path_(std::move(path)), store_(std::move(store)) {}

  std::filesystem::path path_;
  std::unique_ptr<eventstore::EventStore> store_;
};

}  // namespace carehub::bench

#endif  // CAREHUB_SERVICES_EVENTSTORE_BENCH_SCRATCH_STORE_H_
