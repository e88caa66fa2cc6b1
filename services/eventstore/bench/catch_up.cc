#include "services/eventstore/bench/catch_up.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "services/eventstore/bench/library_appends.h"

namespace carehub::bench {
namespace {

using eventstore::ReadAllRequest;
using eventstore::ReadAllResult;
using eventstore::RecordedEvent;
using eventstore::SubscriptionBatch;

absl::Status ExpectAll(GaplessCheck& check, const std::vector<RecordedEvent>& events) {
  for (const RecordedEvent& e : events) RETURN_IF_ERROR(check.Expect(e.position));
  return absl::OkStatus();
}

}  // namespace

absl::Status GaplessCheck::Expect(uint64_t position) {
  if (position != next_) {
    return absl::DataLossError(absl::StrCat("expected position ", next_, ", got ", position));
  }
  ++next_;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> FillLog(eventstore::EventStore& store, const FillSpec& spec,
                                 LoadResult& fill) {
  ASSIGN_OR_RETURN(const uint64_t stored, eventstore::LogEnd(store));
  const uint64_t missing = spec.events - std::min(spec.events, stored);
  if (missing > 0) {
    const uint64_t per_writer = (missing + spec.writers - 1) / spec.writers;
    fill = RunLibraryAppends(store, AppendSpec{.load = {.workers = spec.writers,
                                                        .duration = spec.limit,
                                                        .max_items_per_worker = per_writer},
                                               .events_per_append = std::min<uint64_t>(
                                                   spec.events_per_append, per_writer),
                                               .stream_prefix = "bench.fill",
                                               .run_nonce = spec.run_nonce});
    if (fill.errors > 0) return absl::InternalError("fill failed: " + fill.first_error);
  }
  return eventstore::LogEnd(store);
}

LoadResult RunReadAllCatchUp(eventstore::EventStore& store, uint64_t events, size_t page,
                             absl::Duration limit) {
  auto check = std::make_shared<GaplessCheck>();
  return RunClosedLoop({.workers = 1, .duration = limit, .max_items_per_worker = events},
                       [&](int) -> Operation {
                         return [&store, check, page]() -> absl::StatusOr<uint64_t> {
                           ReadAllRequest request;
                           request.from_position = check->next();
                           request.limit = page;
                           ASSIGN_OR_RETURN(ReadAllResult result, store.ReadAll(request));
                           RETURN_IF_ERROR(ExpectAll(*check, result.events));
                           return result.events.size();
                         };
                       });
}

LoadResult RunSubscriptionCatchUp(eventstore::EventStore& store, uint64_t events, size_t max_batch,
                                  absl::Duration limit) {
  std::shared_ptr<eventstore::Subscription> subscription =
      store.Subscribe({.from_position = 0, .max_batch = max_batch});
  auto check = std::make_shared<GaplessCheck>();
  LoadResult result = RunClosedLoop(
      {.workers = 1, .duration = limit, .max_items_per_worker = events}, [&](int) -> Operation {
        return [subscription, check]() -> absl::StatusOr<uint64_t> {
          ASSIGN_OR_RETURN(SubscriptionBatch batch, subscription->Next(absl::Seconds(1)));
          RETURN_IF_ERROR(ExpectAll(*check, batch.events));
          return batch.events.size();
        };
      });
  subscription->Cancel();
  return result;
}

}  // namespace carehub::bench
