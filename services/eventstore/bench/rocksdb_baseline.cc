#include "services/eventstore/bench/rocksdb_baseline.h"

#include <memory>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "carehub/base/status_macros.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "services/eventstore/bench/event_factory.h"

namespace carehub::bench {
namespace {

absl::Status FromRocksDb(const rocksdb::Status& s) {
  return s.ok() ? absl::OkStatus() : absl::InternalError(s.ToString());
}

// The event store's options (eventstore/event_store.cc, OpenDatabase): two background threads,
// a block cache of the store's default size with Bloom filters, WAL on. Durability comes from
// WriteOptions::sync, as in the store. One column family: a raw put has nothing to index.
rocksdb::Options BaselineOptions() {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.error_if_exists = true;
  options.IncreaseParallelism(2);
  options.keep_log_file_num = 4;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(256u << 20);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenFresh(const std::filesystem::path& path) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(BaselineOptions(), path.string(), &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  if (!s.ok()) return FromRocksDb(s);
  return db;
}

// One worker's writes: keys "<writer>/<sequence>" (unique, ascending per writer, like the store's
// position keys), values shaped like an event's data + metadata.
Operation MakeWriter(rocksdb::DB* db, const RawWriteSpec& spec, int worker) {
  auto events = std::make_shared<EventFactory>(spec.run_nonce, worker);
  auto sequence = std::make_shared<uint64_t>(0);
  const size_t puts = spec.puts_per_write;
  return [db, events, sequence, puts, worker]() -> absl::StatusOr<uint64_t> {
    auto next_key = [&] { return absl::StrFormat("%04d/%016x", worker, (*sequence)++); };
    rocksdb::WriteOptions write_options;
    write_options.sync = true;
    if (puts == 1) {
      RETURN_IF_ERROR(FromRocksDb(db->Put(write_options, next_key(), events->NextRawValue())));
      return 1;
    }
    rocksdb::WriteBatch batch;
    for (size_t i = 0; i < puts; ++i) batch.Put(next_key(), events->NextRawValue());
    RETURN_IF_ERROR(FromRocksDb(db->Write(write_options, &batch)));
    return puts;
  };
}

}  // namespace

absl::StatusOr<LoadResult> RunRawRocksDbWrites(const RawWriteSpec& spec) {
  absl::StatusOr<LoadResult> result;
  {
    absl::StatusOr<std::unique_ptr<rocksdb::DB>> db = OpenFresh(spec.path);
    if (!db.ok()) return db.status();
    result =
        RunClosedLoop(spec.load, [&](int worker) { return MakeWriter(db->get(), spec, worker); });
    absl::Status closed = FromRocksDb((*db)->Close());
    if (!closed.ok()) result = closed;
  }
  std::error_code ignored;
  std::filesystem::remove_all(spec.path, ignored);
  return result;
}

}  // namespace carehub::bench
