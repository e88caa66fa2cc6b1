#include "services/eventstore/bench/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace carehub::bench {
namespace {

// Each power of two above kSubBuckets is split into kSubBuckets linear buckets.
constexpr int kSubBits = 6;
constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBits;
// Values of up to 2^63 ns: kSubBuckets exact buckets, then (64 - kSubBits) linear groups.
constexpr size_t kBucketCount = kSubBuckets + (64 - kSubBits) * kSubBuckets;

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBucketCount, 0) {}

size_t LatencyHistogram::BucketOf(uint64_t ns) {
  if (ns < kSubBuckets) return ns;
  // shift is chosen so that ns >> shift lies in [kSubBuckets, 2 * kSubBuckets).
  const int shift = std::bit_width(ns) - kSubBits - 1;
  return kSubBuckets + shift * kSubBuckets + ((ns >> shift) - kSubBuckets);
}

uint64_t LatencyHistogram::BucketLow(size_t bucket) {
  if (bucket < kSubBuckets) return bucket;
  const size_t shift = (bucket - kSubBuckets) / kSubBuckets;
  const uint64_t sub = (bucket - kSubBuckets) % kSubBuckets;
  return (kSubBuckets + sub) << shift;
}

uint64_t LatencyHistogram::BucketWidth(size_t bucket) {
  if (bucket < kSubBuckets) return 1;
  return uint64_t{1} << ((bucket - kSubBuckets) / kSubBuckets);
}

void LatencyHistogram::Record(absl::Duration latency) {
  const int64_t ns = std::max<int64_t>(0, absl::ToInt64Nanoseconds(latency));
  ++buckets_[std::min(BucketOf(static_cast<uint64_t>(ns)), kBucketCount - 1)];
  ++count_;
  max_ns_ = std::max<uint64_t>(max_ns_, ns);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBucketCount; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ns_ = std::max(max_ns_, other.max_ns_);
}

absl::Duration LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return absl::ZeroDuration();
  const auto rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      const uint64_t mid = BucketLow(i) + BucketWidth(i) / 2;
      return absl::Nanoseconds(static_cast<int64_t>(std::min(mid, max_ns_)));
    }
  }
  return max();
}

}  // namespace carehub::bench
