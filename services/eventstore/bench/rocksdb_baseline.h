// The raw RocksDB baselines: what the storage engine alone does with the same durability
// (WAL on, every write synced) and the same bytes per record as the event store.
//
// Why they are the fair comparison: the event store's promise is "durable when Append returns",
// which on RocksDB costs one synced WAL write. A synced Put per event, issued from as many
// threads as the store has writers, is the most a naive store could get from RocksDB's own group
// commit; a store that batches concurrent appends itself should beat it. A synced WriteBatch of
// 100 puts is the floor of a 100-event append: the store writes at least those bytes and syncs
// once, plus its indexes and hash chain.
//
// This file is the only place outside eventstore/ that speaks rocksdb::, and only to measure.
#ifndef CAREHUB_SERVICES_EVENTSTORE_BENCH_ROCKSDB_BASELINE_H_
#define CAREHUB_SERVICES_EVENTSTORE_BENCH_ROCKSDB_BASELINE_H_

#include <cstddef>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "services/eventstore/bench/closed_loop.h"

namespace carehub::bench {

struct RawWriteSpec {
  // A database is created here (must not exist) and deleted afterwards.
  std::filesystem::path path;
  LoadSpec load;
  // 1: one synced Put per operation; more: one synced WriteBatch of this many puts.
  size_t puts_per_write = 1;
  std::string run_nonce;
};

// Runs synced writes from spec.load.workers threads. The result's items are puts.
absl::StatusOr<LoadResult> RunRawRocksDbWrites(const RawWriteSpec& spec);

}  // namespace carehub::bench

#endif  // CAREHUB_SERVICES_EVENTSTORE_BENCH_ROCKSDB_BASELINE_H_
