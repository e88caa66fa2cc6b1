#include "carehub/services/common/executor.h"

#include <atomic>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace carehub::services {
namespace {

TEST(ExecutorTest, RunsEveryScheduledTask) {
  Executor executor(3);
  constexpr int kTasks = 200;
  std::atomic<int> ran{0};
  absl::BlockingCounter done(kTasks);
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_TRUE(executor.Schedule([&] {
      ran.fetch_add(1);
      done.DecrementCount();
    }));
  }
  done.Wait();
  EXPECT_EQ(ran.load(), kTasks);
}

TEST(ExecutorTest, ShutdownRunsQueuedTasksThenRefusesNewOnes) {
  Executor executor(1);
  absl::Notification release;
  std::atomic<int> ran{0};
  ASSERT_TRUE(executor.Schedule([&] { release.WaitForNotification(); }));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(executor.Schedule([&] { ran.fetch_add(1); }));
  std::thread stopper([&] { executor.Shutdown(); });
  // Shutdown is now waiting for the blocked task; the queued ones must still run.
  release.Notify();
  stopper.join();
  EXPECT_EQ(ran.load(), 10);

  auto witness = std::make_shared<int>(0);
  std::weak_ptr<int> weak = witness;
  EXPECT_FALSE(executor.Schedule([owned = std::move(witness)] {}));
  EXPECT_TRUE(weak.expired()) << "a refused task is destroyed at once";
  executor.Shutdown();  // idempotent
}

TEST(ExecutorTest, TasksMayScheduleMoreTasks) {
  Executor executor(2);
  absl::Notification done;
  std::function<void(int)> step = [&](int left) {
    if (left == 0) {
      done.Notify();
      return;
    }
    executor.Schedule([&step, left] { step(left - 1); });
  };
  executor.Schedule([&] { step(50); });
  done.WaitForNotification();
}

}  // namespace
}  // namespace carehub::services
