#include "eventstore/internal/validation.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace carehub::eventstore::internal {
namespace {

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

absl::Status ValidateEventId(std::string_view id, const Limits& limits, size_t index) {
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat("events[", index, "].event_id is empty"));
  if (id.size() > limits.max_event_id_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("events[", index, "].event_id is ", id.size(),
                                                   " bytes; the limit is ", limits.max_event_id_bytes));
  }
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          absl::StrCat("events[", index, "].event_id may hold printable ASCII only (no spaces)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateType(std::string_view type, const Limits& limits, size_t index) {
  if (type.empty()) return absl::InvalidArgumentError(absl::StrCat("events[", index, "].type is empty"));
  if (type.size() > limits.max_event_type_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("events[", index, "].type is ", type.size(),
                                                   " bytes; the limit is ", limits.max_event_type_bytes));
  }
  for (char c : type) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '/' && c != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("events[", index, "].type may hold only letters, digits and . _ / -"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateStreamId(std::string_view stream_id, const Limits& limits) {
  if (stream_id.empty()) return absl::InvalidArgumentError("stream_id is empty");
  if (stream_id.size() > limits.max_stream_id_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("stream_id is ", stream_id.size(),
                                                   " bytes; the limit is ", limits.max_stream_id_bytes));
  }
  if (stream_id.front() == '.' || stream_id.front() == '-') {
    return absl::InvalidArgumentError("stream_id must not start with '.' or '-'");
  }
  for (char c : stream_id) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != ':' && c != '-') {
      return absl::InvalidArgumentError("stream_id may hold only letters, digits and . _ : -");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateIndexKey(std::string_view key, const Limits& limits) {
  if (key.empty() || key.size() > limits.max_index_key_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("an index key must be 1 to ", limits.max_index_key_bytes,
                                                   " bytes; this one is ", key.size()));
  }
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) return absl::InvalidArgumentError("an index key may hold only printable ASCII");
  }
  return absl::OkStatus();
}

absl::Status ValidateEvent(const ProposedEvent& event, const Limits& limits, size_t index) {
  if (absl::Status s = ValidateEventId(event.event_id, limits, index); !s.ok()) return s;
  if (absl::Status s = ValidateType(event.type, limits, index); !s.ok()) return s;
  if (event.index_keys.size() > limits.max_index_keys) {
    return absl::InvalidArgumentError(absl::StrCat("events[", index, "] has ", event.index_keys.size(),
                                                   " index keys; the limit is ", limits.max_index_keys));
  }
  for (const std::string& key : event.index_keys) {
    if (absl::Status s = ValidateIndexKey(key, limits); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("events[", index, "]: ", s.message()));
    }
  }
  const size_t size = event.data.size() + event.metadata.size();
  if (size > limits.max_event_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("events[", index, "] holds ", size,
                                                   " bytes of data and metadata; the limit is ",
                                                   limits.max_event_bytes));
  }
  return absl::OkStatus();
}

absl::Status ValidateBatch(const std::vector<ProposedEvent>& events, const Limits& limits, size_t* bytes) {
  if (events.empty()) return absl::InvalidArgumentError("an append needs at least one event");
  if (events.size() > limits.max_batch_events) {
    return absl::InvalidArgumentError(absl::StrCat("an append holds ", events.size(),
                                                   " events; the limit is ", limits.max_batch_events));
  }
  absl::flat_hash_set<std::string_view> ids;
  size_t total = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const ProposedEvent& event = events[i];
    if (absl::Status s = ValidateEvent(event, limits, i); !s.ok()) return s;
    if (!ids.insert(event.event_id).second) {
      return absl::InvalidArgumentError(absl::StrCat("events[", i, "].event_id repeats an earlier event id of the append"));
    }
    total += event.data.size() + event.metadata.size();
  }
  if (total > limits.max_batch_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("an append holds ", total, " bytes; the limit is ",
                                                   limits.max_batch_bytes));
  }
  *bytes = total;
  return absl::OkStatus();
}

}  // namespace carehub::eventstore::internal

namespace carehub::eventstore {

absl::Status ValidateEvent(const ProposedEvent& event, const Limits& limits) {
  return internal::ValidateEvent(event, limits, 0);
}

}  // namespace carehub::eventstore
