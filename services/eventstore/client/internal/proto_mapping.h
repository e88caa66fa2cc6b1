// The client's side of the conversions between the event store's value types and their protobuf
// mirrors: requests out, responses in. The service has its own (services/eventstore/internal),
// for the opposite directions; this namespace keeps the two apart when a process links both.
// Pure functions; thread-safe.
#ifndef CAREHUB_SERVICES_EVENTSTORE_CLIENT_INTERNAL_PROTO_MAPPING_H_
#define CAREHUB_SERVICES_EVENTSTORE_CLIENT_INTERNAL_PROTO_MAPPING_H_

#include "absl/status/statusor.h"
#include "carehub/eventstore/types.h"
#include "carehub/eventstore/v1/eventstore.pb.h"

namespace carehub::services::eventstore_client_internal {

void ToProto(const eventstore::ProposedEvent& event, eventstore::v1::ProposedEvent* proto);
void ToProto(eventstore::ExpectedVersion expected, eventstore::v1::ExpectedVersion* proto);
void ToProto(const eventstore::LogHead& head, eventstore::v1::LogHead* proto);

// Responses come from outside: a malformed one (a hash that is not 32 bytes) is Internal, the
// server broke the contract.
absl::StatusOr<eventstore::RecordedEvent> FromProto(eventstore::v1::RecordedEvent&& proto);
absl::StatusOr<eventstore::LogHead> FromProto(const eventstore::v1::LogHead& proto);
absl::StatusOr<eventstore::VerifyResult> FromProto(const eventstore::v1::VerifyResponse& proto);
// Moves the events out of `proto`.
absl::StatusOr<eventstore::SubscriptionBatch> FromProto(eventstore::v1::SubscribeResponse&& proto);

}  // namespace carehub::services::eventstore_client_internal

#endif  // CAREHUB_SERVICES_EVENTSTORE_CLIENT_INTERNAL_PROTO_MAPPING_H_
