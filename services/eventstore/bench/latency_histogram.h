// LatencyHistogram: a fixed-size, log-linear histogram of durations, for p50/p99 figures.
//
//   LatencyHistogram h;
//   h.Record(absl::Microseconds(730));
//   absl::Duration p99 = h.Percentile(0.99);
//
// Buckets are exact below 64 ns; above, each power of two is split into 64 equal buckets, so a
// reported percentile is within ~1.6% of the true value. Recording is O(1) and never allocates,
// so one histogram per worker thread can sit in the measured loop; Merge() combines them after.
//
// Not thread-safe: give each thread its own and merge when the threads have joined.
#ifndef CAREHUB_SERVICES_EVENTSTORE_BENCH_LATENCY_HISTOGRAM_H_
#define CAREHUB_SERVICES_EVENTSTORE_BENCH_LATENCY_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace carehub::bench {

class LatencyHistogram {
 public:
  LatencyHistogram();

  // Negative durations count as zero.
  void Record(absl::Duration latency);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  absl::Duration max() const { return absl::Nanoseconds(max_ns_); }

  // The latency at or below which a fraction `q` (0 < q <= 1) of the samples fall: the midpoint
  // of the bucket that holds that sample. Zero for an empty histogram.
  absl::Duration Percentile(double q) const;

 private:
  static size_t BucketOf(uint64_t ns);
  static uint64_t BucketLow(size_t bucket);
  static uint64_t BucketWidth(size_t bucket);

  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t max_ns_ = 0;
};

}  // namespace carehub::bench

#endif  // CAREHUB_SERVICES_EVENTSTORE_BENCH_LATENCY_HISTOGRAM_H_
