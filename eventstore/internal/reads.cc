// The readers' side of EventStoreImpl: stream and global-log reads, and chain verification.
// Reads go straight to RocksDB (see event_store_impl.h for why that is safe).
#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "eventstore/internal/codec.h"
#include "eventstore/internal/event_store_impl.h"
#include "eventstore/internal/validation.h"

namespace carehub::eventstore::internal {
namespace {

size_t CapLimit(size_t limit, const Limits& limits) {
  return limit == 0 || limit > limits.max_read_events ? limits.max_read_events : limit;
}

std::string_view View(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

uint64_t KeyPosition(const rocksdb::Slice& key) {
  absl::StatusOr<uint64_t> position = DecodeFixed64(View(key));
  return position.ok() ? *position : UINT64_MAX;
}

// Paged reads (ReadAll pages, subscription polls) open a new iterator per page. A modest
// readahead and a filled block cache let the next page, which starts in the blocks where this one
// ended, come from memory; a large fixed readahead re-read megabytes for every page (measured with
// carehub-eventstore-bench: 256 KiB roughly doubled catch-up over 2 MiB without the cache).
rocksdb::ReadOptions PageOptions() {
  rocksdb::ReadOptions options;
  options.readahead_size = 256u << 10;
  return options;
}

// One walk over the whole log (verification): sequential, read once, so read ahead and keep the
// block cache for the hub's working set.
rocksdb::ReadOptions WalkOptions() {
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  options.readahead_size = 2u << 20;
  return options;
}

}  // namespace

absl::StatusOr<std::vector<RecordedEvent>> EventStoreImpl::ReadStream(const ReadStreamRequest& request) {
  RETURN_IF_ERROR(ValidateStreamId(request.stream_id, options_.limits));
  size_t limit = CapLimit(request.limit, options_.limits);
  StreamBounds bounds;
  std::unique_ptr<rocksdb::Iterator> it = NewStreamIterator(request.stream_id, &bounds);
  // Start at the run holding the first wanted version: the last run starting at or before it.
  const uint64_t from = request.from_version.value_or(request.backwards ? UINT64_MAX : 0);
  it->SeekForPrev(StreamVersionKey(request.stream_id, from));
  if (!it->Valid() && !request.backwards) it->SeekToFirst();
  std::vector<std::string> keys;
  for (; it->Valid() && keys.size() < limit; request.backwards ? it->Prev() : it->Next()) {
    ASSIGN_OR_RETURN(StreamRun run, DecodeStreamRun(request.stream_id, View(it->key()), View(it->value())));
    if (!request.backwards) {
      for (uint64_t v = std::max(from, run.first_version); v <= run.last_version() && keys.size() < limit; ++v) {
        keys.push_back(PositionKey(run.PositionOf(v)));
      }
    } else {
      for (uint64_t v = std::min(from, run.last_version()); keys.size() < limit; --v) {
        keys.push_back(PositionKey(run.PositionOf(v)));
        if (v == run.first_version) break;
      }
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading a stream index"));

  // The byte bound is applied after the events are read; MultiGet in one go is cheaper than
  // point reads, and at most `limit` events are fetched.
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values(keys.size());
  std::vector<rocksdb::ColumnFamilyHandle*> families(keys.size(), events_);
  std::vector<rocksdb::Status> statuses = db_->MultiGet(rocksdb::ReadOptions(), families, slices, &values);
  std::vector<RecordedEvent> events;
  events.reserve(keys.size());
  size_t bytes = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!events.empty() && bytes >= options_.limits.max_read_bytes) break;
    if (statuses[i].IsNotFound()) {
      return absl::DataLossError(absl::StrCat("stream ", request.stream_id, " points at a missing event"));
    }
    RETURN_IF_ERROR(FromRocks(statuses[i], "reading a stream's events"));
    ASSIGN_OR_RETURN(RecordedEvent event, DecodeStoredEvent(values[i]));
    bytes += event.data.size() + event.metadata.size();
    events.push_back(std::move(event));
  }
  return events;
}

absl::StatusOr<ReadAllResult> EventStoreImpl::ReadAll(const ReadAllRequest& request) {
  EventFilter filter{request.stream_prefix, request.event_types};
  size_t limit = CapLimit(request.limit, options_.limits);
  ReadAllResult result;
  if (!request.backwards) {
    uint64_t next = 0;
    RETURN_IF_ERROR(ScanForward(request.from_position.value_or(0), filter, limit, request.max_scan, &result.events,
                                &next));
    // ScanForward stops at the end of the log or at a bound; only the latter leaves more to read.
    if (next < NextPosition()) result.next_position = next;
    return result;
  }

  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(PageOptions(), events_));
  if (request.from_position.has_value()) {
    it->SeekForPrev(PositionKey(*request.from_position));
  } else {
    it->SeekToLast();
  }
  size_t scanned = 0;
  size_t bytes = 0;
  uint64_t last = UINT64_MAX;
  for (; it->Valid(); it->Prev()) {
    if (result.events.size() == limit || (request.max_scan != 0 && scanned == request.max_scan) ||
        (!result.events.empty() && bytes >= options_.limits.max_read_bytes)) {
      break;
    }
    ASSIGN_OR_RETURN(RecordedEvent event, DecodeStoredEvent(View(it->value())));
    last = event.position;
    ++scanned;
    if (filter.Matches(event.stream_id, event.type)) {
      bytes += event.data.size() + event.metadata.size();
      result.events.push_back(std::move(event));
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the log backwards"));
  if (it->Valid() && last != UINT64_MAX && last > 0) result.next_position = last - 1;
  return result;
}

absl::StatusOr<ReadAllResult> EventStoreImpl::ReadIndex(const ReadIndexRequest& request) {
  RETURN_IF_ERROR(ValidateIndexKey(request.index_key, options_.limits));
  ReadAllResult result;
  if (index_ == nullptr) return result;  // a read-only log from before the index: nothing filed
  const size_t limit = CapLimit(request.limit, options_.limits);
  const std::string prefix = IndexPrefix(request.index_key);
  std::string upper = prefix;
  upper.back() = '\x01';  // the first key past every "index_key 0x00 ..."
  rocksdb::Slice lower_slice(prefix), upper_slice(upper);
  rocksdb::ReadOptions options;
  options.iterate_lower_bound = &lower_slice;
  options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, index_));
  if (!request.backwards) {
    it->Seek(IndexKey(request.index_key, request.from_position.value_or(0)));
  } else if (request.from_position.has_value()) {
    it->SeekForPrev(IndexKey(request.index_key, *request.from_position));
  } else {
    it->SeekToLast();
  }
  std::vector<uint64_t> positions;
  for (; it->Valid() && positions.size() < limit; request.backwards ? it->Prev() : it->Next()) {
    std::string_view key = View(it->key());
    ASSIGN_OR_RETURN(uint64_t position, DecodeFixed64(key.substr(prefix.size())));
    positions.push_back(position);
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading an index"));
  if (it->Valid() && !positions.empty()) {
    result.next_position = request.backwards ? positions.back() - 1 : positions.back() + 1;
  }
  result.events.reserve(positions.size());
  for (uint64_t position : positions) {
    ASSIGN_OR_RETURN(std::optional<RecordedEvent> event, GetEvent(position));
    if (!event.has_value()) {
      return absl::DataLossError(absl::StrCat("the index ", request.index_key, " names missing position ", position));
    }
    result.events.push_back(*std::move(event));
  }
  return result;
}

absl::Status EventStoreImpl::ScanForward(uint64_t from, const EventFilter& filter, size_t limit, size_t max_scan,
                                         std::vector<RecordedEvent>* out, uint64_t* next) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(PageOptions(), events_));
  size_t scanned = 0;
  size_t bytes = 0;
  *next = from;
  const size_t first = out->size();
  for (it->Seek(PositionKey(from)); it->Valid(); it->Next()) {
    if (out->size() - first >= limit || (max_scan != 0 && scanned == max_scan) ||
        (out->size() > first && bytes >= options_.limits.max_read_bytes)) {
      break;
    }
    ASSIGN_OR_RETURN(RecordedEvent event, DecodeStoredEvent(View(it->value())));
    *next = event.position + 1;
    ++scanned;
    if (filter.Matches(event.stream_id, event.type)) {
      bytes += event.data.size() + event.metadata.size();
      out->push_back(std::move(event));
    }
  }
  return FromRocks(it->status(), "reading the log");
}

absl::StatusOr<VerifyResult> EventStoreImpl::Verify(std::optional<LogHead> from) {
  VerifyResult result;
  Hash previous{};
  uint64_t expected = 0;
  // One iterator pins one consistent view of the log for the whole walk.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(WalkOptions(), events_));
  auto fail = [&](uint64_t position, std::string problem) {
    result.ok = false;
    result.first_bad_position = position;
    result.problem = std::move(problem);
    return result;
  };

  if (from.has_value() && from->position.has_value()) {
    uint64_t start = *from->position;
    it->Seek(PositionKey(start));
    RETURN_IF_ERROR(FromRocks(it->status(), "reading the log"));
    if (!it->Valid() || KeyPosition(it->key()) != start) {
      std::optional<uint64_t> head = PublishedHead().position;
      if (!head.has_value() || *head < start) {
        uint64_t first_missing = head.has_value() ? *head + 1 : 0;
        return fail(first_missing, absl::StrCat("the recorded head is at position ", start, " but the log ends ",
                                                head.has_value() ? absl::StrCat("at ", *head) : "before position 0",
                                                ": events were removed from its end"));
      }
      return fail(start, "the event at the recorded head's position is missing");
    }
    if (StoredHash(View(it->value())) != from->hash) {
      return fail(start, "the stored hash at the recorded head's position differs from the recorded hash");
    }
    previous = from->hash;
    expected = start + 1;
    result.head = *from;
    it->Next();
  } else {
    it->SeekToFirst();
  }

  for (; it->Valid(); it->Next()) {
    uint64_t position = KeyPosition(it->key());
    if (position != expected) {
      return fail(expected, position == UINT64_MAX ? "a key in the events family is malformed"
                                                   : absl::StrCat("position ", expected,
                                                                  " is missing (the next stored position is ",
                                                                  position, ")"));
    }
    std::string_view record;
    absl::StatusOr<RecordedEvent> event = DecodeStoredEvent(View(it->value()), &record);
    if (!event.ok()) return fail(position, std::string(event.status().message()));
    if (event->position != position) {
      return fail(position, absl::StrCat("the record stored at position ", position, " says position ",
                                         event->position, " (moved or swapped)"));
    }
    Hash hash = ChainHash(previous, record);
    if (hash != event->hash) {
      return fail(position, "the stored hash does not match the hash of the previous event and this record");
    }
    previous = hash;
    result.head = LogHead{position, hash};
    ++result.events_verified;
    ++expected;
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the log"));
  return result;
}

}  // namespace carehub::eventstore::internal
