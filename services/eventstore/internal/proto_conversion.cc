#include "services/eventstore/internal/proto_conversion.h"

#include <algorithm>
#include <string>
#include <utility>

namespace carehub::services::internal {

namespace es = ::carehub::eventstore;
namespace pb = ::carehub::eventstore::v1;

absl::StatusOr<es::ExpectedVersion> FromProto(const pb::ExpectedVersion& proto) {
  switch (proto.kind_case()) {
    case pb::ExpectedVersion::kAny: return es::ExpectedVersion::Any();
    case pb::ExpectedVersion::kNoStream: return es::ExpectedVersion::NoStream();
    case pb::ExpectedVersion::kStreamExists: return es::ExpectedVersion::StreamExists();
    case pb::ExpectedVersion::kExact: return es::ExpectedVersion::Exact(proto.exact());
    case pb::ExpectedVersion::KIND_NOT_SET: break;
  }
  return absl::InvalidArgumentError(
      "expected_version is required: one of any, no_stream, stream_exists, exact");
}

es::ProposedEvent FromProto(const pb::ProposedEvent& proto) {
  return es::ProposedEvent{
      .event_id = proto.event_id(),
      .type = proto.type(),
      .data = proto.data(),
      .metadata = proto.metadata(),
  };
}

absl::StatusOr<es::LogHead> FromProto(const pb::LogHead& proto) {
  es::LogHead head;
  if (proto.has_position()) head.position = proto.position();
  const std::string& hash = proto.hash();
  if (hash.empty() && !head.position.has_value()) return head;  // an empty log's head
  if (hash.size() != head.hash.size()) {
    return absl::InvalidArgumentError("a log head's hash must be 32 bytes (SHA-256)");
  }
  std::copy(hash.begin(), hash.end(), head.hash.begin());
  return head;
}

void ToProto(const es::VerifyResult& result, pb::VerifyResponse* proto) {
  proto->set_ok(result.ok);
  proto->set_events_verified(result.events_verified);
  ToProto(result.head, proto->mutable_head());
  if (result.first_bad_position.has_value()) proto->set_first_bad_position(*result.first_bad_position);
  proto->set_problem(result.problem);
}

void ToProto(es::RecordedEvent&& event, pb::RecordedEvent* proto) {
  proto->set_position(event.position);
  proto->set_stream_id(std::move(event.stream_id));
  proto->set_version(event.version);
  proto->set_event_id(std::move(event.event_id));
  proto->set_type(std::move(event.type));
  proto->set_data(std::move(event.data));
  proto->set_metadata(std::move(event.metadata));
  ToProto(event.recorded_at, proto->mutable_recorded_at());
  proto->set_hash(event.hash.data(), event.hash.size());
}

void ToProto(const es::LogHead& head, pb::LogHead* proto) {
  if (head.position.has_value()) proto->set_position(*head.position);
  proto->set_hash(head.hash.data(), head.hash.size());
}

void ToProto(absl::Time time, google::protobuf::Timestamp* proto) {
  // ToUnixSeconds rounds towards the past, so nanos is never negative, as Timestamp requires.
  const int64_t seconds = absl::ToUnixSeconds(time);
  proto->set_seconds(seconds);
  proto->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
}

absl::Time FromProto(const google::protobuf::Timestamp& proto) {
  return absl::FromUnixSeconds(proto.seconds()) + absl::Nanoseconds(proto.nanos());
}

size_t EncodedSizeEstimate(const es::RecordedEvent& event) {
  // Strings plus their tags and length prefixes, the 32-byte hash, varints and the timestamp.
  constexpr size_t kFixedOverhead = 96;
  return event.stream_id.size() + event.event_id.size() + event.type.size() + event.data.size() +
         event.metadata.size() + kFixedOverhead;
}

}  // namespace carehub::services::internal
