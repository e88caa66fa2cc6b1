// EventStoreService's Subscribe over a real channel: catch-up, live, checkpoints, splitting,
// cancellation by the client and shutdown by the server.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "carehub/services/eventstore_service.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/eventstore/testing/service_fixture.h"

namespace carehub::services::testing {
namespace {

namespace pb = ::carehub::eventstore::v1;

// A client-side subscription with its own context, cancelled on destruction if still open.
class TestSubscriber {
 public:
  TestSubscriber(pb::EventStore::Stub* stub, const pb::SubscribeRequest& request) {
    context_.set_deadline(CallDeadline() + std::chrono::seconds(60));
    reader_ = stub->Subscribe(&context_, request);
  }
  ~TestSubscriber() {
    if (!finished_) {
      context_.TryCancel();
      Finish();
    }
  }

  bool Read(pb::SubscribeResponse* response) { return reader_->Read(response); }

  // Reads until `count` events have arrived in total; false if the stream ended first.
  bool ReadEvents(size_t count) {
    pb::SubscribeResponse response;
    while (events_.size() < count) {
      if (!reader_->Read(&response)) return false;
      responses_.push_back(response);
      for (const pb::RecordedEvent& event : response.events()) events_.push_back(event);
    }
    return true;
  }

  void Cancel() { context_.TryCancel(); }

  // Drains what is left and returns the call's status.
  grpc::Status Finish() {
    pb::SubscribeResponse ignored;
    while (reader_->Read(&ignored)) {
    }
    finished_ = true;
    return reader_->Finish();
  }

  const std::vector<pb::RecordedEvent>& events() const { return events_; }
  const std::vector<pb::SubscribeResponse>& responses() const { return responses_; }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<pb::SubscribeResponse>> reader_;
  std::vector<pb::RecordedEvent> events_;
  std::vector<pb::SubscribeResponse> responses_;
  bool finished_ = false;
};

void ExpectPositionsFrom(const std::vector<pb::RecordedEvent>& events, uint64_t first, size_t count) {
  ASSERT_EQ(events.size(), count);
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].position(), first + i) << "a gap or a duplicate at index " << i;
  }
}

TEST_F(EventStoreServiceTest, SubscriberCatchesUpThenReceivesLiveEventsWithoutGapOrDuplicate) {
  for (int stream = 0; stream < 5; ++stream) {
    ASSERT_NO_FATAL_FAILURE(AppendEvents(absl::StrCat("patient-000", stream), 10));
  }
  pb::SubscribeRequest request;
  request.set_max_batch(7);
  TestSubscriber subscriber(stub_.get(), request);

  // A writer appends while the subscriber is still catching up, so the switch to live happens
  // under concurrent writes.
  constexpr int kLiveAppends = 60;
  std::thread writer([this] {
    for (int i = 0; i < kLiveAppends; ++i) {
      grpc::Status status = Append(MakeAppend(absl::StrCat("patient-10", i % 3), ExpectAny(),
                                              {TestEvent(absl::StrCat("live-", i))}));
      EXPECT_TRUE(status.ok()) << status.error_message();
    }
  });
  const bool complete = subscriber.ReadEvents(50 + kLiveAppends);
  writer.join();
  ASSERT_TRUE(complete) << "the subscription ended early: " << subscriber.Finish().error_message();
  ExpectPositionsFrom(subscriber.events(), 0, 50 + kLiveAppends);
  uint64_t previous_checkpoint = 0;
  for (const pb::SubscribeResponse& response : subscriber.responses()) {
    EXPECT_LE(response.events_size(), 7);
    EXPECT_GE(response.checkpoint(), previous_checkpoint);
    if (response.events_size() > 0) {
      EXPECT_GT(response.checkpoint(), response.events(response.events_size() - 1).position());
    }
    previous_checkpoint = response.checkpoint();
  }
}

TEST_F(EventStoreServiceTest, SubscriberIsToldWhenItIsCaughtUpAndThenGetsNewEvents) {
  ASSERT_NO_FATAL_FAILURE(AppendEvents("patient-0001", 3));
  pb::SubscribeRequest request;
  request.set_from_position(1);
  TestSubscriber subscriber(stub_.get(), request);

  // Catch-up may arrive in one or more responses; the subscriber learns it is live from the
  // caught_up flag, at the head.
  pb::SubscribeResponse response;
  std::vector<uint64_t> positions;
  do {
    ASSERT_TRUE(subscriber.Read(&response));
    for (const pb::RecordedEvent& event : response.events()) positions.push_back(event.position());
  } while (!response.caught_up());
  EXPECT_THAT(positions, ::testing::ElementsAre(1, 2));
  EXPECT_EQ(response.checkpoint(), 3u);

  ASSERT_NO_FATAL_FAILURE(AppendEvents("patient-0002", 1));
  ASSERT_TRUE(subscriber.Read(&response));
  ASSERT_EQ(response.events_size(), 1);
  EXPECT_EQ(response.events(0).position(), 3u);
  EXPECT_EQ(response.events(0).stream_id(), "patient-0002");
  EXPECT_EQ(response.checkpoint(), 4u);
  EXPECT_TRUE(response.caught_up());
}

TEST_F(EventStoreServiceTest, SubscribingToAnEmptyLogReportsCaughtUpAtZero) {
  TestSubscriber subscriber(stub_.get(), pb::SubscribeRequest());
  pb::SubscribeResponse response;
  ASSERT_TRUE(subscriber.Read(&response));
  EXPECT_EQ(response.events_size(), 0);
  EXPECT_TRUE(response.caught_up());
  EXPECT_EQ(response.checkpoint(), 0u);
}

TEST_F(EventStoreServiceTest, FilteredSubscriberGetsOnlyMatchingEventsAndProgress) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_NO_FATAL_FAILURE(AppendEvents("patient-0001", 1));
    ASSERT_NO_FATAL_FAILURE(AppendEvents("unit-0001", 1));
  }
  pb::SubscribeRequest request;
  request.set_stream_prefix("patient-");
  TestSubscriber subscriber(stub_.get(), request);
  pb::SubscribeResponse response;
  std::vector<uint64_t> positions;
  do {
    ASSERT_TRUE(subscriber.Read(&response));
    for (const pb::RecordedEvent& event : response.events()) {
      EXPECT_EQ(event.stream_id(), "patient-0001");
      positions.push_back(event.position());
    }
  } while (!response.caught_up());
  EXPECT_THAT(positions, ::testing::ElementsAre(0, 2, 4, 6));
  EXPECT_EQ(response.checkpoint(), 8u) << "the checkpoint covers the skipped events too";
}

TEST_F(EventStoreServiceTest, LargeBatchesAreSplitUnderTheResponseBound) {
  ASSERT_NO_FATAL_FAILURE(StartServer({.max_response_bytes = 4096}));
  ASSERT_NO_FATAL_FAILURE(AppendEvents("patient-0001", 20, std::string(1000, 'd')));
  pb::SubscribeRequest request;
  request.set_max_batch(100);
  TestSubscriber subscriber(stub_.get(), request);
  ASSERT_TRUE(subscriber.ReadEvents(20));
  ExpectPositionsFrom(subscriber.events(), 0, 20);
  EXPECT_GT(subscriber.responses().size(), 3u);
  for (const pb::SubscribeResponse& response : subscriber.responses()) {
    EXPECT_LE(response.ByteSizeLong(), 4096u + 1200u);
    ASSERT_GT(response.events_size(), 0);
    // A checkpoint is a safe place to resume: right after the response's last event.
    EXPECT_EQ(response.checkpoint(), response.events(response.events_size() - 1).position() + 1);
  }
}

TEST_F(EventStoreServiceTest, ClientCancellingAWaitingSubscriptionEndsIt) {
  TestSubscriber subscriber(stub_.get(), pb::SubscribeRequest());
  pb::SubscribeResponse response;
  ASSERT_TRUE(subscriber.Read(&response));
  ASSERT_TRUE(response.caught_up());
  EXPECT_EQ(service_->ActiveSubscriptions(), 1u);

  subscriber.Cancel();
  EXPECT_EQ(subscriber.Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(service_->AwaitNoActiveSubscriptions(absl::Seconds(30)));
  // The service carries on.
  ASSERT_NO_FATAL_FAILURE(AppendEvents("patient-0001", 1));
}

TEST_F(EventStoreServiceTest, ClientCancellingABusySubscriptionEndsIt) {
  ASSERT_NO_FATAL_FAILURE(StartServer({.max_response_bytes = 2048}));
  ASSERT_NO_FATAL_FAILURE(AppendEvents("patient-0001", 100, std::string(1000, 'd')));
  pb::SubscribeRequest request;
  request.set_max_batch(50);
  TestSubscriber subscriber(stub_.get(), request);
  // Cancel with most of the catch-up still to send, so writes are in flight.
  ASSERT_TRUE(subscriber.ReadEvents(1));
  subscriber.Cancel();
  EXPECT_EQ(subscriber.Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(service_->AwaitNoActiveSubscriptions(absl::Seconds(30)));
}

TEST_F(EventStoreServiceTest, SubscriptionsComeAndGoWhileEventsAreAppended) {
  std::atomic<bool> stop{false};
  std::thread writer([this, &stop] {
    for (int i = 0; !stop.load(); ++i) {
      grpc::Status status = Append(MakeAppend("patient-0001", ExpectAny(), {TestEvent(absl::StrCat("e", i))}));
      EXPECT_TRUE(status.ok()) << status.error_message();
    }
  });
  for (int round = 0; round < 30; ++round) {
    pb::SubscribeRequest request;
    request.set_max_batch(1 + round % 4);
    TestSubscriber subscriber(stub_.get(), request);
    ASSERT_TRUE(subscriber.ReadEvents(round % 3));
    if (round % 2 == 0) subscriber.Cancel();
    // Odd rounds end by the subscriber's destructor, mid-stream.
  }
  stop.store(true);
  writer.join();
  EXPECT_TRUE(service_->AwaitNoActiveSubscriptions(absl::Seconds(30)));
}

TEST_F(EventStoreServiceTest, ShutdownEndsSubscriptionsAsUnavailableAndRefusesNewOnes) {
  TestSubscriber first(stub_.get(), pb::SubscribeRequest());
  TestSubscriber second(stub_.get(), pb::SubscribeRequest());
  pb::SubscribeResponse response;
  ASSERT_TRUE(first.Read(&response));
  ASSERT_TRUE(second.Read(&response));

  service_->BeginShutdown();
  EXPECT_EQ(first.Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(second.Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  TestSubscriber late(stub_.get(), pb::SubscribeRequest());
  EXPECT_EQ(late.Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(service_->AwaitNoActiveSubscriptions(absl::Seconds(30)));
  // Unary calls still work until the server itself stops.
  ASSERT_NO_FATAL_FAILURE(AppendEvents("patient-0001", 1));
}

}  // namespace
}  // namespace carehub::services::testing
