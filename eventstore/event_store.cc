#include "carehub/eventstore/event_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/log.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "carehub/base/thread_name.h"
#include "eventstore/internal/codec.h"
#include "eventstore/internal/event_store_impl.h"
#include "eventstore/internal/subscription.h"
#include "eventstore/internal/validation.h"
#include "eventstore/internal/zero_filled_wal.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace carehub::eventstore {

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::Open(const Options& options) {
  return internal::EventStoreImpl::Open(options);
}

namespace internal {
namespace {

// The status payload that carries a conflict's actual version ("none" or decimal).
constexpr char kActualVersionUrl[] = "type.carehub.se/carehub.eventstore.ActualVersion";

// The key without its trailing fixed64 (a version or position): the stream id or index key.
// As an insert-hint extractor it gives every stream and every index key its own memtable hint,
// and each of them only grows, so an insert continues where that key's last one ended instead
// of searching the skip list from the top.
class AllButTrailingFixed64 : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "carehub.AllButTrailingFixed64"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - 8);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() >= 8; }
};

}  // namespace

// The one place where RocksDB's status becomes ours.
absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(Sv(what), ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return absl::UnavailableError(message);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  return absl::InternalError(message);
}

namespace {

std::string DescribeVersion(std::optional<uint64_t> version) {
  return version.has_value() ? absl::StrCat(*version) : "none (the stream does not exist)";
}

std::string DescribeExpected(ExpectedVersion expected) {
  switch (expected.kind()) {
    case ExpectedVersion::Kind::kAny: return "any";
    case ExpectedVersion::Kind::kNoStream: return "no stream";
    case ExpectedVersion::Kind::kStreamExists: return "stream exists";
    case ExpectedVersion::Kind::kExact: return absl::StrCat(expected.version());
  }
  return "?";
}

}  // namespace

absl::Status ConflictError(std::string_view stream_id, ExpectedVersion expected, std::optional<uint64_t> actual) {
  absl::Status status = absl::FailedPreconditionError(
      absl::StrCat("wrong expected version for stream ", Sv(stream_id), ": expected ", DescribeExpected(expected),
                   ", actual ", DescribeVersion(actual)));
  return WithActualVersion(std::move(status), actual);
}

namespace {

// RocksDB holds an fcntl lock on <path>/LOCK while a process has the database open for writing.
// A read-only open does not take it, so test it here to refuse a database in use.
absl::Status CheckNotInUse(const std::string& path) {
  std::string lock_path = path + "/LOCK";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return absl::OkStatus();  // never opened for writing
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  struct flock probe = lock;
  int rc = ::fcntl(fd, F_GETLK, &probe);
  ::close(fd);
  if (rc == 0 && probe.l_type != F_UNLCK && probe.l_pid != ::getpid()) {
    return absl::UnavailableError(absl::StrCat("the event log at ", path, " is in use by process ", probe.l_pid,
                                               "; stop it or use its gRPC API"));
  }
  return absl::OkStatus();
}

}  // namespace

bool EventFilter::Matches(std::string_view stream_id, std::string_view type) const {
  if (!stream_prefix.empty() && stream_id.substr(0, stream_prefix.size()) != stream_prefix) return false;
  if (event_types.empty()) return true;
  for (const std::string& t : event_types) {
    if (t == type) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Opening and closing.

EventStoreImpl::EventStoreImpl(const Options& options)
    : options_(options), clock_(options.clock != nullptr ? options.clock : Clock::Real()) {}

absl::StatusOr<std::unique_ptr<EventStore>> EventStoreImpl::Open(const Options& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("Options.path is empty");
  std::unique_ptr<EventStoreImpl> store(new EventStoreImpl(options));
  RETURN_IF_ERROR(store->OpenDatabase());
  RETURN_IF_ERROR(store->LoadHead());
  if (!options.read_only) {
    // Names show in top -H and perf.
    auto name = [prefix = options.thread_prefix](std::string_view role) {
      NameThisThread(absl::StrCat(prefix, "-", Sv(role)));
    };
    store->writer_ = std::thread([s = store.get(), name] {
      name("writer");
      s->WriterLoop();
    });
    store->decider_ = std::thread([s = store.get(), name] {
      name("decider");
      s->DecideAheadLoop();
    });
    store->completer_ = std::thread([s = store.get(), name] {
      name("completer");
      s->CompleterLoop();
    });
  }
  LOG_INFO("eventstore.open")
      .Kv("events", store->NextPosition())
      .Kv("read_only", options.read_only ? "true" : "false");
  return store;
}

absl::Status EventStoreImpl::OpenDatabase() {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = !options_.read_only;
  db_options.create_missing_column_families = !options_.read_only;
  db_options.IncreaseParallelism(2);
  db_options.keep_log_file_num = 4;
  // Flush and compaction output is written back a megabyte at a time rather than in one burst
  // at its final sync, which appends' WAL syncs would otherwise queue behind.
  db_options.bytes_per_sync = 1 << 20;
  // Every append waits for a sync of the log's WAL: zero-filled ahead, a sync need not also
  // write the file's growing size (internal/zero_filled_wal.h).
  env_ = NewZeroFilledWalEnv(options_.env);
  db_options.env = env_.get();
  // Compactions give way to the writer and to readers (see fhir/read_model.cc).
  env_->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW, rocksdb::CpuPriority::kLow);
  // One writer thread makes every write: RocksDB's concurrent memtable inserts would only add
  // atomics, and they would disable the insert hints below.
  db_options.allow_concurrent_memtable_write = false;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  // Bloom filters make the idempotency and stream-head lookups of new ids and streams cheap.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions family;
  family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  rocksdb::ColumnFamilyOptions events = family;
  // Positions only grow: one insert hint for the whole family turns each memtable insert into
  // an append instead of a search from the top of the skip list.
  events.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(0));
  // The log is read mostly in position order (catch-up, subscriptions, replay, verification),
  // where every block costs a block-cache lookup, an allocation and a decompression whatever its
  // size: a block of 16 KiB holds ~30 events of 500 bytes instead of ~8, and LZ4 decompresses
  // about twice as fast as Snappy. carehub-eventstore-bench measured 1.3-2.7x the catch-up
  // throughput of 4 KiB Snappy blocks (catchup.*), appends unchanged. A point read (an event of
  // a stream) decompresses the larger block: a few microseconds.
  {
    rocksdb::BlockBasedTableOptions log_table = table;
    log_table.block_size = 16u << 10;
    events.table_factory.reset(rocksdb::NewBlockBasedTableFactory(log_table));
    events.compression = rocksdb::kLZ4Compression;
  }
  // Almost every id lookup is for a new id: a memtable Bloom filter answers those without
  // searching the memtable.
  rocksdb::ColumnFamilyOptions lookups = family;
  lookups.write_buffer_size = 8u << 20;
  lookups.memtable_whole_key_filtering = true;
  lookups.memtable_prefix_bloom_size_ratio = 0.05;
  rocksdb::ColumnFamilyOptions streams = lookups;
  streams.memtable_insert_with_hint_prefix_extractor = std::make_shared<AllButTrailingFixed64>();
  rocksdb::ColumnFamilyOptions index = family;
  index.memtable_insert_with_hint_prefix_extractor = streams.memtable_insert_with_hint_prefix_extractor;

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, family},
      {kEventsFamily, events},
      {kStreamsFamily, streams},
      {kIdsFamily, lookups},
      {kIndexFamily, index}};
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (options_.read_only) {
    if (!std::filesystem::exists(options_.path + "/CURRENT")) {
      return absl::NotFoundError(absl::StrCat("no event log at ", options_.path));
    }
    RETURN_IF_ERROR(CheckNotInUse(options_.path));
    // A read-only open cannot create the index family that logs written before it lack.
    std::vector<std::string> existing;
    s = rocksdb::DB::ListColumnFamilies(db_options, options_.path, &existing);
    RETURN_IF_ERROR(FromRocks(s, absl::StrCat("listing the column families of ", options_.path)));
    if (std::find(existing.begin(), existing.end(), kIndexFamily) == existing.end()) families.pop_back();
    s = rocksdb::DB::OpenForReadOnly(db_options, options_.path, families, &handles_, &raw);
  } else {
    std::error_code ec;
    std::filesystem::create_directories(options_.path, ec);
    s = rocksdb::DB::Open(db_options, options_.path, families, &handles_, &raw);
  }
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return absl::UnavailableError(absl::StrCat("the event log at ", options_.path, " is in use: ", s.ToString()));
  }
  RETURN_IF_ERROR(FromRocks(s, absl::StrCat("opening the event log at ", options_.path)));
  db_.reset(raw);
  events_ = handles_[1];
  streams_ = handles_[2];
  ids_ = handles_[3];
  if (handles_.size() > 4) index_ = handles_[4];

  std::string format;
  s = db_->Get(rocksdb::ReadOptions(), handles_[0], kFormatKey, &format);
  if (s.IsNotFound()) {
    if (options_.read_only) return absl::OkStatus();
    rocksdb::WriteOptions sync;
    sync.sync = true;
    return FromRocks(db_->Put(sync, handles_[0], kFormatKey, kFormatValue), "writing the format marker");
  }
  RETURN_IF_ERROR(FromRocks(s, "reading the format marker"));
  if (format != kFormatValue) {
    return absl::FailedPreconditionError(absl::StrCat("the event log has format '", format, "'; this build reads '",
                                                      kFormatValue, "'"));
  }
  return absl::OkStatus();
}

// Finds the head: the last event, which must sit right after its predecessor, be readable and
// say its own position. A read-write open refuses a log damaged there (appending would extend
// the damage); a read-only open, which audit tools use, takes the last well-formed event as the
// head so that Verify can report the damage.
absl::Status EventStoreImpl::LoadHead() {
  // The deciding state; no writer runs yet, but the state is decide_mu_'s.
  absl::MutexLock decide_lock(&decide_mu_);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
  auto key_position = [&]() -> std::optional<uint64_t> {
    absl::StatusOr<uint64_t> p = DecodeFixed64(std::string_view(it->key().data(), it->key().size()));
    return p.ok() ? std::optional(*p) : std::nullopt;
  };
  std::string problem;
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    std::optional<uint64_t> position = key_position();
    std::string_view value(it->value().data(), it->value().size());
    absl::StatusOr<RecordedEvent> event = DecodeStoredEvent(value);
    std::optional<Hash> hash = StoredHash(value);
    if (!position.has_value() || !hash.has_value()) {
      problem = "the last key of the log is not a position, or its value is unreadable";
    } else {
      if (!event.ok() || event->position != *position) {
        problem = absl::StrCat("the event at the head (position ", *position, ") is unreadable or misplaced");
      }
      next_position_ = *position + 1;
      last_hash_ = *hash;
      if (*position > 0) {
        it->Prev();
        if (!it->Valid() || key_position() != *position - 1) {
          problem = absl::StrCat("the log has a gap before its last event at position ", *position);
        }
      }
      break;
    }
    if (!options_.read_only) break;
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "finding the head of the log"));
  if (!problem.empty()) {
    LOG_ERROR("eventstore.damaged_head").Kv("problem", problem);
    if (!options_.read_only) {
      return absl::DataLossError(absl::StrCat(problem, "; open it read-only and run verification"));
    }
  }
  absl::MutexLock lock(&head_mu_);
  published_next_ = next_position_;
  published_hash_ = last_hash_;
  return absl::OkStatus();
}

EventStoreImpl::~EventStoreImpl() {
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  if (decider_.joinable()) decider_.join();
  if (writer_.joinable()) writer_.join();  // the writer drains the queue before it stops
  {
    absl::MutexLock lock(&completion_mu_);
    completer_stopping_ = true;
  }
  if (completer_.joinable()) completer_.join();  // and the completer answers every append
  absl::flat_hash_map<const SubscriptionImpl*, std::function<void()>> waiters;
  {
    absl::MutexLock lock(&head_mu_);
    closing_ = true;
    ++wake_epoch_;
    waiters.swap(waiters_);
  }
  for (auto& [key, ready] : waiters) ready();
  for (rocksdb::ColumnFamilyHandle* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  handles_.clear();
  if (db_ != nullptr) {
    rocksdb::Status s = db_->Close();
    if (!s.ok()) LOG_ERROR("eventstore.close_failed").Kv("error", s.ToString());
  }
  absl::MutexLock lock(&head_mu_);
  LOG_INFO("eventstore.closed").Kv("events", published_next_);
}

// ---------------------------------------------------------------------------------------------
// Appending.

absl::Status EventStoreImpl::Enqueue(PendingAppend* pending) {
  RETURN_IF_ERROR(ValidateStreamId(pending->stream_id, options_.limits));
  RETURN_IF_ERROR(ValidateBatch(pending->events, options_.limits, &pending->bytes));
  if (options_.read_only) return absl::FailedPreconditionError("the event log is open read-only");
  absl::MutexLock lock(&queue_mu_);
  if (stopping_) return absl::UnavailableError("the event log is closing");
  queue_.push_back(pending);
  queued_events_ += pending->events.size();
  return absl::OkStatus();
}

absl::StatusOr<AppendResult> EventStoreImpl::Append(std::string_view stream_id, ExpectedVersion expected,
                                                    std::vector<ProposedEvent> events) {
  PendingAppend pending{.stream_id = std::string(stream_id),
                        .expected = expected,
                        .events = std::move(events),
                        .result = absl::UnknownError("not decided"),
                        .callback = nullptr,
                        .done = {}};
  RETURN_IF_ERROR(Enqueue(&pending));
  pending.done.WaitForNotification();
  return std::move(pending.result);
}

void EventStoreImpl::AppendAsync(std::string_view stream_id, ExpectedVersion expected,
                                 std::vector<ProposedEvent> events, AppendCallback done) {
  std::unique_ptr<PendingAppend> pending(new PendingAppend{.stream_id = std::string(stream_id),
                                                           .expected = expected,
                                                           .events = std::move(events),
                                                           .result = absl::UnknownError("not decided"),
                                                           .callback = std::move(done),
                                                           .done = {}});
  if (absl::Status queued = Enqueue(pending.get()); !queued.ok()) {
    pending->callback(queued);
    return;
  }
  pending.release();  // owned by the queue until the completer runs the callback
}

void EventStoreImpl::CompleterLoop() {
  for (;;) {
    Completion completion;
    {
      absl::MutexLock lock(&completion_mu_);
      completion_mu_.Await(absl::Condition(
          +[](EventStoreImpl* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return !s->completions_.empty() || s->completer_stopping_;
          },
          this));
      if (completions_.empty()) return;
      completion = std::move(completions_.front());
      completions_.pop_front();
    }
    // Publish before waking the appenders: once Append() returns, subscribers can see it.
    if (!completion.committed.empty()) Publish(std::move(completion.committed));
    for (PendingAppend* append : completion.group) {
      if (append->callback) {
        std::unique_ptr<PendingAppend> owned(append);
        owned->callback(std::move(owned->result));
      } else {
        append->done.Notify();
      }
    }
  }
}

std::unique_ptr<rocksdb::Iterator> EventStoreImpl::NewStreamIterator(std::string_view stream_id,
                                                                     StreamBounds* bounds) {
  bounds->lower = StreamPrefix(stream_id);
  bounds->upper = std::string(stream_id) + '\x01';  // just past every key of this stream
  bounds->lower_slice = bounds->lower;
  bounds->upper_slice = bounds->upper;
  rocksdb::ReadOptions options;
  options.iterate_lower_bound = &bounds->lower_slice;
  options.iterate_upper_bound = &bounds->upper_slice;
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(options, streams_));
}

absl::StatusOr<std::optional<uint64_t>> EventStoreImpl::LoadStreamVersion(std::string_view stream_id) {
  StreamBounds bounds;
  std::unique_ptr<rocksdb::Iterator> it = NewStreamIterator(stream_id, &bounds);
  it->SeekToLast();
  RETURN_IF_ERROR(FromRocks(it->status(), "reading a stream's last version"));
  if (!it->Valid()) return std::optional<uint64_t>();
  ASSIGN_OR_RETURN(StreamRun run, DecodeStreamRun(stream_id, std::string_view(it->key().data(), it->key().size()),
                                                  std::string_view(it->value().data(), it->value().size())));
  return std::optional<uint64_t>(run.last_version());
}

absl::StatusOr<std::optional<uint64_t>> EventStoreImpl::CurrentVersion(const std::string& stream_id) {
  if (auto it = version_cache_.find(stream_id); it != version_cache_.end()) return std::optional(it->second);
  return LoadStreamVersion(stream_id);
}

absl::StatusOr<std::optional<RecordedEvent>> EventStoreImpl::GetEvent(uint64_t position) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), events_, PositionKey(position), &value);
  if (s.IsNotFound()) return std::optional<RecordedEvent>();
  RETURN_IF_ERROR(FromRocks(s, "reading an event"));
  ASSIGN_OR_RETURN(RecordedEvent event, DecodeStoredEvent(value));
  return std::optional<RecordedEvent>(std::move(event));
}

absl::StatusOr<uint64_t> EventStoreImpl::StreamVersion(std::string_view stream_id) {
  RETURN_IF_ERROR(ValidateStreamId(stream_id, options_.limits));
  ASSIGN_OR_RETURN(std::optional<uint64_t> version, LoadStreamVersion(stream_id));
  if (!version.has_value()) return absl::NotFoundError(absl::StrCat("stream ", Sv(stream_id), " has no events"));
  return *version;
}

LogHead EventStoreImpl::PublishedHead() {
  absl::MutexLock lock(&head_mu_);
  LogHead head;
  if (published_next_ > 0) head.position = published_next_ - 1;
  head.hash = published_hash_;
  return head;
}

std::optional<std::optional<uint64_t>> AppendConflictImpl(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kFailedPrecondition) return std::nullopt;
  absl::optional<absl::Cord> payload = status.GetPayload(kActualVersionUrl);
  if (!payload.has_value()) return std::nullopt;
  std::string text(*payload);
  uint64_t version = 0;
  if (text == "none") return std::optional<std::optional<uint64_t>>(std::optional<uint64_t>());
  if (!absl::SimpleAtoi(text, &version)) return std::nullopt;
  return std::optional<std::optional<uint64_t>>(version);
}

}  // namespace internal

absl::StatusOr<ReadAllResult> EventStore::ReadIndex(const ReadIndexRequest&) {
  return absl::UnimplementedError("this event store keeps no secondary index");
}

std::optional<std::optional<uint64_t>> AppendConflict(const absl::Status& status) {
  return internal::AppendConflictImpl(status);
}

absl::StatusOr<uint64_t> LogEnd(EventStore& store) {
  ASSIGN_OR_RETURN(const LogHead head, store.Head());
  return head.position.has_value() ? *head.position + 1 : 0;
}

absl::Status WithActualVersion(absl::Status status, std::optional<uint64_t> actual) {
  status.SetPayload(internal::kActualVersionUrl, absl::Cord(actual.has_value() ? absl::StrCat(*actual) : "none"));
  return status;
}

namespace internal {

std::unique_ptr<Subscription> EventStoreImpl::Subscribe(const SubscribeOptions& options) {
  return std::make_unique<SubscriptionImpl>(this, options);
}

}  // namespace internal
}  // namespace carehub::eventstore
