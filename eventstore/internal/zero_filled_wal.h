// A RocksDB environment whose write-ahead-log files are filled with zeros ahead of the log, so
// that a synced append overwrites blocks the file already has instead of growing it. For the
// event store, whose every append waits for a WAL sync.
//
// Why: fdatasync after an append that grows a file must also write the file's metadata (its
// size, and the extents the new blocks took): a second write, and on a virtual disk a second
// round trip, for every sync. RocksDB preallocates log space with fallocate(FALLOC_FL_KEEP_SIZE),
// which leaves the size to change with every append and the extents to be converted at every
// write-back. On the 2-core ext4 machines carehub is benchmarked on, a C loop of write +
// fdatasync (interleaved runs) took, per sync, for 200 B ~350 us wall and ~85 us of CPU on a
// KEEP_SIZE-preallocated file against ~285 us and ~55 us overwriting zeros; for 3 KB ~236 us and
// ~97 us against ~165 us and ~58 us (and ~590 us against ~420 us while the machine was busy).
// PostgreSQL zero-fills its WAL segments for the same reason (wal_init_zero).
// Not for a database that writes much WAL between syncs: the zeros double its log writes. The
// FHIR read model's rebuild (tens of MB/s of WAL, one sync per batch) ran ~15 % slower with it.
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
