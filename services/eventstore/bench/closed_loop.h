// RunClosedLoop: drives an operation from N worker threads, each issuing its next operation as
// soon as the previous one returns (a closed loop: offered load adapts to the system, so the
// throughput measured is what N concurrent callers can get, and latency is per operation).
//
//   LoadResult r = RunClosedLoop({.workers = 64, .duration = absl::Seconds(3)},
//                                [&](int worker) { return MakeAppendOperation(worker); });
//   double appends_per_s = r.OpsPerSecond();
//
// Every worker stops at the deadline, after max_ops_per_worker operations or max_items_per_worker
// items, or at its first error, whichever comes first; an operation started before the deadline is
// allowed to finish.
#ifndef CAREHUB_SERVICES_EVENTSTORE_BENCH_CLOSED_LOOP_H_
#define CAREHUB_SERVICES_EVENTSTORE_BENCH_CLOSED_LOOP_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/eventstore/bench/latency_histogram.h"

namespace carehub::bench {

// One operation of one worker. Returns how many items (events, puts) it carried, or an error.
using Operation = std::function<absl::StatusOr<uint64_t>()>;

// Builds worker `worker`'s operation on the calling thread before the clock starts, so per-worker
// state (its stream, its version, its stub) lives in the closure and set-up is not measured.
using OperationFactory = std::function<Operation(int worker)>;

struct LoadSpec {
  int workers = 1;
  absl::Duration duration = absl::Seconds(3);
  uint64_t max_ops_per_worker = std::numeric_limits<uint64_t>::max();
  // A worker also stops once its operations have carried this many items.
  uint64_t max_items_per_worker = std::numeric_limits<uint64_t>::max();
};

struct LoadResult {
  uint64_t ops = 0;     // successful operations
  uint64_t items = 0;   // items carried by them
  uint64_t errors = 0;  // workers that stopped on an error
  std::string first_error;
  absl::Duration elapsed;  // from the start signal to the last worker's return
  LatencyHistogram latency;

  double OpsPerSecond() const { return Rate(ops); }
  double ItemsPerSecond() const { return Rate(items); }

 private:
  double Rate(uint64_t n) const {
    const double s = absl::ToDoubleSeconds(elapsed);
    return s > 0 ? static_cast<double>(n) / s : 0;
  }
};

LoadResult RunClosedLoop(const LoadSpec& spec, const OperationFactory& make_operation);

}  // namespace carehub::bench

#endif  // CAREHUB_SERVICES_EVENTSTORE_BENCH_CLOSED_LOOP_H_
