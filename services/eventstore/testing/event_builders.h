// Builders for event-store requests in tests. Test-only.
#ifndef CAREHUB_SERVICES_EVENTSTORE_TESTING_EVENT_BUILDERS_H_
#define CAREHUB_SERVICES_EVENTSTORE_TESTING_EVENT_BUILDERS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "carehub/eventstore/v1/eventstore.pb.h"

namespace carehub::services::testing {

inline eventstore::v1::ProposedEvent TestEvent(std::string_view event_id,
                                               std::string_view type = "test.NoteAdded",
                                               std::string_view data = "{\"note\":\"test\"}",
                                               std::string_view metadata = "") {
  eventstore::v1::ProposedEvent event;
  event.set_event_id(std::string(event_id));
  event.set_type(std::string(type));
  event.set_data(std::string(data));
  event.set_metadata(std::string(metadata));
  return event;
}

inline eventstore::v1::ExpectedVersion ExpectAny() {
  eventstore::v1::ExpectedVersion expected;
  expected.mutable_any();
  return expected;
}

inline eventstore::v1::ExpectedVersion ExpectNoStream() {
  eventstore::v1::ExpectedVersion expected;
  expected.mutable_no_stream();
  return expected;
}

inline eventstore::v1::ExpectedVersion ExpectStreamExists() {
  eventstore::v1::ExpectedVersion expected;
  expected.mutable_stream_exists();
  return expected;
}

inline eventstore::v1::ExpectedVersion ExpectExact(uint64_t version) {
  eventstore::v1::ExpectedVersion expected;
  expected.set_exact(version);
  return expected;
}

inline eventstore::v1::AppendRequest MakeAppend(std::string_view stream_id,
                                                const eventstore::v1::ExpectedVersion& expected,
                                                std::vector<eventstore::v1::ProposedEvent> events) {
  eventstore::v1::AppendRequest request;
  request.set_stream_id(std::string(stream_id));
  *request.mutable_expected_version() = expected;
  for (eventstore::v1::ProposedEvent& event : events) *request.add_events() = std::move(event);
  return request;
}

}  // namespace carehub::services::testing

#endif  // CAREHUB_SERVICES_EVENTSTORE_TESTING_EVENT_BUILDERS_H_
