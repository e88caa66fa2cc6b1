// A RocksDB environment whose write-ahead-log files are filled with zeros ahead of the log, so
// that a synced append overwrites blocks the file already has instead of growing it. For the
// event store, whose every append waits for a WAL sync.
//
// Why: fdatasync after an append that grows a file must also write the file's metadata (its
// size, and the extents the new blocks took): a second write, and on a virtual disk a second
// round trip, for every sync. RocksDB preallocates log space with fallocate(FALLOC_FL_KEEP_SIZE),
// which leaves the size to change with every append and the extents to be converted at every
// write-back. On the 2-core ext4 machines carehub is benchmarked on, 3,000 rounds of write(2) +
// fdatasync(2) (a C loop, the two files in interleaved runs) took per sync, for 200 B, ~350 us
// wall and ~85 us of CPU on a file preallocated with fallocate(FALLOC_FL_KEEP_SIZE) against
// ~285 us and ~55 us on one written with zeros first; for 3 KB ~236 us and ~97 us against
// ~165 us and ~58 us (~590 us against ~420 us wall while the machine was busy). PostgreSQL
// zero-fills its WAL segments for the same reason (wal_init_zero).
// Not for a database that writes much WAL between syncs: the zeros double its log writes. With
// the FHIR read model's WAL zero-filled too, its rebuild (tens of MB/s of WAL, one sync per
// batch; `carehub-region-bench --data_dir=DIR --lag_seconds=0`) ran ~15 % slower.
//
// Safety: zeros are written only beyond what RocksDB has appended, never over it. RocksDB's log
// reader ends a log at a zero header without reporting corruption (the log format's kZeroType,
// which is also what a crash leaves after an unsynced append on a preallocated file). Closing a
// log truncates it to what was appended. Zero-filling is best effort: if it fails (a full disk),
// the log goes on as RocksDB's own, and the append reports RocksDB's error if it fails too.
#ifndef CAREHUB_EVENTSTORE_INTERNAL_ZERO_FILLED_WAL_H_
#define CAREHUB_EVENTSTORE_INTERNAL_ZERO_FILLED_WAL_H_

#include <memory>

#include "rocksdb/env.h"

namespace carehub::eventstore::internal {

// The file system of `base` (nullptr: RocksDB's default), with every file whose name ends in
// ".log" (RocksDB's write-ahead logs) zero-filled ahead of its appends, and RocksDB's default
// threads and clock.
std::unique_ptr<rocksdb::Env> NewZeroFilledWalEnv(rocksdb::Env* base = nullptr);

}  // namespace carehub::eventstore::internal

#endif  // CAREHUB_EVENTSTORE_INTERNAL_ZERO_FILLED_WAL_H_
