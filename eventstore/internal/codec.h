// The on-disk layout of the event store: column families, key grammar and the canonical record
// that the hash chain covers. Everything that reads or writes stored bytes goes through here.
//
// Column families (RocksDB):
//   default  key "format"                       -> "carehub-eventstore/1"
//   events   key position                       -> record hash
//   streams  key stream_id 0x00 first_version   -> first_position count
//                                                 one run per append: versions first_version ..
//                                                 first_version + count - 1 sit at consecutive
//                                                 positions from first_position. A stream's last
//                                                 version comes from its last run.
//   ids      key event_id                       -> position       (durable idempotency index;
//                                                 empty when Options::index_event_ids is off)
//   index    key index_key 0x00 position        -> ""             (optional secondary index:
//                                                 ProposedEvent::index_keys; derived data, not
//                                                 hashed; absent in logs written before it)
//
//   position, version  := fixed64, big-endian (so keys sort numerically)
//   first_position     := fixed64 big-endian; count := fixed32 big-endian, at least 1
//   stream_id          := 1..128 bytes of [A-Za-z0-9._:-], never 0x00, so the 0x00 separator
//                         sorts a stream's versions together and before any longer stream id
//   index_key          := 1..256 bytes of 0x21..0x7e, so 0x00 separates it as for stream ids
//   hash               := 32 bytes, SHA-256(previous hash || record); the previous hash of
//                         position 0 is 32 zero bytes
//   record             := 0x01 position version recorded_at_us
//                         lenstr(stream_id) lenstr(event_id) lenstr(type)
//                         lenstr(data) lenstr(metadata)
//   recorded_at_us     := fixed64 big-endian, microseconds since the Unix epoch (two's complement)
//   lenstr(x)          := fixed32 big-endian length, then the bytes of x
//
// The record repeats the position, stream and version so that a moved, swapped or re-keyed event
// fails verification, and the hash covers every byte of the record.
//
// All writes of one append (events, streams, ids) go in one WriteBatch.
#ifndef CAREHUB_EVENTSTORE_INTERNAL_CODEC_H_
#define CAREHUB_EVENTSTORE_INTERNAL_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "carehub/eventstore/types.h"

namespace carehub::eventstore::internal {

inline constexpr char kEventsFamily[] = "events";
inline constexpr char kStreamsFamily[] = "streams";
inline constexpr char kIdsFamily[] = "ids";
inline constexpr char kIndexFamily[] = "index";
inline constexpr char kFormatKey[] = "format";
inline constexpr char kFormatValue[] = "carehub-eventstore/1";
inline constexpr uint8_t kRecordMagic = 0x01;

std::string EncodeFixed64(uint64_t value);
// Decodes 8 big-endian bytes; error if `bytes` is not exactly 8 long.
absl::StatusOr<uint64_t> DecodeFixed64(std::string_view bytes);

std::string PositionKey(uint64_t position);
std::string StreamVersionKey(std::string_view stream_id, uint64_t version);
// The smallest key of stream_id's version index, for seeking.
std::string StreamPrefix(std::string_view stream_id);

std::string IndexKey(std::string_view index_key, uint64_t position);
// index_key 0x00: every entry of one index key starts with it.
std::string IndexPrefix(std::string_view index_key);

// A run of a stream: the versions of one append and where they sit in the global log.
struct StreamRun {
  uint64_t first_version = 0;
  uint64_t first_position = 0;
  uint64_t count = 0;

  uint64_t last_version() const { return first_version + count - 1; }
  uint64_t PositionOf(uint64_t version) const { return first_position + (version - first_version); }
};

std::string EncodeStreamRunValue(uint64_t first_position, uint32_t count);
// Decodes a streams-family entry of `stream_id`; DataLoss if malformed.
absl::StatusOr<StreamRun> DecodeStreamRun(std::string_view stream_id, std::string_view key, std::string_view value);

// The canonical bytes of an event (everything but the hash), as hashed and stored.
std::string EncodeRecord(const RecordedEvent& event);

// SHA-256(previous || record).
Hash ChainHash(const Hash& previous, std::string_view record);

// The stored value: record followed by the 32-byte hash.
std::string EncodeStoredEvent(const RecordedEvent& event);

// Parses a stored value. DataLoss if it is truncated or malformed. `record` (optional) receives
// the canonical bytes so that a verifier can rehash them without re-encoding.
absl::StatusOr<RecordedEvent> DecodeStoredEvent(std::string_view value, std::string_view* record = nullptr);

// The hash at the end of a stored value, readable even when the record before it is not (so that
// a store can open on a damaged tail and let verification report it); nullopt if too short.
std::optional<Hash> StoredHash(std::string_view value);

}  // namespace carehub::eventstore::internal

#endif  // CAREHUB_EVENTSTORE_INTERNAL_CODEC_H_
