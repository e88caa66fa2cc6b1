#include "services/eventstore/client/internal/proto_mapping.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace carehub::services::eventstore_client_internal {
namespace {

namespace es = ::carehub::eventstore;
namespace pb = ::carehub::eventstore::v1;

absl::StatusOr<es::Hash> HashFromBytes(const std::string& bytes, bool empty_allowed) {
  es::Hash hash{};
  if (bytes.empty() && empty_allowed) return hash;
  if (bytes.size() != hash.size()) {
    return absl::InternalError(absl::StrCat("malformed response from the event store: a hash of ",
                                            bytes.size(), " bytes"));
  }
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

}  // namespace

void ToProto(const es::ProposedEvent& event, pb::ProposedEvent* proto) {
  proto->set_event_id(event.event_id);
  proto->set_type(event.type);
  proto->set_data(event.data);
  proto->set_metadata(event.metadata);
}

void ToProto(es::ExpectedVersion expected, pb::ExpectedVersion* proto) {
  switch (expected.kind()) {
    case es::ExpectedVersion::Kind::kAny:
      proto->mutable_any();
      return;
    case es::ExpectedVersion::Kind::kNoStream:
      proto->mutable_no_stream();
      return;
    case es::ExpectedVersion::Kind::kStreamExists:
      proto->mutable_stream_exists();
      return;
    case es::ExpectedVersion::Kind::kExact:
      proto->set_exact(expected.version());
      return;
  }
}

void ToProto(const es::LogHead& head, pb::LogHead* proto) {
  if (head.position.has_value()) proto->set_position(*head.position);
  proto->set_hash(std::string(head.hash.begin(), head.hash.end()));
}

absl::StatusOr<es::RecordedEvent> FromProto(pb::RecordedEvent&& proto) {
  absl::StatusOr<es::Hash> hash = HashFromBytes(proto.hash(), /*empty_allowed=*/false);
  if (!hash.ok()) return hash.status();
  es::RecordedEvent event;
  event.position = proto.position();
  event.stream_id = std::move(*proto.mutable_stream_id());
  event.version = proto.version();
  event.event_id = std::move(*proto.mutable_event_id());
  event.type = std::move(*proto.mutable_type());
  event.data = std::move(*proto.mutable_data());
  event.metadata = std::move(*proto.mutable_metadata());
  event.recorded_at = absl::FromUnixSeconds(proto.recorded_at().seconds()) +
                      absl::Nanoseconds(proto.recorded_at().nanos());
  event.hash = *hash;
  return event;
}

absl::StatusOr<es::LogHead> FromProto(const pb::LogHead& proto) {
  // An empty log's head has no position and an all-zero (or empty) hash.
  absl::StatusOr<es::Hash> hash =
      HashFromBytes(proto.hash(), /*empty_allowed=*/!proto.has_position());
  if (!hash.ok()) return hash.status();
  es::LogHead head;
  if (proto.has_position()) head.position = proto.position();
  head.hash = *hash;
  return head;
}

absl::StatusOr<es::VerifyResult> FromProto(const pb::VerifyResponse& proto) {
  absl::StatusOr<es::LogHead> head = FromProto(proto.head());
  if (!head.ok()) return head.status();
  es::VerifyResult result;
  result.ok = proto.ok();
  result.events_verified = proto.events_verified();
  result.head = *head;
  if (proto.has_first_bad_position()) result.first_bad_position = proto.first_bad_position();
  result.problem = proto.problem();
  return result;
}

absl::StatusOr<es::SubscriptionBatch> FromProto(pb::SubscribeResponse&& proto) {
  es::SubscriptionBatch batch;
  batch.events.reserve(proto.events_size());
  for (pb::RecordedEvent& event : *proto.mutable_events()) {
    absl::StatusOr<es::RecordedEvent> converted = FromProto(std::move(event));
    if (!converted.ok()) return converted.status();
    batch.events.push_back(*std::move(converted));
  }
  batch.checkpoint = proto.checkpoint();
  batch.caught_up = proto.caught_up();
  return batch;
}

}  // namespace carehub::services::eventstore_client_internal
