#include "eventstore/internal/codec.h"

#include "gtest/gtest.h"

namespace carehub::eventstore::internal {
namespace {

RecordedEvent Sample() {
  RecordedEvent e;
  e.position = 258;
  e.stream_id = "patient-1";
  e.version = 7;
  e.event_id = "id-1";
  e.type = "test.Happened";
  e.data = std::string("bin\0ary", 7);
  e.metadata = "meta";
  e.recorded_at = absl::FromUnixMicros(1767225600123456);
  return e;
}

TEST(CodecTest, StoredEventRoundTrips) {
  RecordedEvent e = Sample();
  e.hash = ChainHash(Hash{}, EncodeRecord(e));
  std::string_view record;
  std::string stored = EncodeStoredEvent(e);
  absl::StatusOr<RecordedEvent> back = DecodeStoredEvent(stored, &record);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, e);
  EXPECT_EQ(record, EncodeRecord(e));
  EXPECT_EQ(StoredHash(stored), e.hash);
}

TEST(CodecTest, TruncatedOrExtendedValuesAreDataLoss) {
  std::string stored = EncodeStoredEvent(Sample());
  for (size_t cut : {size_t{0}, size_t{1}, size_t{20}, stored.size() - 33, stored.size() - 1}) {
    EXPECT_EQ(DecodeStoredEvent(stored.substr(0, cut)).status().code(), absl::StatusCode::kDataLoss) << cut;
  }
  EXPECT_EQ(DecodeStoredEvent(stored + "x").status().code(), absl::StatusCode::kDataLoss);
  stored[0] = 0x02;
  EXPECT_EQ(DecodeStoredEvent(stored).status().code(), absl::StatusCode::kDataLoss);
}

TEST(CodecTest, KeysSortNumericallyAndByStream) {
  EXPECT_LT(PositionKey(255), PositionKey(256));
  EXPECT_LT(PositionKey(1), PositionKey(1ull << 40));
  EXPECT_LT(StreamVersionKey("a", 9), StreamVersionKey("a", 10));
  // A stream's keys sort before those of a longer stream id sharing its prefix.
  EXPECT_LT(StreamVersionKey("a", UINT64_MAX), StreamVersionKey("a-b", 0));
  EXPECT_EQ(*DecodeFixed64(EncodeFixed64(0x0102030405060708ull)), 0x0102030405060708ull);
}

TEST(CodecTest, ChainHashIsSha256OfPreviousAndRecord) {
  // SHA-256 of 32 zero bytes followed by "abc", computed independently (sha256sum).
  EXPECT_EQ(HashToHex(ChainHash(Hash{}, "abc")),
            "365aa7d8f7f9402c4b9434502b4cc89ddb09fe50d7cd95b493b834c62d5a5370");
  EXPECT_EQ(HashFromHex(HashToHex(ChainHash(Hash{}, "x"))), ChainHash(Hash{}, "x"));
  EXPECT_FALSE(HashFromHex("zz").has_value());
}

}  // namespace
}  // namespace carehub::eventstore::internal
