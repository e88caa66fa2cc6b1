#include "eventstore/internal/codec.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "carehub/base/sha256.h"

namespace carehub::eventstore::internal {
namespace {

void PutFixed64(std::string* out, uint64_t value) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  out->append(buf, 8);
}

void PutFixed32(std::string* out, uint32_t value) {
  char buf[4];
  for (int i = 3; i >= 0; --i) {
    buf[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  out->append(buf, 4);
}

void PutLengthPrefixed(std::string* out, std::string_view bytes) {
  PutFixed32(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}

uint64_t LoadFixed64(const char* p) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<uint8_t>(p[i]);
  return value;
}

uint32_t LoadFixed32(const char* p) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | static_cast<uint8_t>(p[i]);
  return value;
}

// Reads the record grammar of codec.h from the front of `in`.
class RecordReader {
 public:
  explicit RecordReader(std::string_view in) : in_(in) {}

  bool Fixed64(uint64_t* value) {
    if (in_.size() < 8) return false;
    *value = LoadFixed64(in_.data());
    in_.remove_prefix(8);
    return true;
  }

  bool LengthPrefixed(std::string* value) {
    if (in_.size() < 4) return false;
    uint32_t n = LoadFixed32(in_.data());
    in_.remove_prefix(4);
    if (in_.size() < n) return false;
    value->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }

  std::string_view rest() const { return in_; }

 private:
  std::string_view in_;
};

}  // namespace

std::string EncodeFixed64(uint64_t value) {
  std::string out;
  PutFixed64(&out, value);
  return out;
}

absl::StatusOr<uint64_t> DecodeFixed64(std::string_view bytes) {
  if (bytes.size() != 8) {
    return absl::DataLossError(absl::StrCat("expected 8 bytes, found ", bytes.size()));
  }
  return LoadFixed64(bytes.data());
}

std::string PositionKey(uint64_t position) { return EncodeFixed64(position); }

std::string IndexKey(std::string_view index_key, uint64_t position) {
  std::string key = IndexPrefix(index_key);
  key.append(EncodeFixed64(position));
  return key;
}

std::string IndexPrefix(std::string_view index_key) {
  std::string key(index_key);
  key.push_back('\0');
  return key;
}

std::string StreamPrefix(std::string_view stream_id) {
  std::string key(stream_id);
  key.push_back('\0');
  return key;
}

std::string StreamVersionKey(std::string_view stream_id, uint64_t version) {
  std::string key = StreamPrefix(stream_id);
  PutFixed64(&key, version);
  return key;
}

std::string EncodeStreamRunValue(uint64_t first_position, uint32_t count) {
  std::string out;
  PutFixed64(&out, first_position);
  PutFixed32(&out, count);
  return out;
}

absl::StatusOr<StreamRun> DecodeStreamRun(std::string_view stream_id, std::string_view key, std::string_view value) {
  const size_t prefix = stream_id.size() + 1;
  if (key.size() != prefix + 8 || key.substr(0, stream_id.size()) != stream_id || key[stream_id.size()] != '\0' ||
      value.size() != 12) {
    return absl::DataLossError("a stream index entry is malformed");
  }
  StreamRun run{.first_version = LoadFixed64(key.data() + prefix),
                .first_position = LoadFixed64(value.data()),
                .count = LoadFixed32(value.data() + 8)};
  if (run.count == 0) return absl::DataLossError("a stream index entry holds no events");
  return run;
}

std::string EncodeRecord(const RecordedEvent& event) {
  std::string out;
  out.reserve(1 + 3 * 8 + 5 * 4 + event.stream_id.size() + event.event_id.size() + event.type.size() +
              event.data.size() + event.metadata.size());
  out.push_back(static_cast<char>(kRecordMagic));
  PutFixed64(&out, event.position);
  PutFixed64(&out, event.version);
  PutFixed64(&out, static_cast<uint64_t>(absl::ToUnixMicros(event.recorded_at)));
  PutLengthPrefixed(&out, event.stream_id);
  PutLengthPrefixed(&out, event.event_id);
  PutLengthPrefixed(&out, event.type);
  PutLengthPrefixed(&out, event.data);
  PutLengthPrefixed(&out, event.metadata);
  return out;
}

Hash ChainHash(const Hash& previous, std::string_view record) {
  return Sha256({std::string_view(reinterpret_cast<const char*>(previous.data()), previous.size()),
                 record});
}

std::string EncodeStoredEvent(const RecordedEvent& event) {
  std::string out = EncodeRecord(event);
  out.append(reinterpret_cast<const char*>(event.hash.data()), event.hash.size());
  return out;
}

absl::StatusOr<RecordedEvent> DecodeStoredEvent(std::string_view value, std::string_view* record) {
  constexpr size_t kHashSize = sizeof(Hash);
  if (value.size() < 1 + kHashSize || static_cast<uint8_t>(value[0]) != kRecordMagic) {
    return absl::DataLossError("stored event is truncated or has an unknown record format");
  }
  std::string_view body = value.substr(0, value.size() - kHashSize);
  RecordReader reader(body.substr(1));
  RecordedEvent event;
  uint64_t micros = 0;
  if (!reader.Fixed64(&event.position) || !reader.Fixed64(&event.version) || !reader.Fixed64(&micros) ||
      !reader.LengthPrefixed(&event.stream_id) || !reader.LengthPrefixed(&event.event_id) ||
      !reader.LengthPrefixed(&event.type) || !reader.LengthPrefixed(&event.data) ||
      !reader.LengthPrefixed(&event.metadata) || !reader.rest().empty()) {
    return absl::DataLossError("stored event record is malformed");
  }
  event.recorded_at = absl::FromUnixMicros(static_cast<int64_t>(micros));
  std::memcpy(event.hash.data(), value.data() + body.size(), kHashSize);
  if (record != nullptr) *record = body;
  return event;
}

std::optional<Hash> StoredHash(std::string_view value) {
  if (value.size() < sizeof(Hash)) return std::nullopt;
  Hash hash;
  std::memcpy(hash.data(), value.data() + value.size() - sizeof(Hash), sizeof(Hash));
  return hash;
}

}  // namespace carehub::eventstore::internal
