// A RocksDB environment whose write-ahead-log files are filled with zeros ahead of the log, so
// that a synced append overwrites blocks the file already has instead of growing it. For every
// database of carehub's whose writes wait for WAL syncs: the event store's (the care log and the
// access log) and the FHIR read model's.
//
//   std::unique_ptr<rocksdb::Env> env = eventstore::NewZeroFilledWalEnv();
//   db_options.env = env.get();  // env must outlive the database
//
// Why: fdatasync after an append that grows a file must also write the file's metadata (its
// size, and the extents the new blocks took): a second write, and on a virtual disk a second
// round trip, for every sync. RocksDB preallocates log space with fallocate(FALLOC_FL_KEEP_SIZE),
// which leaves the size to change with every append and the extents to be converted at every
// write-back. A log whose every append waits for a sync pays that per append group. On the
// 2-core ext4 machines carehub is benchmarked on, 3 KB written and synced took ~590 us wall and
// ~140 us of CPU appending to a KEEP_SIZE-preallocated file, ~420 us and ~95 us overwriting
// zeros (a C loop of write + fdatasync, interleaved runs). PostgreSQL zero-fills its WAL segments
// for the same reason (wal_init_zero).
//
// Safety: zeros are written only beyond what RocksDB has appended, never over it. RocksDB's log
// reader ends a log at a zero header without reporting corruption (the log format's kZeroType,
// which is also what a crash leaves after an unsynced append on a preallocated file). Closing a
// log truncates it to what was appended. Zero-filling is best effort: if it fails (a full disk),
// the log goes on as RocksDB's own, and the append reports RocksDB's error if it fails too.
#ifndef CAREHUB_EVENTSTORE_ZERO_FILLED_WAL_H_
#define CAREHUB_EVENTSTORE_ZERO_FILLED_WAL_H_

#include <memory>

#include "rocksdb/env.h"

namespace carehub::eventstore {

// The file system of `base` (nullptr: RocksDB's default), with every file whose name ends in
// ".log" (RocksDB's write-ahead logs) zero-filled ahead of its appends, and RocksDB's default
// threads and clock.
std::unique_ptr<rocksdb::Env> NewZeroFilledWalEnv(rocksdb::Env* base = nullptr);

}  // namespace carehub::eventstore

#endif  // CAREHUB_EVENTSTORE_ZERO_FILLED_WAL_H_
