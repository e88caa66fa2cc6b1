// The writer's side of EventStoreImpl: deciding a group of queued appends and committing them
// with one synced WriteBatch. Runs on the writer thread only.
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/log.h"
#include "carehub/base/status_macros.h"
#include "eventstore/internal/codec.h"
#include "eventstore/internal/event_store_impl.h"
#include "rocksdb/write_batch.h"

namespace carehub::eventstore::internal {
namespace {

absl::Status ConflictOrIdError(std::string message) { return absl::AlreadyExistsError(std::move(message)); }

}  // namespace

// Decides the appends of one group in queue order against the stored state plus what earlier
// appends of the same group will write, and accumulates the group's WriteBatch. Nothing here is
// visible to anyone until the batch is written.
class EventStoreImpl::GroupDecider {
 public:
  explicit GroupDecider(EventStoreImpl* store)
      : store_(store), next_position_(store->next_position_), last_hash_(store->last_hash_) {}

  absl::StatusOr<AppendResult> Decide(PendingAppend& append) {
    ASSIGN_OR_RETURN(std::optional<AppendResult> replay, CheckIdempotency(append));
    if (replay.has_value()) return *replay;

    std::optional<uint64_t> current;
    if (auto it = versions_.find(append.stream_id); it != versions_.end()) {
      current = it->second;
    } else {
      ASSIGN_OR_RETURN(current, store_->CurrentVersion(append.stream_id));
    }
    if (!append.expected.Matches(current)) {
      return ConflictError(append.stream_id, append.expected, current);
    }

    AppendResult result;
    result.first_position = next_position_;
    result.first_version = current.has_value() ? *current + 1 : 0;
    absl::Time now = absl::FromUnixMicros(absl::ToUnixMicros(store_->clock_->Now()));
    uint64_t version = result.first_version;
    for (ProposedEvent& proposed : append.events) {
      RecordedEvent event;
      event.position = next_position_++;
      event.stream_id = append.stream_id;
      event.version = version++;
      event.event_id = std::move(proposed.event_id);
      event.type = std::move(proposed.type);
      event.data = std::move(proposed.data);
      event.metadata = std::move(proposed.metadata);
      event.recorded_at = now;
      for (const std::string& key : proposed.index_keys) batch_.Put(store_->index_, IndexKey(key, event.position), "");
      std::string value = EncodeRecord(event);
      event.hash = ChainHash(last_hash_, value);
      last_hash_ = event.hash;
      value.append(reinterpret_cast<const char*>(event.hash.data()), event.hash.size());
      std::string position = EncodeFixed64(event.position);
      batch_.Put(store_->events_, position, value);
      if (store_->options_.index_event_ids) {
        batch_.Put(store_->ids_, event.event_id, position);
        ids_.emplace(event.event_id, committed_.size());
      }
      committed_.push_back(std::move(event));
    }
    result.last_position = next_position_ - 1;
    result.last_version = version - 1;
    // One stream-index entry for the whole append: its events sit at consecutive positions.
    batch_.Put(store_->streams_, StreamVersionKey(append.stream_id, result.first_version),
               EncodeStreamRunValue(result.first_position, static_cast<uint32_t>(append.events.size())));
    versions_[append.stream_id] = result.last_version;
    return result;
  }

  bool empty() const { return committed_.empty(); }
  rocksdb::WriteBatch* batch() { return &batch_; }
  uint64_t first_position() const { return store_->next_position_; }

  // Stream versions the writer remembers; beyond this the cache is dropped and refilled from the
  // streams family, which keeps memory bounded with millions of streams.
  static constexpr size_t kVersionCacheCapacity = 1u << 20;

  // After a successful write: the writer's state moves on.
  std::vector<RecordedEvent> Apply() {
    store_->next_position_ = next_position_;
    store_->last_hash_ = last_hash_;
    if (store_->version_cache_.size() + versions_.size() > kVersionCacheCapacity) store_->version_cache_.clear();
    for (auto& [stream, version] : versions_) store_->version_cache_[stream] = version;
    return std::move(committed_);
  }

 private:
  // An event the group already holds, or one stored earlier.
  absl::StatusOr<std::optional<RecordedEvent>> Known(const std::string& event_id) {
    if (auto it = ids_.find(event_id); it != ids_.end()) return std::optional(committed_[it->second]);
    std::string value;
    rocksdb::Status s = store_->db_->Get(rocksdb::ReadOptions(), store_->ids_, event_id, &value);
    if (s.IsNotFound()) return std::optional<RecordedEvent>();
    RETURN_IF_ERROR(FromRocks(s, "reading the event-id index"));
    ASSIGN_OR_RETURN(uint64_t position, DecodeFixed64(value));
    ASSIGN_OR_RETURN(std::optional<RecordedEvent> event, store_->GetEvent(position));
    if (!event.has_value()) {
      return absl::DataLossError(absl::StrCat("the event-id index points at missing position ", position));
    }
    return event;
  }

  // The original result if every event of `append` is already stored as this very batch;
  // nullopt if none is; AlreadyExists otherwise.
  absl::StatusOr<std::optional<AppendResult>> CheckIdempotency(const PendingAppend& append) {
    if (!store_->options_.index_event_ids) return std::optional<AppendResult>();
    std::vector<RecordedEvent> known;
    size_t unknown = 0;
    for (size_t i = 0; i < append.events.size(); ++i) {
      const ProposedEvent& proposed = append.events[i];
      ASSIGN_OR_RETURN(std::optional<RecordedEvent> stored, Known(proposed.event_id));
      if (!stored.has_value()) {
        ++unknown;
        continue;
      }
      if (stored->stream_id != append.stream_id || stored->type != proposed.type || stored->data != proposed.data ||
          stored->metadata != proposed.metadata) {
        return ConflictOrIdError(absl::StrCat("events[", i, "].event_id ", proposed.event_id,
                                              " is already stored with other content or in another stream"));
      }
      if (!known.empty() && stored->position != known.back().position + 1) {
        return ConflictOrIdError(absl::StrCat("events[", i, "].event_id ", proposed.event_id,
                                              " is already stored, but not as part of the same append"));
      }
      known.push_back(std::move(*stored));
    }
    if (known.empty()) return std::optional<AppendResult>();
    if (unknown > 0) {
      return ConflictOrIdError(
          "the append mixes event ids already stored with new ones; resend the original append unchanged or use new ids");
    }
    AppendResult result{.first_position = known.front().position,
                        .last_position = known.back().position,
                        .first_version = known.front().version,
                        .last_version = known.back().version,
                        .idempotent_replay = true};
    return std::optional(result);
  }

  EventStoreImpl* store_;
  uint64_t next_position_;
  Hash last_hash_;
  rocksdb::WriteBatch batch_;
  std::vector<RecordedEvent> committed_;
  absl::flat_hash_map<std::string, size_t> ids_;  // event id -> index in committed_
  absl::flat_hash_map<std::string, uint64_t> versions_;
};

EventStoreImpl::Completion EventStoreImpl::CommitGroup(std::vector<PendingAppend*> group) {
  GroupDecider decider(this);
  for (PendingAppend* append : group) append->result = decider.Decide(*append);

  Completion completion;
  if (!decider.empty()) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    rocksdb::Status s = db_->Write(sync, decider.batch());
    if (!s.ok()) {
      // Nothing of the group is durable; whatever it decided (including replays of events the
      // group itself held) is void.
      LOG_ERROR("eventstore.commit_failed").Kv("appends", group.size()).Kv("error", s.ToString());
      absl::Status failed = absl::InternalError(absl::StrCat("writing to the event log failed: ", s.ToString()));
      for (PendingAppend* append : group) {
        if (append->result.ok() && append->result->last_position >= decider.first_position()) {
          append->result = failed;
        }
      }
    } else {
      completion.committed = decider.Apply();
    }
  }
  completion.group = std::move(group);
  return completion;
}

// Runs on the completer. The writer may already be deciding later groups, so the published head
// comes from the committed events themselves, never from the writer's state.
void EventStoreImpl::Publish(std::vector<RecordedEvent>&& committed) {
  // Built outside the lock: allocation is the expensive part.
  std::vector<std::shared_ptr<const RecordedEvent>> shared;
  shared.reserve(committed.size());
  for (RecordedEvent& event : committed) shared.push_back(std::make_shared<const RecordedEvent>(std::move(event)));
  const uint64_t next = shared.back()->position + 1;
  const Hash hash = shared.back()->hash;
  absl::flat_hash_map<const SubscriptionImpl*, std::function<void()>> ready;
  std::deque<std::shared_ptr<const RecordedEvent>> evicted;  // freed outside the lock
  {
    absl::MutexLock lock(&head_mu_);
    for (auto& event : shared) recent_.push_back(std::move(event));
    while (recent_.size() > options_.recent_events_capacity) {
      evicted.push_back(std::move(recent_.front()));
      recent_.pop_front();
    }
    published_next_ = next;
    published_hash_ = hash;
    ready.swap(waiters_);
  }
  for (auto& [key, fn] : ready) fn();
}

}  // namespace carehub::eventstore::internal
