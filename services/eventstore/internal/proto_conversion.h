// Conversions between the event store's value types (carehub/eventstore/types.h) and their
// protobuf mirrors (carehub/eventstore/v1/eventstore.proto). Pure functions; thread-safe.
#ifndef CAREHUB_SERVICES_EVENTSTORE_INTERNAL_PROTO_CONVERSION_H_
#define CAREHUB_SERVICES_EVENTSTORE_INTERNAL_PROTO_CONVERSION_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/eventstore/types.h"
#include "carehub/eventstore/v1/eventstore.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace carehub::services::internal {

// InvalidArgument if no kind is set: a writer must say what it expects.
absl::StatusOr<eventstore::ExpectedVersion> FromProto(const eventstore::v1::ExpectedVersion& proto);

eventstore::ProposedEvent FromProto(const eventstore::v1::ProposedEvent& proto);

// InvalidArgument unless the hash is 32 bytes (or, for an empty log's head, empty).
absl::StatusOr<eventstore::LogHead> FromProto(const eventstore::v1::LogHead& proto);

// Moves the event's strings into `proto`.
void ToProto(eventstore::RecordedEvent&& event, eventstore::v1::RecordedEvent* proto);
void ToProto(const eventstore::LogHead& head, eventstore::v1::LogHead* proto);
void ToProto(absl::Time time, google::protobuf::Timestamp* proto);
absl::Time FromProto(const google::protobuf::Timestamp& proto);

void ToProto(const eventstore::VerifyResult& result, eventstore::v1::VerifyResponse* proto);

// About the bytes `event` takes in a response message; used to keep responses under a size
// bound without serializing twice.
size_t EncodedSizeEstimate(const eventstore::RecordedEvent& event);

}  // namespace carehub::services::internal

#endif  // CAREHUB_SERVICES_EVENTSTORE_INTERNAL_PROTO_CONVERSION_H_
