// Subscriptions through the client: catch-up then live with no gap and no duplicate, Poll/Next/
// NotifyWhenReady/Cancel as event_store.h promises, and a subscription that outlives a server
// restart, resuming from its cursor.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/eventstore/client/testing/client_fixture.h"

namespace carehub::services::testing {
namespace {

namespace es = ::carehub::eventstore;

constexpr absl::Duration kPatience = absl::Seconds(30);

// Reads until `count` events arrived (or kPatience passed), checking as it goes that they are
// exactly the positions from `first` on, in order.
void ExpectPositions(es::Subscription& subscription, uint64_t first, uint64_t count) {
  const absl::Time give_up = absl::Now() + kPatience;
  uint64_t expected = first;
  while (expected < first + count && absl::Now() < give_up) {
    absl::StatusOr<es::SubscriptionBatch> batch = subscription.Next(absl::Seconds(1));
    ASSERT_TRUE(batch.ok()) << batch.status();
    for (const es::RecordedEvent& event : batch->events) {
      ASSERT_EQ(event.position, expected) << "a gap or a duplicate";
      ++expected;
    }
    if (!batch->events.empty()) {
      EXPECT_EQ(batch->checkpoint, expected);
    }
  }
  ASSERT_EQ(expected, first + count);
  EXPECT_EQ(subscription.cursor(), first + count);
}

TEST_F(EventStoreClientTest, CatchUpThenLiveWithoutGapOrDuplicate) {
  ASSERT_NO_FATAL_FAILURE(AppendEvents(*client_, "patient-1", 150));
  std::unique_ptr<es::Subscription> subscription =
      client_->Subscribe({.from_position = 0, .max_batch = 16});
  // Writers on another thread while the subscriber catches up and goes live.
  std::thread writer([this] {
    for (int i = 0; i < 150; ++i) {
      absl::StatusOr<es::AppendResult> result =
          client_->Append(absl::StrCat("patient-", i % 7), es::ExpectedVersion::Any(),
                          {Event(absl::StrCat("live-", i))});
      ASSERT_TRUE(result.ok()) << result.status();
    }
  });
  ExpectPositions(*subscription, 0, 300);
  writer.join();
  // At the head: nothing more, and Poll says so.
  absl::StatusOr<es::SubscriptionBatch> idle = subscription->Next(absl::Milliseconds(50));
  ASSERT_TRUE(idle.ok()) << idle.status();
  EXPECT_TRUE(idle->events.empty());
  EXPECT_EQ(idle->checkpoint, 300u);
  absl::StatusOr<es::SubscriptionBatch> polled = subscription->Poll();
  ASSERT_TRUE(polled.ok()) << polled.status();
  EXPECT_TRUE(polled->events.empty());
  EXPECT_TRUE(polled->caught_up);
}

TEST_F(EventStoreClientTest, SmallBufferSlowsTheStreamNotTheEvents) {
  ClientOptions options = TestOptions();
  options.subscription_buffer_batches = 1;
  std::unique_ptr<es::EventStore> client = Connect(options);
  ASSERT_NE(client, nullptr);
  ASSERT_NO_FATAL_FAILURE(AppendEvents(*store_, "patient-1", 400));
  std::unique_ptr<es::Subscription> subscription =
      client->Subscribe({.from_position = 100, .max_batch = 7});
  ExpectPositions(*subscription, 100, 300);
}

TEST_F(EventStoreClientTest, FilteredSubscriptionDeliversMatchesAndAdvances) {
  ASSERT_NO_FATAL_FAILURE(AppendEvents(*store_, "patient-1", 5));
  ASSERT_NO_FATAL_FAILURE(AppendEvents(*store_, "identity-1", 5));
  ASSERT_NO_FATAL_FAILURE(AppendEvents(*store_, "patient-2", 5));
  std::unique_ptr<es::Subscription> subscription =
      client_->Subscribe({.from_position = 0, .stream_prefix = "patient-"});
  std::vector<uint64_t> positions;
  const absl::Time give_up = absl::Now() + kPatience;
  while (positions.size() < 10 && absl::Now() < give_up) {
    absl::StatusOr<es::SubscriptionBatch> batch = subscription->Next(absl::Seconds(1));
    ASSERT_TRUE(batch.ok()) << batch.status();
    for (const es::RecordedEvent& event : batch->events) positions.push_back(event.position);
  }
  EXPECT_EQ(positions, (std::vector<uint64_t>{0, 1, 2, 3, 4, 10, 11, 12, 13, 14}));
  EXPECT_EQ(subscription->cursor(), 15u);
}

TEST_F(EventStoreClientTest, NotifyWhenReadyFiresOnNewEvents) {
  std::unique_ptr<es::Subscription> subscription = client_->Subscribe({});
  // Drain to the head first: the notification is about events past the cursor.
  for (;;) {
    absl::StatusOr<es::SubscriptionBatch> batch = subscription->Poll();
    ASSERT_TRUE(batch.ok()) << batch.status();
    if (batch->caught_up && batch->events.empty()) break;
    ASSERT_TRUE(subscription->Next(absl::Milliseconds(100)).ok());
  }
  auto ready = std::make_shared<absl::Notification>();
  subscription->NotifyWhenReady([ready] { ready->Notify(); });
  EXPECT_FALSE(ready->HasBeenNotified());
  ASSERT_NO_FATAL_FAILURE(AppendEvents(*client_, "patient-1", 1));
  ASSERT_TRUE(ready->WaitForNotificationWithTimeout(kPatience));
  absl::StatusOr<es::SubscriptionBatch> batch = subscription->Poll();
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->events.size(), 1u);
  EXPECT_EQ(batch->events[0].position, 0u);

  // Ready at once when something is already waiting.
  ASSERT_NO_FATAL_FAILURE(AppendEvents(*client_, "patient-1", 1));
  ASSERT_TRUE(subscription->Next(kPatience).ok());  // takes it
  ASSERT_NO_FATAL_FAILURE(AppendEvents(*client_, "patient-1", 1));
  auto second = std::make_shared<absl::Notification>();
  subscription->NotifyWhenReady([second] { second->Notify(); });
  ASSERT_TRUE(second->WaitForNotificationWithTimeout(kPatience));
}

TEST_F(EventStoreClientTest, CancelEndsAWaitingNextAndNotifies) {
  std::unique_ptr<es::Subscription> subscription = client_->Subscribe({});
  auto notified = std::make_shared<absl::Notification>();
  absl::Notification waiting;
  absl::StatusOr<es::SubscriptionBatch> result;
  std::thread consumer([&] {
    // Waits for an event that never comes (Cancel() may also come first: the same answer).
    waiting.Notify();
    result = subscription->Next(absl::Seconds(60));
  });
  waiting.WaitForNotification();
  subscription->NotifyWhenReady([notified] { notified->Notify(); });
  subscription->Cancel();
  consumer.join();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(notified->WaitForNotificationWithTimeout(kPatience));
  EXPECT_EQ(subscription->Poll().status().code(), absl::StatusCode::kCancelled);
  subscription->Cancel();  // idempotent
  absl::Notification late;
  subscription->NotifyWhenReady([&late] { late.Notify(); });
  EXPECT_TRUE(late.HasBeenNotified());  // at once, on this thread
}

TEST_F(EventStoreClientTest, SubscriptionResumesFromItsCursorAfterServerRestart) {
  ASSERT_NO_FATAL_FAILURE(AppendEvents(*store_, "patient-1", 10));
  std::unique_ptr<es::Subscription> subscription =
      client_->Subscribe({.from_position = 0, .max_batch = 4});
  ASSERT_NO_FATAL_FAILURE(ExpectPositions(*subscription, 0, 10));

  StopServer();
  // The stream ended with UNAVAILABLE; the subscription keeps trying and reports no error.
  absl::StatusOr<es::SubscriptionBatch> while_down = subscription->Next(absl::Milliseconds(300));
  ASSERT_TRUE(while_down.ok()) << while_down.status();
  EXPECT_TRUE(while_down->events.empty());
  EXPECT_EQ(subscription->cursor(), 10u);

  ASSERT_NO_FATAL_FAILURE(StartServer());  // same port, same data
  ASSERT_NO_FATAL_FAILURE(AppendEvents(*store_, "patient-2", 10));
  ASSERT_NO_FATAL_FAILURE(ExpectPositions(*subscription, 10, 10));

  // Twice, to be sure the first reconnection left nothing behind.
  StopServer();
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_NO_FATAL_FAILURE(AppendEvents(*client_, "patient-3", 5));
  ASSERT_NO_FATAL_FAILURE(ExpectPositions(*subscription, 20, 5));
}

TEST_F(EventStoreClientTest, CancelWhileTheServerIsDownEndsAtOnce) {
  ASSERT_NO_FATAL_FAILURE(AppendEvents(*store_, "patient-1", 3));
  std::unique_ptr<es::Subscription> subscription = client_->Subscribe({});
  ASSERT_NO_FATAL_FAILURE(ExpectPositions(*subscription, 0, 3));
  StopServer();
  absl::StatusOr<es::SubscriptionBatch> while_down = subscription->Next(absl::Milliseconds(100));
  ASSERT_TRUE(while_down.ok()) << while_down.status();
  subscription->Cancel();
  EXPECT_EQ(subscription->Next(kPatience).status().code(), absl::StatusCode::kCancelled);
  subscription.reset();  // joins the reader, which was waiting for a connection
  client_.reset();
}

TEST_F(EventStoreClientTest, DestroyingTheClientEndsItsSubscriptions) {
  std::unique_ptr<es::Subscription> subscription = client_->Subscribe({});
  absl::Notification started;
  absl::StatusOr<es::SubscriptionBatch> result;
  std::thread consumer([&] {
    started.Notify();
    const absl::Time give_up = absl::Now() + kPatience;
    do {
      result = subscription->Next(absl::Seconds(60));
    } while (result.ok() && absl::Now() < give_up);
  });
  started.WaitForNotification();
  client_.reset();
  consumer.join();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(subscription->Poll().status().code(), absl::StatusCode::kUnavailable);
  subscription->Cancel();
  EXPECT_EQ(subscription->Poll().status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace carehub::services::testing
