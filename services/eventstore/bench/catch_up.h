// Catch-up reads: a new projection or a replica reading the whole log from position 0. There is
// no external baseline; the targets are absolute (events/s), since catch-up time is what an
// operator waits for after deploying a new read model.
//
//   ASSIGN_OR_RETURN(uint64_t stored, FillLog(store, {.events = 1'000'000, ...}));
//   LoadResult r = RunSubscriptionCatchUp(store, stored, absl::Minutes(2));
//
// Every reader checks that positions arrive gapless from 0 and fails with DataLoss otherwise:
// a fast wrong answer must not pass.
#ifndef CAREHUB_SERVICES_EVENTSTORE_BENCH_CATCH_UP_H_
#define CAREHUB_SERVICES_EVENTSTORE_BENCH_CATCH_UP_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/eventstore/event_store.h"
#include "services/eventstore/bench/closed_loop.h"

namespace carehub::bench {

struct FillSpec {
  uint64_t events = 1'000'000;  // the log is filled until it holds at least this many
  int writers = 4;
  size_t events_per_append = 1000;
  absl::Duration limit = absl::Minutes(10);
  std::string run_nonce;
};

// Appends events (large batches from a few writers: filling is not what is measured) until the
// log holds spec.events or spec.limit passes. Returns how many events the log holds, and the
// fill's own load result in `fill` for the record.
absl::StatusOr<uint64_t> FillLog(eventstore::EventStore& store, const FillSpec& spec,
                                 LoadResult& fill);

// Reads positions 0 .. events-1 with ReadAll in pages of `page` events (the API's default is
// 1000). The result's ops are pages, items are events.
LoadResult RunReadAllCatchUp(eventstore::EventStore& store, uint64_t events, size_t page,
                             absl::Duration limit);

// Reads positions 0 .. events-1 through a Subscription with the given max_batch (default 512).
LoadResult RunSubscriptionCatchUp(eventstore::EventStore& store, uint64_t events, size_t max_batch,
                                  absl::Duration limit);

// Checks that positions arrive as 0, 1, 2, ...
class GaplessCheck {
 public:
  absl::Status Expect(uint64_t position);
  uint64_t next() const { return next_; }

 private:
  uint64_t next_ = 0;
};

}  // namespace carehub::bench

#endif  // CAREHUB_SERVICES_EVENTSTORE_BENCH_CATCH_UP_H_
