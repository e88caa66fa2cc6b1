#include "services/eventstore/bench/closed_loop.h"

#include <latch>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"

namespace carehub::bench {
namespace {

struct WorkerTally {
  uint64_t ops = 0;
  uint64_t items = 0;
  absl::Status error;
  LatencyHistogram latency;
};

// The measured loop of one worker. Time is read from absl::Now() once per operation, which costs
// tens of nanoseconds against operations of tens of microseconds or more.
void RunWorker(const Operation& operation, const LoadSpec& spec, absl::Time deadline,
               WorkerTally& tally) {
  for (absl::Time now = absl::Now(); now < deadline && tally.ops < spec.max_ops_per_worker &&
                                     tally.items < spec.max_items_per_worker;) {
    absl::StatusOr<uint64_t> items = operation();
    const absl::Time done = absl::Now();
    if (!items.ok()) {
      tally.error = items.status();
      return;
    }
    tally.latency.Record(done - now);
    ++tally.ops;
    tally.items += *items;
    now = done;
  }
}

}  // namespace

LoadResult RunClosedLoop(const LoadSpec& spec, const OperationFactory& make_operation) {
  std::vector<Operation> operations;
  operations.reserve(spec.workers);
  for (int w = 0; w < spec.workers; ++w) operations.push_back(make_operation(w));

  std::vector<WorkerTally> tallies(spec.workers);
  std::latch ready(spec.workers + 1);
  absl::Time start;  // written before this thread arrives at `ready`; read after workers pass it
  std::vector<std::thread> threads;
  threads.reserve(spec.workers);
  for (int w = 0; w < spec.workers; ++w) {
    threads.emplace_back([&, w] {
      ready.arrive_and_wait();
      RunWorker(operations[w], spec, start + spec.duration, tallies[w]);
    });
  }
  start = absl::Now();
  ready.arrive_and_wait();
  for (std::thread& t : threads) t.join();

  LoadResult result;
  result.elapsed = absl::Now() - start;
  for (const WorkerTally& tally : tallies) {
    result.ops += tally.ops;
    result.items += tally.items;
    result.latency.Merge(tally.latency);
    if (!tally.error.ok()) {
      if (result.errors++ == 0) result.first_error = tally.error.ToString();
    }
  }
  return result;
}

}  // namespace carehub::bench
