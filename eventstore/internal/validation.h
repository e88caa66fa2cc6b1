// Input checks for appends and reads: syntax of identifiers and size limits. Everything that
// comes from outside the store is checked here before the writer sees it.
#ifndef CAREHUB_EVENTSTORE_INTERNAL_VALIDATION_H_
#define CAREHUB_EVENTSTORE_INTERNAL_VALIDATION_H_

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "carehub/eventstore/types.h"

namespace carehub::eventstore::internal {

// InvalidArgument naming the rule broken, or OK.
absl::Status ValidateStreamId(std::string_view stream_id, const Limits& limits);
// InvalidArgument unless `key` is a well-formed index key (see Limits).
absl::Status ValidateIndexKey(std::string_view key, const Limits& limits);
// Checks one event (its id, type, index keys and size); messages name it as events[index].
absl::Status ValidateEvent(const ProposedEvent& event, const Limits& limits, size_t index);
// Checks every event of one append and the batch as a whole; `*bytes` receives its payload size.
absl::Status ValidateBatch(const std::vector<ProposedEvent>& events, const Limits& limits, size_t* bytes);

}  // namespace carehub::eventstore::internal

#endif  // CAREHUB_EVENTSTORE_INTERNAL_VALIDATION_H_
