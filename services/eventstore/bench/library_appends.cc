#include "services/eventstore/bench/library_appends.h"

#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "services/eventstore/bench/event_factory.h"

namespace carehub::bench {
namespace {

using eventstore::AppendResult;
using eventstore::ExpectedVersion;

struct WriterState {
  WriterState(const AppendSpec& spec, int worker)
      : events(spec.run_nonce, worker),
        stream_id(absl::StrCat(spec.stream_prefix, "-", spec.run_nonce, "-",
                               spec.shared_streams > 0 ? worker % spec.shared_streams : worker)) {}

  EventFactory events;
  std::string stream_id;
  std::optional<uint64_t> version;  // last version this writer appended; nullopt: none yet
};

Operation MakeAppender(eventstore::EventStore& store, const AppendSpec& spec, int worker) {
  auto state = std::make_shared<WriterState>(spec, worker);
  const bool shared = spec.shared_streams > 0;
  const size_t count = spec.events_per_append;
  return [&store, state, shared, count]() -> absl::StatusOr<uint64_t> {
    const ExpectedVersion expected = shared           ? ExpectedVersion::Any()
                                     : state->version ? ExpectedVersion::Exact(*state->version)
                                                      : ExpectedVersion::NoStream();
    ASSIGN_OR_RETURN(AppendResult result,
                     store.Append(state->stream_id, expected, state->events.NextBatch(count)));
    state->version = result.last_version;
    return count;
  };
}

}  // namespace

LoadResult RunLibraryAppends(eventstore::EventStore& store, const AppendSpec& spec) {
  return RunClosedLoop(spec.load, [&](int worker) { return MakeAppender(store, spec, worker); });
}

}  // namespace carehub::bench
