// EventStoreImpl: the RocksDB-backed EventStore. The layout it writes is in codec.h.
//
// Writes: Append() validates its input on the caller's thread, queues the request and waits.
// One writer thread drains the queue: it decides every queued append in order (idempotency,
// expected version, positions, hash chain), puts them all in one WriteBatch and writes it with
// sync=true; while it waits for the sync, a second thread decides the appends that arrive into
// the next group (commit.cc). Only then does a completer thread publish the events to subscribers
// and wake the appenders, in commit order. Concurrent appends therefore share one WAL sync (group
// commit), and decisions never race: they are made one at a time, under decide_mu_, in queue
// order.
//
// Reads go straight to RocksDB: a write becomes visible only after its WAL sync, and one
// WriteBatch becomes visible atomically, so readers never see an event that is not durable nor
// a gap in the global log.
//
// Live subscribers are served from a ring of recently committed events kept in memory; a
// subscriber whose cursor has left the ring reads from RocksDB like any reader. The writer
// never waits for a subscriber.
#ifndef CAREHUB_EVENTSTORE_INTERNAL_EVENT_STORE_IMPL_H_
#define CAREHUB_EVENTSTORE_INTERNAL_EVENT_STORE_IMPL_H_

#include <cstdint>
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "carehub/eventstore/event_store.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/write_batch.h"

namespace carehub::eventstore::internal {

class SubscriptionImpl;

// Converts a RocksDB status; `what` says what was being done. The only such conversion.
absl::Status FromRocks(const rocksdb::Status& s, std::string_view what);
// FailedPrecondition for an expected-version conflict, carrying the actual version for
// AppendConflict().
absl::Status ConflictError(std::string_view stream_id, ExpectedVersion expected, std::optional<uint64_t> actual);

// Filters shared by ReadAll and subscriptions.
struct EventFilter {
  std::string stream_prefix;
  std::vector<std::string> event_types;

  bool Matches(std::string_view stream_id, std::string_view type) const;
};

class EventStoreImpl : public EventStore {
 public:
  static absl::StatusOr<std::unique_ptr<EventStore>> Open(const Options& options);
  ~EventStoreImpl() override;

  absl::StatusOr<AppendResult> Append(std::string_view stream_id, ExpectedVersion expected,
                                      std::vector<ProposedEvent> events) override;
  void AppendAsync(std::string_view stream_id, ExpectedVersion expected, std::vector<ProposedEvent> events,
                   AppendCallback done) override;
  absl::StatusOr<std::vector<RecordedEvent>> ReadStream(const ReadStreamRequest& request) override;
  absl::StatusOr<ReadAllResult> ReadAll(const ReadAllRequest& request) override;
  absl::StatusOr<ReadAllResult> ReadIndex(const ReadIndexRequest& request) override;
  absl::StatusOr<uint64_t> StreamVersion(std::string_view stream_id) override;
  absl::StatusOr<LogHead> Head() override { return PublishedHead(); }
  absl::StatusOr<VerifyResult> Verify(std::optional<LogHead> from) override;
  std::unique_ptr<Subscription> Subscribe(const SubscribeOptions& options) override;

  // --- For SubscriptionImpl. ---

  // The position the next appended event will get (= number of durable events).
  uint64_t NextPosition();
  // The last durable event's position and hash (Head, which cannot fail here).
  LogHead PublishedHead();
  // Copies matching events at positions >= `from` from the in-memory ring. Returns false (and
  // copies nothing) if `from` is older than the ring holds. `*next` is the first unexamined
  // position.
  bool CopyRecent(uint64_t from, const EventFilter& filter, size_t limit, std::vector<RecordedEvent>* out,
                  uint64_t* next);
  // Reads matching events forwards from RocksDB, examining at most `max_scan` events.
  absl::Status ScanForward(uint64_t from, const EventFilter& filter, size_t limit, size_t max_scan,
                           std::vector<RecordedEvent>* out, uint64_t* next);
  // Waits until NextPosition() > position, `cancelled` holds, the store closes, or the
  // deadline passes. Returns false if the store is closing.
  bool AwaitPast(uint64_t position, const std::atomic<bool>& cancelled, absl::Time deadline);
  // Registers `ready` (one-shot) for the next commit; calls it at once if the log already
  // extends past `position` or the store is closing.
  // Not registered if `cancelled` is already set (then `ready` runs at once).
  void NotifyPast(const SubscriptionImpl* key, uint64_t position, const std::atomic<bool>& cancelled,
                  std::function<void()> ready);
  // Removes and returns the registration of `key` (empty if none), and wakes every AwaitPast()
  // so that it re-checks its condition (a cancelled subscription must not sleep on).
  std::function<void()> Unregister(const SubscriptionImpl* key);
  bool closing();
  const Limits& limits() const { return options_.limits; }

 private:
  struct PendingAppend {
    std::string stream_id;
    ExpectedVersion expected;
    std::vector<ProposedEvent> events;
    size_t bytes = 0;
    absl::StatusOr<AppendResult> result;
    // How the appender learns the result: `callback` if set (AppendAsync; the completer runs it
    // and deletes this PendingAppend), else `done` (Append, which waits on it).
    AppendCallback callback;
    absl::Notification done;
  };
  // Validates and queues `pending`; on a rejection returns it without queueing.
  absl::Status Enqueue(PendingAppend* pending);
  class GroupDecider;

  explicit EventStoreImpl(const Options& options);
  absl::Status OpenDatabase();
  absl::Status LoadHead();

  // Event ids of a decided group -> its events (the keys view the events' own ids).
  using IdMap = absl::flat_hash_map<std::string_view, std::shared_ptr<const RecordedEvent>>;
  // A group of appends being decided, then written: the appends with their results, and what
  // makes them durable.
  struct Group {
    std::vector<PendingAppend*> appends;
    size_t bytes = 0;  // payload of `appends`
    rocksdb::WriteBatch batch;
    std::vector<std::shared_ptr<const RecordedEvent>> events;  // what the batch writes
    IdMap ids;
    absl::flat_hash_map<std::string, uint64_t> versions;  // stream -> last version after the group
    // The head before the group (position and chain hash), and after it.
    uint64_t first_position = 0;
    Hash first_hash{};
    uint64_t next_position = 0;
    Hash last_hash{};
  };
  // A committed (or failed) group on its way from the writer to the completer.
  struct Completion {
    std::vector<std::shared_ptr<const RecordedEvent>> committed;
    std::vector<PendingAppend*> group;
  };
  class GroupDecider;

  void WriterLoop();
  void DecideAheadLoop();
  // Moves queued appends into `ahead_` and decides them, while the group stays under
  // kMaxGroupBytes.
  void DecideQueued() ABSL_EXCLUSIVE_LOCKS_REQUIRED(decide_mu_);
  void CompleterLoop();
  void Publish(std::vector<std::shared_ptr<const RecordedEvent>>&& committed);

  // The stream's last version as the writer knows it (cache, then the streams family).
  absl::StatusOr<std::optional<uint64_t>> CurrentVersion(const std::string& stream_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(decide_mu_);
  absl::StatusOr<std::optional<uint64_t>> LoadStreamVersion(std::string_view stream_id);
  // An iterator over one stream's runs in the streams family (see codec.h); `bounds` holds the
  // iteration bounds and must outlive it.
  struct StreamBounds {
    std::string lower, upper;
    rocksdb::Slice lower_slice, upper_slice;
  };
  std::unique_ptr<rocksdb::Iterator> NewStreamIterator(std::string_view stream_id, StreamBounds* bounds);
  absl::StatusOr<std::optional<RecordedEvent>> GetEvent(uint64_t position);

  Options options_;
  Clock* clock_;

  // The environment db_ writes through (see OpenDatabase); outlives it.
  std::unique_ptr<rocksdb::Env> env_;
  // Column family handles are deleted before db_ (see ~EventStoreImpl).
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_ = nullptr;
  rocksdb::ColumnFamilyHandle* ids_ = nullptr;
  // nullptr only in a read-only open of a log written before the index existed.
  rocksdb::ColumnFamilyHandle* index_ = nullptr;

  // The append queue, filled by callers, drained by the writer and the decide-ahead thread.
  absl::Mutex queue_mu_;
  std::deque<PendingAppend*> queue_ ABSL_GUARDED_BY(queue_mu_);
  size_t queued_events_ ABSL_GUARDED_BY(queue_mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  bool writing_ ABSL_GUARDED_BY(queue_mu_) = false;  // the writer waits for a sync
  bool ahead_full_ ABSL_GUARDED_BY(queue_mu_) = false;  // ahead_ holds kMaxGroupBytes
  bool ahead_pending_ ABSL_GUARDED_BY(queue_mu_) = false;  // ahead_ holds appends
  std::thread writer_;
  std::thread decider_;

  // Deciding, by the writer or the decide-ahead thread, one at a time. Lock order: decide_mu_,
  // then queue_mu_. The state is as if every decided group were written: the chain's tail, a
  // bounded cache of stream versions, the event ids of the group being written (the only one
  // not yet durable besides ahead_), and the next group, decided so far.
  absl::Mutex decide_mu_;
  uint64_t next_position_ ABSL_GUARDED_BY(decide_mu_) = 0;
  Hash last_hash_ ABSL_GUARDED_BY(decide_mu_){};
  absl::flat_hash_map<std::string, uint64_t> version_cache_ ABSL_GUARDED_BY(decide_mu_);
  IdMap in_flight_ids_ ABSL_GUARDED_BY(decide_mu_);
  Group ahead_ ABSL_GUARDED_BY(decide_mu_);

  // Completions, filled by the writer, drained in order by the completer, which publishes the
  // events and wakes the appenders. Waking dozens of threads costs a futex call each; doing it
  // here lets the writer start the next group at once.
  absl::Mutex completion_mu_;
  std::deque<Completion> completions_ ABSL_GUARDED_BY(completion_mu_);
  bool completer_stopping_ ABSL_GUARDED_BY(completion_mu_) = false;
  std::thread completer_;

  // What readers and subscribers see of the head.
  absl::Mutex head_mu_;
  uint64_t published_next_ ABSL_GUARDED_BY(head_mu_) = 0;
  Hash published_hash_ ABSL_GUARDED_BY(head_mu_){};
  bool closing_ ABSL_GUARDED_BY(head_mu_) = false;
  uint64_t wake_epoch_ ABSL_GUARDED_BY(head_mu_) = 0;
  // Recently committed events; recent_.front() has position published_next_ - recent_.size().
  std::deque<std::shared_ptr<const RecordedEvent>> recent_ ABSL_GUARDED_BY(head_mu_);
  absl::flat_hash_map<const SubscriptionImpl*, std::function<void()>> waiters_ ABSL_GUARDED_BY(head_mu_);
};

}  // namespace carehub::eventstore::internal

#endif  // CAREHUB_EVENTSTORE_INTERNAL_EVENT_STORE_IMPL_H_
