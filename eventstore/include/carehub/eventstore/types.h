// Value types of the event store API. Plain structs; copyable; not thread-safe on their own.
#ifndef CAREHUB_EVENTSTORE_TYPES_H_
#define CAREHUB_EVENTSTORE_TYPES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace carehub::eventstore {

// SHA-256 digest: the chain hash of an event.
using Hash = std::array<uint8_t, 32>;

// Lower-case hex, 64 characters.
std::string HashToHex(const Hash& hash);
// Parses 64 hex digits (either case); std::nullopt if malformed.
std::optional<Hash> HashFromHex(std::string_view hex);

struct Limits {
  // data + metadata of one event.
  size_t max_event_bytes = 1u << 20;
  // Events in one Append.
  size_t max_batch_events = 1000;
  // Total data + metadata of one Append.
  size_t max_batch_bytes = 16u << 20;
  // Stream ids: 1..max_stream_id_bytes of [A-Za-z0-9._:-]; not starting with '.' or '-'.
  size_t max_stream_id_bytes = 128;
  // Event ids: 1..max_event_id_bytes of printable ASCII (0x21..0x7e).
  size_t max_event_id_bytes = 128;
  // Event types: 1..max_event_type_bytes of [A-Za-z0-9._/-].
  size_t max_event_type_bytes = 256;
  // Index keys (ProposedEvent::index_keys): at most this many per event, each
  // 1..max_index_key_bytes of printable ASCII (0x21..0x7e).
  size_t max_index_keys = 64;
  size_t max_index_key_bytes = 256;
  // Most events returned by one read or subscription batch.
  size_t max_read_events = 10000;
  // Payload bytes (data + metadata) one read or subscription batch collects before it stops; a
  // batch always holds at least one event, so an event of max_event_bytes can still be read.
  size_t max_read_bytes = 4u << 20;
};

// An event as a writer proposes it.
struct ProposedEvent {
  std::string event_id;  // idempotency key, unique in the whole log
  std::string type;      // e.g. "carehub.care.v1.InpatientAdmitted"
  std::string data;      // opaque payload (serialized protobuf for care events)
  std::string metadata;  // opaque, e.g. correlation ids
  // Optional secondary-index keys under which EventStore::ReadIndex() finds this event, e.g.
  // "agent:SE2321000016-1234". An index is derived data: the keys are written in the same
  // WriteBatch as the event but are not part of its hashed record, nor compared by the
  // idempotency check, nor returned by reads. A reader that must trust a match checks the event's
  // own data. Not carried by the gRPC service.
  std::vector<std::string> index_keys;

  friend bool operator==(const ProposedEvent&, const ProposedEvent&) = default;
};

// An event as stored.
struct RecordedEvent {
  uint64_t position = 0;  // in the global log
  std::string stream_id;
  uint64_t version = 0;   // in its stream
  std::string event_id;
  std::string type;
  std::string data;
  std::string metadata;
  absl::Time recorded_at;  // from the store's clock, microsecond precision
  Hash hash{};             // SHA-256(previous event's hash || canonical bytes of this event)

  friend bool operator==(const RecordedEvent&, const RecordedEvent&) = default;
};

class ExpectedVersion {
 public:
  enum class Kind { kAny, kNoStream, kStreamExists, kExact };

  static ExpectedVersion Any() { return ExpectedVersion(Kind::kAny, 0); }
  static ExpectedVersion NoStream() { return ExpectedVersion(Kind::kNoStream, 0); }
  static ExpectedVersion StreamExists() { return ExpectedVersion(Kind::kStreamExists, 0); }
  // The version of the stream's last event must be `version`.
  static ExpectedVersion Exact(uint64_t version) { return ExpectedVersion(Kind::kExact, version); }

  Kind kind() const { return kind_; }
  uint64_t version() const { return version_; }
  // Whether a stream whose last version is `actual` (nullopt: no stream) satisfies this.
  bool Matches(std::optional<uint64_t> actual) const;

 private:
  ExpectedVersion(Kind kind, uint64_t version) : kind_(kind), version_(version) {}
  Kind kind_;
  uint64_t version_;
};

struct AppendResult {
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  uint64_t first_version = 0;
  uint64_t last_version = 0;
  // True when every event was already stored and nothing was written.
  bool idempotent_replay = false;
};

struct ReadStreamRequest {
  std::string stream_id;
  // Inclusive start. Forwards: default 0. Backwards: default the last version.
  std::optional<uint64_t> from_version;
  bool backwards = false;
  size_t limit = 1000;  // capped at Limits::max_read_events
};

struct ReadAllRequest {
  // Inclusive start. Forwards: default 0. Backwards: default the head.
  std::optional<uint64_t> from_position;
  bool backwards = false;
  size_t limit = 1000;  // matching events to return, capped at Limits::max_read_events
  // Filters; empty means "all". An event matches if its stream id starts with stream_prefix and
  // its type equals one of event_types.
  std::string stream_prefix;
  std::vector<std::string> event_types;
  // Most events to examine (matching or not) before returning; 0 = no bound. Keeps a filtered
  // read over a large log from running long; the caller continues at next_position.
  size_t max_scan = 0;
};

// Events filed under one index key (ProposedEvent::index_keys), in position order.
struct ReadIndexRequest {
  std::string index_key;
  // Inclusive start. Forwards: default 0. Backwards: default the head.
  std::optional<uint64_t> from_position;
  bool backwards = false;
  size_t limit = 1000;  // capped at Limits::max_read_events
};

struct ReadAllResult {
  std::vector<RecordedEvent> events;
  // Where to continue in the same direction; nullopt when the scan reached the end of the log
  // (forwards: nothing stored past it yet; backwards: position 0 was examined).
  std::optional<uint64_t> next_position;
};

struct SubscribeOptions {
  uint64_t from_position = 0;  // first position delivered (inclusive)
  std::string stream_prefix;
  std::vector<std::string> event_types;
  size_t max_batch = 512;  // capped at Limits::max_read_events
};

struct SubscriptionBatch {
  std::vector<RecordedEvent> events;
  // Every position below this has been examined: a checkpoint to resume from, also when the
  // filter matched nothing.
  uint64_t checkpoint = 0;
  // True when the subscription has reached the head of the log as of this batch.
  bool caught_up = false;
};

struct LogHead {
  std::optional<uint64_t> position;  // nullopt: empty log
  Hash hash{};                       // all zero for an empty log

  friend bool operator==(const LogHead&, const LogHead&) = default;
};

struct VerifyResult {
  bool ok = true;
  uint64_t events_verified = 0;
  LogHead head;  // the last verified head (up to, not including, the first bad position)
  // When !ok: the first position whose stored bytes do not reproduce the chain, and why.
  std::optional<uint64_t> first_bad_position;
  std::string problem;
};

}  // namespace carehub::eventstore

#endif  // CAREHUB_EVENTSTORE_TYPES_H_
