// EventStoreService's unary calls over a real channel: Append, ReadStream, ReadAll, Head, Verify.
#include "carehub/services/eventstore_service.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/eventstore/testing/service_fixture.h"

namespace carehub::services::testing {
namespace {

namespace pb = ::carehub::eventstore::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> EventIds(const google::protobuf::RepeatedPtrField<pb::RecordedEvent>& events) {
  std::vector<std::string> ids;
  for (const pb::RecordedEvent& event : events) ids.push_back(event.event_id());
  return ids;
}

TEST_F(EventStoreServiceTest, AppendedEventsReadBackFromTheStreamAndTheLog) {
  pb::AppendResponse first;
  ASSERT_TRUE(Append(MakeAppend("patient-0001", ExpectNoStream(),
                                {TestEvent("e1", "test.Admitted", "data-1", "meta-1"),
                                 TestEvent("e2", "test.NoteAdded", "data-2")}),
                     &first)
                  .ok());
  EXPECT_EQ(first.first_position(), 0u);
  EXPECT_EQ(first.last_position(), 1u);
  EXPECT_EQ(first.first_version(), 0u);
  EXPECT_EQ(first.last_version(), 1u);
  EXPECT_FALSE(first.idempotent_replay());
  pb::AppendResponse second;
  ASSERT_TRUE(Append(MakeAppend("patient-0002", ExpectNoStream(), {TestEvent("e3")}), &second).ok());
  EXPECT_EQ(second.first_position(), 2u);
  ASSERT_TRUE(Append(MakeAppend("patient-0001", ExpectExact(1), {TestEvent("e4", "test.Discharged")})).ok());

  pb::ReadStreamRequest stream;
  stream.set_stream_id("patient-0001");
  pb::ReadStreamResponse forwards;
  ASSERT_TRUE(ReadStream(stream, &forwards).ok());
  EXPECT_THAT(EventIds(forwards.events()), ElementsAre("e1", "e2", "e4"));
  EXPECT_FALSE(forwards.has_next_version());
  const pb::RecordedEvent& e1 = forwards.events(0);
  EXPECT_EQ(e1.position(), 0u);
  EXPECT_EQ(e1.stream_id(), "patient-0001");
  EXPECT_EQ(e1.version(), 0u);
  EXPECT_EQ(e1.type(), "test.Admitted");
  EXPECT_EQ(e1.data(), "data-1");
  EXPECT_EQ(e1.metadata(), "meta-1");
  EXPECT_GT(e1.recorded_at().seconds(), 0);
  EXPECT_EQ(e1.hash().size(), 32u);
  EXPECT_EQ(forwards.events(2).position(), 3u);
  EXPECT_EQ(forwards.events(2).version(), 2u);

  stream.set_backwards(true);
  pb::ReadStreamResponse backwards;
  ASSERT_TRUE(ReadStream(stream, &backwards).ok());
  EXPECT_THAT(EventIds(backwards.events()), ElementsAre("e4", "e2", "e1"));

  pb::ReadAllResponse all;
  ASSERT_TRUE(ReadAll(pb::ReadAllRequest(), &all).ok());
  EXPECT_THAT(EventIds(all.events()), ElementsAre("e1", "e2", "e3", "e4"));
  for (int i = 0; i < all.events_size(); ++i) EXPECT_EQ(all.events(i).position(), static_cast<uint64_t>(i));
  EXPECT_EQ(all.events(3).hash(), Head().hash()) << "the head is the last event's chain hash";

  pb::ReadAllRequest by_stream;
  by_stream.set_stream_prefix("patient-0002");
  pb::ReadAllResponse only_second;
  ASSERT_TRUE(ReadAll(by_stream, &only_second).ok());
  EXPECT_THAT(EventIds(only_second.events()), ElementsAre("e3"));

  pb::ReadAllRequest by_type;
  by_type.add_event_types("test.Admitted");
  by_type.add_event_types("test.Discharged");
  pb::ReadAllResponse typed;
  ASSERT_TRUE(ReadAll(by_type, &typed).ok());
  EXPECT_THAT(EventIds(typed.events()), ElementsAre("e1", "e4"));

  pb::ReadAllRequest from_end;
  from_end.set_backwards(true);
  from_end.set_limit(2);
  pb::ReadAllResponse last_two;
  ASSERT_TRUE(ReadAll(from_end, &last_two).ok());
  EXPECT_THAT(EventIds(last_two.events()), ElementsAre("e4", "e3"));
  ASSERT_TRUE(last_two.has_next_position());
  EXPECT_EQ(last_two.next_position(), 1u);
}

TEST_F(EventStoreServiceTest, ReadingAnUnknownStreamReturnsNoEvents) {
  pb::ReadStreamRequest request;
  request.set_stream_id("patient-9999");
  pb::ReadStreamResponse response;
  ASSERT_TRUE(ReadStream(request, &response).ok());
  EXPECT_EQ(response.events_size(), 0);
  EXPECT_FALSE(response.has_next_version());
}

TEST_F(EventStoreServiceTest, ExactVersionConflictNamesTheActualVersion) {
  ASSERT_TRUE(Append(MakeAppend("patient-0001", ExpectNoStream(), {TestEvent("e1"), TestEvent("e2")})).ok());
  std::string trailer;
  grpc::Status status = Append(MakeAppend("patient-0001", ExpectExact(0), {TestEvent("e3")}), nullptr, &trailer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("actual 1"));
  EXPECT_EQ(trailer, "1");
}

TEST_F(EventStoreServiceTest, NoStreamConflictNamesTheActualVersion) {
  ASSERT_TRUE(Append(MakeAppend("patient-0001", ExpectNoStream(), {TestEvent("e1")})).ok());
  std::string trailer;
  grpc::Status status = Append(MakeAppend("patient-0001", ExpectNoStream(), {TestEvent("e2")}), nullptr, &trailer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("actual 0"));
  EXPECT_EQ(trailer, "0");
}

TEST_F(EventStoreServiceTest, StreamExistsConflictSaysThereIsNoStream) {
  std::string trailer;
  grpc::Status status = Append(MakeAppend("patient-0001", ExpectStreamExists(), {TestEvent("e1")}), nullptr, &trailer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("actual none"));
  EXPECT_EQ(trailer, "none");
  // An exact version on a missing stream is the same conflict.
  status = Append(MakeAppend("patient-0001", ExpectExact(0), {TestEvent("e1")}), nullptr, &trailer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(trailer, "none");
}

TEST_F(EventStoreServiceTest, OtherErrorsCarryNoActualVersion) {
  std::string trailer;
  grpc::Status status = Append(MakeAppend("", ExpectAny(), {TestEvent("e1")}), nullptr, &trailer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(trailer, "<absent>");
}

struct BadAppend {
  std::string name;
  pb::AppendRequest request;
};

std::vector<BadAppend> BadAppends() {
  const eventstore::Limits limits;
  std::vector<BadAppend> cases;
  cases.push_back({"empty stream id", MakeAppend("", ExpectAny(), {TestEvent("e1")})});
  cases.push_back({"stream id with a space", MakeAppend("patient 0001", ExpectAny(), {TestEvent("e1")})});
  cases.push_back({"stream id starting with '-'", MakeAppend("-patient", ExpectAny(), {TestEvent("e1")})});
  cases.push_back({"stream id too long",
                   MakeAppend(std::string(limits.max_stream_id_bytes + 1, 'p'), ExpectAny(), {TestEvent("e1")})});
  pb::AppendRequest no_expected = MakeAppend("patient-0001", ExpectAny(), {TestEvent("e1")});
  no_expected.clear_expected_version();
  cases.push_back({"missing expected version", no_expected});
  pb::AppendRequest empty_expected = MakeAppend("patient-0001", ExpectAny(), {TestEvent("e1")});
  empty_expected.mutable_expected_version()->clear_kind();
  cases.push_back({"expected version without a kind", empty_expected});
  cases.push_back({"empty batch", MakeAppend("patient-0001", ExpectAny(), {})});
  cases.push_back({"event without id", MakeAppend("patient-0001", ExpectAny(), {TestEvent("")})});
  cases.push_back({"event without type", MakeAppend("patient-0001", ExpectAny(), {TestEvent("e1", "")})});
  cases.push_back({"oversized event",
                   MakeAppend("patient-0001", ExpectAny(),
                              {TestEvent("e1", "test.NoteAdded", std::string(limits.max_event_bytes + 1, 'x'))})});
  std::vector<pb::ProposedEvent> too_many;
  for (size_t i = 0; i <= limits.max_batch_events; ++i) too_many.push_back(TestEvent(absl::StrCat("e", i)));
  cases.push_back({"too many events", MakeAppend("patient-0001", ExpectAny(), std::move(too_many))});
  cases.push_back({"repeated event id in one batch",
                   MakeAppend("patient-0001", ExpectAny(), {TestEvent("e1"), TestEvent("e1")})});
  return cases;
}

TEST_F(EventStoreServiceTest, MalformedAppendsAreInvalidAndWriteNothing) {
  ASSERT_TRUE(Append(MakeAppend("patient-0000", ExpectNoStream(), {TestEvent("e0")})).ok());
  const pb::LogHead head_before = Head();
  for (const BadAppend& bad : BadAppends()) {
    SCOPED_TRACE(bad.name);
    grpc::Status status = Append(bad.request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    const pb::LogHead head_after = Head();
    EXPECT_EQ(head_after.position(), head_before.position());
    EXPECT_EQ(head_after.hash(), head_before.hash());
  }
  pb::ReadAllResponse all;
  ASSERT_TRUE(ReadAll(pb::ReadAllRequest(), &all).ok());
  EXPECT_THAT(EventIds(all.events()), ElementsAre("e0"));
}

TEST_F(EventStoreServiceTest, ReappendingABatchReturnsTheOriginalPositions) {
  ASSERT_TRUE(Append(MakeAppend("patient-0000", ExpectNoStream(), {TestEvent("e0")})).ok());
  const pb::AppendRequest batch =
      MakeAppend("patient-0001", ExpectNoStream(), {TestEvent("e1", "test.NoteAdded", "a"), TestEvent("e2", "test.NoteAdded", "b")});
  pb::AppendResponse original;
  ASSERT_TRUE(Append(batch, &original).ok());
  const pb::LogHead head = Head();

  // A retry, e.g. after a lost response: the expected version no longer holds, but the batch is
  // recognized by its event ids.
  pb::AppendResponse replay;
  grpc::Status status = Append(batch, &replay);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(replay.idempotent_replay());
  EXPECT_EQ(replay.first_position(), original.first_position());
  EXPECT_EQ(replay.last_position(), original.last_position());
  EXPECT_EQ(replay.first_version(), original.first_version());
  EXPECT_EQ(replay.last_version(), original.last_version());
  EXPECT_EQ(Head().position(), head.position());

  // The same id with other content is not a retry.
  status = Append(MakeAppend("patient-0001", ExpectAny(), {TestEvent("e1", "test.NoteAdded", "changed")}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  EXPECT_EQ(Head().position(), head.position());
}

TEST_F(EventStoreServiceTest, HeadAndVerifyCoverTheChain) {
  pb::LogHead empty = Head();
  EXPECT_FALSE(empty.has_position());

  ASSERT_TRUE(Append(MakeAppend("patient-0001", ExpectNoStream(), {TestEvent("e1"), TestEvent("e2")})).ok());
  const pb::LogHead recorded = Head();
  ASSERT_TRUE(recorded.has_position());
  EXPECT_EQ(recorded.position(), 1u);
  EXPECT_EQ(recorded.hash().size(), 32u);
  ASSERT_NO_FATAL_FAILURE(AppendEvents("patient-0002", 3));

  auto verify = [&](const pb::VerifyRequest& request, pb::VerifyResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(CallDeadline());
    return stub_->Verify(&context, request, response);
  };
  pb::VerifyResponse whole;
  ASSERT_TRUE(verify(pb::VerifyRequest(), &whole).ok());
  EXPECT_TRUE(whole.ok()) << whole.problem();
  EXPECT_EQ(whole.events_verified(), 5u);
  EXPECT_EQ(whole.head().position(), 4u);
  EXPECT_EQ(whole.head().hash(), Head().hash());
  EXPECT_FALSE(whole.has_first_bad_position());

  pb::VerifyRequest since;
  *since.mutable_from() = recorded;
  pb::VerifyResponse tail;
  ASSERT_TRUE(verify(since, &tail).ok());
  EXPECT_TRUE(tail.ok()) << tail.problem();
  EXPECT_EQ(tail.events_verified(), 3u);

  pb::VerifyRequest short_hash;
  short_hash.mutable_from()->set_position(1);
  short_hash.mutable_from()->set_hash("short");
  pb::VerifyResponse ignored;
  EXPECT_EQ(verify(short_hash, &ignored).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // A head past the end of the log: event_store.h promises OutOfRange, which must reach the
  // client as OUT_OF_RANGE; a store that reports it as a failed verification (the log lost its
  // tail) is also acceptable here. Never may it pass as verified.
  pb::VerifyRequest past_head;
  past_head.mutable_from()->set_position(99);
  past_head.mutable_from()->set_hash(std::string(32, '\0'));
  pb::VerifyResponse beyond;
  grpc::Status status = verify(past_head, &beyond);
  EXPECT_TRUE(status.error_code() == grpc::StatusCode::OUT_OF_RANGE || (status.ok() && !beyond.ok()))
      << "code " << status.error_code() << ", verified " << beyond.ok();
}

TEST_F(EventStoreServiceTest, ReadStreamPagesOnNextVersion) {
  ASSERT_NO_FATAL_FAILURE(AppendEvents("patient-0001", 5));
  pb::ReadStreamRequest request;
  request.set_stream_id("patient-0001");
  request.set_limit(2);
  std::vector<uint64_t> versions;
  for (int page = 0; page < 10; ++page) {
    pb::ReadStreamResponse response;
    ASSERT_TRUE(ReadStream(request, &response).ok());
    for (const pb::RecordedEvent& event : response.events()) versions.push_back(event.version());
    if (!response.has_next_version()) break;
    request.set_from_version(response.next_version());
  }
  EXPECT_THAT(versions, ElementsAre(0, 1, 2, 3, 4));

  request.clear_from_version();
  request.set_backwards(true);
  versions.clear();
  for (int page = 0; page < 10; ++page) {
    pb::ReadStreamResponse response;
    ASSERT_TRUE(ReadStream(request, &response).ok());
    for (const pb::RecordedEvent& event : response.events()) versions.push_back(event.version());
    if (!response.has_next_version()) break;
    request.set_from_version(response.next_version());
  }
  EXPECT_THAT(versions, ElementsAre(4, 3, 2, 1, 0));
}

TEST_F(EventStoreServiceTest, LargeReadsAreCutUnderTheResponseBound) {
  ASSERT_NO_FATAL_FAILURE(StartServer({.max_response_bytes = 4096}));
  ASSERT_NO_FATAL_FAILURE(AppendEvents("patient-0001", 20, std::string(1000, 'd')));

  std::vector<uint64_t> positions;
  pb::ReadAllRequest all;
  all.set_limit(100);
  int pages = 0;
  for (; pages < 100; ++pages) {
    pb::ReadAllResponse response;
    ASSERT_TRUE(ReadAll(all, &response).ok());
    EXPECT_LE(response.ByteSizeLong(), 4096u + 1200u) << "one event may overshoot the bound";
    for (const pb::RecordedEvent& event : response.events()) positions.push_back(event.position());
    if (!response.has_next_position()) break;
    all.set_from_position(response.next_position());
  }
  EXPECT_GT(pages, 3);
  ASSERT_EQ(positions.size(), 20u);
  for (size_t i = 0; i < positions.size(); ++i) EXPECT_EQ(positions[i], i);

  pb::ReadStreamRequest stream;
  stream.set_stream_id("patient-0001");
  stream.set_limit(100);
  pb::ReadStreamResponse first_page;
  ASSERT_TRUE(ReadStream(stream, &first_page).ok());
  EXPECT_LT(first_page.events_size(), 20);
  ASSERT_TRUE(first_page.has_next_version());
  EXPECT_EQ(first_page.next_version(), static_cast<uint64_t>(first_page.events_size()));
}

TEST_F(EventStoreServiceTest, ConcurrentAppendsToOneStreamAllLandOnceEach) {
  // More writers than worker threads, all with expected version "any": every append must land
  // exactly once, whatever the interleaving.
  constexpr int kWriters = 4;
  constexpr int kAppendsEach = 10;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([this, w] {
      for (int i = 0; i < kAppendsEach; ++i) {
        grpc::Status status = Append(MakeAppend("patient-0001", ExpectAny(),
                                                {TestEvent(absl::StrCat("w", w, "-", i))}));
        EXPECT_TRUE(status.ok()) << status.error_message();
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_EQ(Head().position(), static_cast<uint64_t>(kWriters * kAppendsEach - 1));
}

}  // namespace
}  // namespace carehub::services::testing
