// EventStore: a durable, append-only, tamper-evident log of events, grouped into streams.
//
// Generic: it knows nothing of care or FHIR. A stream is a sequence of events with versions
// 0, 1, 2, ...; every event also has a position in one global log, 0, 1, 2, ... without gaps.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<EventStore> store, EventStore::Open({.path = "var/log"}));
//   ASSIGN_OR_RETURN(AppendResult r,
//                    store->Append("patient-1f0c", ExpectedVersion::NoStream(), {event}));
//   // r.first_position .. r.last_position are durable (the WAL was synced) when Append returns.
//
//   std::unique_ptr<Subscription> sub = store->Subscribe({.from_position = 0});
//   for (;;) { ASSIGN_OR_RETURN(auto batch, sub->Next(absl::Seconds(1))); ... }
//
// Errors (absl::StatusCode):
//   InvalidArgument     malformed input: stream-id syntax, empty or oversized event or batch
//   FailedPrecondition  the expected version does not hold; the message names the actual version
//                       and AppendConflict() extracts it
//   AlreadyExists       an event id is known with other content, or in another stream/batch
//   DataLoss            stored data is corrupt (verification failures are results, not errors)
//   Unavailable         the store is shutting down
//   Internal            the storage engine failed (I/O error)
//
// Thread-safety: EventStore and its methods are thread-safe. A Subscription is used by one
// thread at a time, except Cancel() and NotifyWhenReady(), which any thread may call.
#ifndef CAREHUB_EVENTSTORE_EVENT_STORE_H_
#define CAREHUB_EVENTSTORE_EVENT_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/eventstore/types.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace carehub::eventstore {

struct Options {
  // Directory of the RocksDB database; created if missing.
  std::string path;
  // Source of recorded-at times. Not owned; nullptr means the real clock.
  Clock* clock = nullptr;
  Limits limits;
  // Recently committed events kept in memory for live subscribers. A subscriber that falls
  // further behind reads from disk instead; writers never wait for subscribers.
  size_t recent_events_capacity = 65536;
  // RocksDB block cache for event and index reads.
  size_t block_cache_bytes = 256u << 20;
  // Open read-only (for audit tools on a stopped hub's data). Appends fail with
  // FailedPrecondition. Fails with Unavailable if another process holds the database open
  // for writing.
  bool read_only = false;
  // Keep the durable event-id index that makes appends idempotent. A log whose writers never
  // resend an append (the access log: each entry gets a fresh random id) can turn it off and
  // save a lookup and a random memtable insert per event; ids are then still stored with each
  // event, but an append repeating a stored id is written again.
  bool index_event_ids = true;
  // The storage engine's files: the file system of this environment (its threads and clock are
  // RocksDB's default ones). Not owned; nullptr means the default. For tests that inject I/O
  // faults.
  rocksdb::Env* env = nullptr;
  // Names the store's threads "<prefix>-writer", "<prefix>-decider" and "<prefix>-completer"
  // (as top -H and perf show them), so that an operator can tell two stores of one process
  // apart. Linux keeps 15 bytes of a thread name: a longer name is cut.
  std::string thread_prefix = "es";
};

// A subscription to the global log: catch-up from a position, then live, with no gap and no
// duplicate at the switch. Pull-based: the subscriber asks for the next batch when it is ready,
// so a slow subscriber can never hold up writers or other subscribers.
class Subscription {
 public:
  virtual ~Subscription() = default;

  // Returns the next batch of matching events without waiting; the batch may be empty when the
  // subscriber is at the head (batch.caught_up is then true).
  virtual absl::StatusOr<SubscriptionBatch> Poll() = 0;

  // Like Poll(), but waits up to `timeout` for at least one matching event. Returns an empty
  // batch on timeout, Cancelled after Cancel(), Unavailable when the store closes.
  virtual absl::StatusOr<SubscriptionBatch> Next(absl::Duration timeout) = 0;

  // Calls `ready` once, from any thread (possibly the caller's, at once), when events past the
  // cursor may be available, or when the subscription is cancelled or the store closes. `ready`
  // must not block: it is run by the store's writer. Replaces any earlier registration.
  // `ready` may still be running when Cancel() returns or the subscription is destroyed, so it
  // must not reach the subscription through a pointer it does not own (hold a weak reference).
  virtual void NotifyWhenReady(std::function<void()> ready) = 0;

  // Ends the subscription; a pending Next() returns Cancelled. Idempotent.
  virtual void Cancel() = 0;

  // The next position this subscription will look at.
  virtual uint64_t cursor() const = 0;
};

class EventStore {
 public:
  // Opens or creates the store at options.path. On open the store checks that the global log
  // is gapless at its head and resumes the hash chain there.
  static absl::StatusOr<std::unique_ptr<EventStore>> Open(const Options& options);

  EventStore() = default;
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;
  // Waits for pending appends to finish, then closes the database.
  virtual ~EventStore() = default;

  // Appends `events` to `stream_id` atomically, after checking `expected`. Returns once the
  // events are durable (WAL synced); concurrent appends share one sync.
  //
  // Idempotent: if every event id in `events` is already stored, as the same batch with the same
  // content in the same stream, the original result is returned (with `idempotent_replay` set)
  // and nothing is written, whatever `expected` says. A known id with other content, or a batch
  // that mixes known and new ids, fails with AlreadyExists.
  virtual absl::StatusOr<AppendResult> Append(std::string_view stream_id, ExpectedVersion expected,
                                              std::vector<ProposedEvent> events) = 0;

  using AppendCallback = std::function<void(absl::StatusOr<AppendResult>)>;

  // Append without waiting: returns at once and runs `done` exactly once with what Append()
  // would return — on the store's completer thread once the events are durable, or on the
  // caller's thread for input it rejects at once. `done` must not block. For servers, so that no
  // thread is parked per append. The default implementation calls Append() and then `done`.
  virtual void AppendAsync(std::string_view stream_id, ExpectedVersion expected, std::vector<ProposedEvent> events,
                           AppendCallback done) {
    done(Append(stream_id, expected, std::move(events)));
  }

  // Reads events of one stream in version order (or reverse), starting at request.from_version
  // (inclusive; for backwards reads std::nullopt means "from the last event").
  virtual absl::StatusOr<std::vector<RecordedEvent>> ReadStream(const ReadStreamRequest& request) = 0;

  // Reads the global log in position order (or reverse), with optional filters. The result's
  // next_position lets the caller continue a filtered scan without rescanning.
  virtual absl::StatusOr<ReadAllResult> ReadAll(const ReadAllRequest& request) = 0;

  // Reads the events filed under request.index_key (see ProposedEvent::index_keys) in position
  // order (or reverse). next_position continues the read; nullopt when no more are indexed.
  // InvalidArgument for a malformed key. Stores without an index answer Unimplemented (the
  // default).
  virtual absl::StatusOr<ReadAllResult> ReadIndex(const ReadIndexRequest& request);

  // The version of the stream's last event; NotFound if the stream has no events.
  virtual absl::StatusOr<uint64_t> StreamVersion(std::string_view stream_id) = 0;

  // The last durable event's position and chain hash; position is absent for an empty log.
  // A local store always answers; a remote one reports why it could not (e.g. Unavailable).
  virtual absl::StatusOr<LogHead> Head() = 0;

  // Recomputes the hash chain from `from` (a head recorded earlier; nullopt = from the start of
  // the log) up to the current head. Every finding is reported in the result, not as an error:
  // a stored event that does not reproduce the chain, a missing position, a `from` whose hash
  // differs from the stored one, and a `from` past today's head (the tail was removed). Errors
  // are for I/O failures only.
  virtual absl::StatusOr<VerifyResult> Verify(std::optional<LogHead> from) = 0;

  // A subscription to the global log starting at options.from_position. The subscription must
  // be destroyed before the store; when the store closes, its Next() returns Unavailable.
  virtual std::unique_ptr<Subscription> Subscribe(const SubscribeOptions& options) = 0;
};

// The position the next appended event will get: the number of events in the log (Head's
// position + 1; 0 for an empty log). Head's error otherwise.
absl::StatusOr<uint64_t> LogEnd(EventStore& store);

// Whether `event` passes the checks an append makes of each of its events under `limits` (id,
// type, index keys, size); InvalidArgument naming the rule broken. For writers that gather
// events from several sources into one append, so that one bad event does not fail the rest.
absl::Status ValidateEvent(const ProposedEvent& event, const Limits& limits);

// If `status` is an expected-version conflict from Append, the stream's actual version
// (std::nullopt inside when the stream does not exist). Otherwise std::nullopt.
std::optional<std::optional<uint64_t>> AppendConflict(const absl::Status& status);

// Marks `status` (FailedPrecondition) as an expected-version conflict with the stream's actual
// version, exactly as Append() does, so that AppendConflict() reads it. For transports that
// carry the actual version separately and rebuild the status on the other side.
absl::Status WithActualVersion(absl::Status status, std::optional<uint64_t> actual);

}  // namespace carehub::eventstore

#endif  // CAREHUB_EVENTSTORE_EVENT_STORE_H_
