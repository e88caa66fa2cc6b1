// The writing side of EventStoreImpl. The writer takes the queued appends as one group, decides
// them, writes the group's WriteBatch with sync=true and hands it to the completer. While it waits
// for the sync, the decide-ahead thread decides the appends that arrive meanwhile into the next
// group, so that deciding (reading the id index, encoding, hashing) overlaps the fsync instead of
// adding to it; the writer then only decides what is left. Deciding happens under decide_mu_,
// one thread at a time, in queue order.
//
// The group being written is the only one the deciding must see without finding it in RocksDB:
// everything before it is durable. Its stream versions are in the version cache and its event
// ids in in_flight_ids_. If its write fails, the next group, decided on top of it, fails too,
// unwritten, and deciding starts again from the durable head.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/log.h"
#include "carehub/base/status_macros.h"
#include "eventstore/internal/codec.h"
#include "eventstore/internal/event_store_impl.h"
#include "rocksdb/write_batch.h"

namespace carehub::eventstore::internal {
namespace {

// A group is cut at this many payload bytes so that one commit's latency stays bounded.
constexpr size_t kMaxGroupBytes = 64u << 20;
// While the writer waits for a sync, the decide-ahead thread starts on the queue once this many
// events wait: woken for every arrival, it would cost a context switch per append.
constexpr size_t kDecideAhead = 8;

absl::Status ConflictOrIdError(std::string message) { return absl::AlreadyExistsError(std::move(message)); }

}  // namespace

// Decides appends into `group` in queue order against the stored state, the group being
// written and the group's earlier appends, and accumulates the group's WriteBatch. Nothing here
// is visible to anyone until the batch is written.
class EventStoreImpl::GroupDecider {
 public:
  GroupDecider(EventStoreImpl* store, Group* group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(store->decide_mu_)
      : store_(store), group_(*group) {
    if (group_.appends.empty()) {
      group_.first_position = group_.next_position = store->next_position_;
      group_.first_hash = group_.last_hash = store->last_hash_;
    }
  }

  absl::StatusOr<AppendResult> Decide(PendingAppend& append) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    ASSIGN_OR_RETURN(std::optional<AppendResult> replay, CheckIdempotency(append));
    if (replay.has_value()) return *replay;

    std::optional<uint64_t> current;
    if (auto it = group_.versions.find(append.stream_id); it != group_.versions.end()) {
      current = it->second;
    } else {
      ASSIGN_OR_RETURN(current, store_->CurrentVersion(append.stream_id));
    }
    if (!append.expected.Matches(current)) {
      return ConflictError(append.stream_id, append.expected, current);
    }

    AppendResult result;
    result.first_position = group_.next_position;
    result.first_version = current.has_value() ? *current + 1 : 0;
    absl::Time now = absl::FromUnixMicros(absl::ToUnixMicros(store_->clock_->Now()));
    uint64_t version = result.first_version;
    for (ProposedEvent& proposed : append.events) {
      auto event = std::make_shared<RecordedEvent>();
      event->position = group_.next_position++;
      event->stream_id = append.stream_id;
      event->version = version++;
      event->event_id = std::move(proposed.event_id);
      event->type = std::move(proposed.type);
      event->data = std::move(proposed.data);
      event->metadata = std::move(proposed.metadata);
      event->recorded_at = now;
      for (const std::string& key : proposed.index_keys) {
        group_.batch.Put(store_->index_, IndexKey(key, event->position), "");
      }
      std::string value = EncodeRecord(*event);
      event->hash = ChainHash(group_.last_hash, value);
      group_.last_hash = event->hash;
      value.append(reinterpret_cast<const char*>(event->hash.data()), event->hash.size());
      std::string position = EncodeFixed64(event->position);
      group_.batch.Put(store_->events_, position, value);
      if (store_->options_.index_event_ids) {
        group_.batch.Put(store_->ids_, event->event_id, position);
        group_.ids.emplace(event->event_id, event);
      }
      group_.events.push_back(std::move(event));
    }
    result.last_position = group_.next_position - 1;
    result.last_version = version - 1;
    // One stream-index entry for the whole append: its events sit at consecutive positions.
    group_.batch.Put(store_->streams_, StreamVersionKey(append.stream_id, result.first_version),
                     EncodeStreamRunValue(result.first_position, static_cast<uint32_t>(append.events.size())));
    group_.versions[append.stream_id] = result.last_version;
    return result;
  }

 private:
  // An event of this group, of the group being written, or stored earlier; nullptr if none.
  absl::StatusOr<std::shared_ptr<const RecordedEvent>> Known(const std::string& event_id)
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (auto it = group_.ids.find(event_id); it != group_.ids.end()) return it->second;
    if (auto it = store_->in_flight_ids_.find(event_id); it != store_->in_flight_ids_.end()) return it->second;
    std::string value;
    rocksdb::Status s = store_->db_->Get(rocksdb::ReadOptions(), store_->ids_, event_id, &value);
    if (s.IsNotFound()) return nullptr;
    RETURN_IF_ERROR(FromRocks(s, "reading the event-id index"));
    ASSIGN_OR_RETURN(uint64_t position, DecodeFixed64(value));
    ASSIGN_OR_RETURN(std::optional<RecordedEvent> event, store_->GetEvent(position));
    if (!event.has_value()) {
      return absl::DataLossError(absl::StrCat("the event-id index points at missing position ", position));
    }
    return std::make_shared<const RecordedEvent>(*std::move(event));
  }

  // The original result if every event of `append` is already stored as this very batch;
  // nullopt if none is; AlreadyExists otherwise.
  absl::StatusOr<std::optional<AppendResult>> CheckIdempotency(const PendingAppend& append) {
    if (!store_->options_.index_event_ids) return std::optional<AppendResult>();
    std::vector<std::shared_ptr<const RecordedEvent>> known;
    size_t unknown = 0;
    for (size_t i = 0; i < append.events.size(); ++i) {
      const ProposedEvent& proposed = append.events[i];
      ASSIGN_OR_RETURN(std::shared_ptr<const RecordedEvent> stored, Known(proposed.event_id));
      if (stored == nullptr) {
        ++unknown;
        continue;
      }
      if (stored->stream_id != append.stream_id || stored->type != proposed.type || stored->data != proposed.data ||
          stored->metadata != proposed.metadata) {
        return ConflictOrIdError(absl::StrCat("events[", i, "].event_id ", proposed.event_id,
                                              " is already stored with other content or in another stream"));
      }
      if (!known.empty() && stored->position != known.back()->position + 1) {
        return ConflictOrIdError(absl::StrCat("events[", i, "].event_id ", proposed.event_id,
                                              " is already stored, but not as part of the same append"));
      }
      known.push_back(std::move(stored));
    }
    if (known.empty()) return std::optional<AppendResult>();
    if (unknown > 0) {
      return ConflictOrIdError(
          "the append mixes event ids already stored with new ones; resend the original append unchanged or use new ids");
    }
    AppendResult result{.first_position = known.front()->position,
                        .last_position = known.back()->position,
                        .first_version = known.front()->version,
                        .last_version = known.back()->version,
                        .idempotent_replay = true};
    return std::optional(result);
  }

  EventStoreImpl* store_;
  Group& group_;
};

void EventStoreImpl::DecideQueued() {
  std::vector<PendingAppend*> taken;
  {
    absl::MutexLock lock(&queue_mu_);
    size_t bytes = ahead_.bytes;
    while (!queue_.empty() &&
           ((ahead_.appends.empty() && taken.empty()) || bytes + queue_.front()->bytes <= kMaxGroupBytes)) {
      PendingAppend* append = queue_.front();
      queue_.pop_front();
      queued_events_ -= append->events.size();
      bytes += append->bytes;
      taken.push_back(append);
    }
    ahead_pending_ = !ahead_.appends.empty() || !taken.empty();
    ahead_full_ = !queue_.empty();  // what is left waits for the next group
  }
  GroupDecider decider(this, &ahead_);
  for (PendingAppend* append : taken) {
    append->result = decider.Decide(*append);
    ahead_.bytes += append->bytes;
    ahead_.appends.push_back(append);
  }
}

// Stream versions the writer remembers; beyond this the cache is dropped and refilled from the
// streams family, which keeps memory bounded with millions of streams.
constexpr size_t kVersionCacheCapacity = 1u << 20;

void EventStoreImpl::WriterLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(
          +[](EventStoreImpl* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return !s->queue_.empty() || s->ahead_pending_ || s->stopping_;
          },
          this));
      // Stopping, and every queued append has been decided and written.
      if (queue_.empty() && !ahead_pending_) return;
    }
    Group group;
    {
      absl::MutexLock lock(&decide_mu_);
      DecideQueued();
      group = std::exchange(ahead_, Group());
      // Deciding goes on as if the group were written (undone below if it is not).
      next_position_ = group.next_position;
      last_hash_ = group.last_hash;
      if (version_cache_.size() + group.versions.size() > kVersionCacheCapacity) version_cache_.clear();
      for (auto& [stream, version] : group.versions) version_cache_[stream] = version;
      in_flight_ids_ = std::move(group.ids);
      absl::MutexLock queue_lock(&queue_mu_);
      ahead_pending_ = ahead_full_ = false;
      writing_ = !group.events.empty();
    }
    Completion completion;
    if (!group.events.empty()) {
      rocksdb::WriteOptions sync;
      sync.sync = true;
      rocksdb::Status s = db_->Write(sync, &group.batch);
      if (s.ok()) {
        completion.committed = std::move(group.events);
      } else {
        // Nothing of the group is durable; whatever it decided (including replays of events the
        // group itself held) is void, and so is everything decided on top of it since. Replays
        // of events written before stand.
        LOG_ERROR("eventstore.commit_failed").Kv("appends", group.appends.size()).Kv("error", s.ToString());
        const absl::Status failed =
            absl::InternalError(absl::StrCat("writing to the event log failed: ", s.ToString()));
        for (PendingAppend* append : group.appends) {
          if (append->result.ok() && append->result->last_position >= group.first_position) append->result = failed;
        }
        absl::MutexLock lock(&decide_mu_);
        for (PendingAppend* append : ahead_.appends) {
          append->result = failed;
          group.appends.push_back(append);
        }
        ahead_ = Group();
        next_position_ = group.first_position;
        last_hash_ = group.first_hash;
        version_cache_.clear();
        in_flight_ids_.clear();
        absl::MutexLock queue_lock(&queue_mu_);
        ahead_pending_ = ahead_full_ = false;
      }
    }
    {
      absl::MutexLock lock(&queue_mu_);
      writing_ = false;
    }
    completion.group = std::move(group.appends);
    absl::MutexLock lock(&completion_mu_);
    completions_.push_back(std::move(completion));
  }
}

void EventStoreImpl::DecideAheadLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(
          +[](EventStoreImpl* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return (s->writing_ && s->queued_events_ >= kDecideAhead && !s->ahead_full_) || s->stopping_;
          },
          this));
      if (stopping_) return;  // the writer decides what is left
    }
    absl::MutexLock lock(&decide_mu_);
    DecideQueued();
  }
}

// Runs on the completer. The writer may already be deciding later groups, so the published head
// comes from the committed events themselves, never from the writer's state.
void EventStoreImpl::Publish(std::vector<std::shared_ptr<const RecordedEvent>>&& committed) {
  const uint64_t next = committed.back()->position + 1;
  const Hash hash = committed.back()->hash;
  absl::flat_hash_map<const SubscriptionImpl*, std::function<void()>> ready;
  std::deque<std::shared_ptr<const RecordedEvent>> evicted;  // freed outside the lock
  {
    absl::MutexLock lock(&head_mu_);
    for (auto& event : committed) recent_.push_back(std::move(event));
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
