#include "services/eventstore/internal/proto_conversion.h"

#include "gtest/gtest.h"

namespace carehub::services::internal {
namespace {

namespace es = ::carehub::eventstore;
namespace pb = ::carehub::eventstore::v1;

TEST(ProtoConversionTest, ExpectedVersionKindsMapOneToOne) {
  pb::ExpectedVersion proto;
  EXPECT_EQ(FromProto(proto).status().code(), absl::StatusCode::kInvalidArgument);
  proto.mutable_any();
  EXPECT_EQ(FromProto(proto)->kind(), es::ExpectedVersion::Kind::kAny);
  proto.mutable_no_stream();
  EXPECT_EQ(FromProto(proto)->kind(), es::ExpectedVersion::Kind::kNoStream);
  proto.mutable_stream_exists();
  EXPECT_EQ(FromProto(proto)->kind(), es::ExpectedVersion::Kind::kStreamExists);
  proto.set_exact(0);
  EXPECT_EQ(FromProto(proto)->kind(), es::ExpectedVersion::Kind::kExact);
  EXPECT_EQ(FromProto(proto)->version(), 0u);
  proto.set_exact(41);
  EXPECT_EQ(FromProto(proto)->version(), 41u);
}

TEST(ProtoConversionTest, RecordedEventCarriesEveryField) {
  es::RecordedEvent event;
  event.position = 7;
  event.stream_id = "patient-0001";
  event.version = 2;
  event.event_id = "event-7";
  event.type = "test.NoteAdded";
  event.data = std::string("d\0ta", 4);
  event.metadata = "m";
  event.recorded_at = absl::FromUnixMicros(1'700'000'000'123'456);
  event.hash.fill(0xab);
  const size_t estimate = EncodedSizeEstimate(event);

  pb::RecordedEvent proto;
  ToProto(es::RecordedEvent(event), &proto);
  EXPECT_EQ(proto.position(), 7u);
  EXPECT_EQ(proto.stream_id(), "patient-0001");
  EXPECT_EQ(proto.version(), 2u);
  EXPECT_EQ(proto.event_id(), "event-7");
  EXPECT_EQ(proto.type(), "test.NoteAdded");
  EXPECT_EQ(proto.data(), std::string("d\0ta", 4));
  EXPECT_EQ(proto.metadata(), "m");
  EXPECT_EQ(proto.recorded_at().seconds(), 1'700'000'000);
  EXPECT_EQ(proto.recorded_at().nanos(), 123'456'000);
  EXPECT_EQ(FromProto(proto.recorded_at()), event.recorded_at);
  EXPECT_EQ(proto.hash(), std::string(32, '\xab'));
  EXPECT_GE(estimate, proto.ByteSizeLong());
}

TEST(ProtoConversionTest, TimesBeforeTheEpochKeepNonNegativeNanos) {
  google::protobuf::Timestamp proto;
  const absl::Time time = absl::FromUnixMicros(-1);
  ToProto(time, &proto);
  EXPECT_EQ(proto.seconds(), -1);
  EXPECT_EQ(proto.nanos(), 999'999'000);
  EXPECT_EQ(FromProto(proto), time);
}

TEST(ProtoConversionTest, LogHeadsRoundTripAndRejectBadHashes) {
  es::LogHead head;
  head.position = 12;
  head.hash.fill(0x01);
  pb::LogHead proto;
  ToProto(head, &proto);
  absl::StatusOr<es::LogHead> back = FromProto(proto);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, head);

  pb::LogHead empty_log;
  back = FromProto(empty_log);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, es::LogHead());

  proto.set_hash("too short");
  EXPECT_EQ(FromProto(proto).status().code(), absl::StatusCode::kInvalidArgument);
  proto.clear_hash();
  EXPECT_EQ(FromProto(proto).status().code(), absl::StatusCode::kInvalidArgument)
      << "a head with a position needs its hash";
}

}  // namespace
}  // namespace carehub::services::internal
