// In-process appends to the event store from N concurrent writers, each append durable when it
// returns. Compared against the raw RocksDB baselines (rocksdb_baseline.h) at the same
// concurrency: the store must do better than RocksDB's own group commit for one-event appends,
// and stay near a raw synced WriteBatch for 100-event appends.
#ifndef CAREHUB_SERVICES_EVENTSTORE_BENCH_LIBRARY_APPENDS_H_
#define CAREHUB_SERVICES_EVENTSTORE_BENCH_LIBRARY_APPENDS_H_

#include <cstddef>
#include <string>

#include "carehub/eventstore/event_store.h"
#include "services/eventstore/bench/closed_loop.h"

namespace carehub::bench {

struct AppendSpec {
  LoadSpec load;  // load.workers concurrent writers
  size_t events_per_append = 1;
  // 0: each writer appends to a stream of its own with ExpectedVersion::Exact (NoStream first),
  //    as the single writer of an aggregate does.
  // n: the writers share n streams and append with ExpectedVersion::Any, as independent
  //    producers of a shared feed do; the store must serialize them per stream.
  int shared_streams = 0;
  // Stream ids are "<stream_prefix>-<run_nonce>-<n>".
  std::string stream_prefix;
  std::string run_nonce;
};

// The result's ops are appends and items are events.
LoadResult RunLibraryAppends(eventstore::EventStore& store, const AppendSpec& spec);

}  // namespace carehub::bench

#endif  // CAREHUB_SERVICES_EVENTSTORE_BENCH_LIBRARY_APPENDS_H_
