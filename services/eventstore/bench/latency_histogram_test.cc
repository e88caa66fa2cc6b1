#include "services/eventstore/bench/latency_histogram.h"

#include "gtest/gtest.h"

namespace carehub::bench {
namespace {

// Within the histogram's promised ~1.6% (half a bucket is under 1%; allow 2%).
void ExpectNear(absl::Duration actual, absl::Duration expected) {
  EXPECT_NEAR(absl::ToDoubleNanoseconds(actual), absl::ToDoubleNanoseconds(expected),
              0.02 * absl::ToDoubleNanoseconds(expected))
      << actual << " vs " << expected;
}

TEST(LatencyHistogramTest, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.99), absl::ZeroDuration());
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int ns = 1; ns <= 50; ++ns) h.Record(absl::Nanoseconds(ns));
  EXPECT_EQ(h.Percentile(0.5), absl::Nanoseconds(25));
  EXPECT_EQ(h.Percentile(1.0), absl::Nanoseconds(50));
}

TEST(LatencyHistogramTest, PercentilesOfAUniformSpread) {
  LatencyHistogram h;
  for (int us = 1; us <= 10000; ++us) h.Record(absl::Microseconds(us));
  EXPECT_EQ(h.count(), 10000u);
  ExpectNear(h.Percentile(0.50), absl::Microseconds(5000));
  ExpectNear(h.Percentile(0.99), absl::Microseconds(9900));
  EXPECT_EQ(h.max(), absl::Milliseconds(10));
  EXPECT_LE(h.Percentile(1.0), h.max());
}

TEST(LatencyHistogramTest, MergeAddsSamples) {
  LatencyHistogram fast, slow;
  for (int i = 0; i < 99; ++i) fast.Record(absl::Microseconds(100));
  slow.Record(absl::Seconds(2));
  fast.Merge(slow);
  EXPECT_EQ(fast.count(), 100u);
  ExpectNear(fast.Percentile(0.99), absl::Microseconds(100));
  ExpectNear(fast.Percentile(1.0), absl::Seconds(2));
}

TEST(LatencyHistogramTest, NegativeCountsAsZero) {
  LatencyHistogram h;
  h.Record(absl::Microseconds(-5));
  EXPECT_EQ(h.Percentile(1.0), absl::ZeroDuration());
}

}  // namespace
}  // namespace carehub::bench
