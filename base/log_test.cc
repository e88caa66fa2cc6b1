#include "carehub/base/log.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "carehub/base/clock.h"
#include "gtest/gtest.h"

namespace carehub {
namespace {

// Captures what the logger writes to stderr.
std::string CaptureStderr(void (*fn)()) {
  int pipefd[2];
  EXPECT_EQ(::pipe(pipefd), 0);
  int saved = ::dup(STDERR_FILENO);
  ::dup2(pipefd[1], STDERR_FILENO);
  fn();
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof(buf))) > 0) out.append(buf, n);
  ::close(pipefd[0]);
  return out;
}

TEST(LogTest, WritesKeyValueLineAndQuotesValuesWithSpaces) {
  log::SetMinLevel(log::Level::kInfo);  // whatever CAREHUB_LOG_LEVEL says
  std::string out = CaptureStderr([] {
    LOG_INFO("test.event").Kv("count", 3).Kv("reason", "two words").Kv("quote", "a\"b");
  });
  EXPECT_NE(out.find(" level=info event=test.event count=3 reason=\"two words\" quote=\"a\\\"b\"\n"),
            std::string::npos)
      << out;
}

TEST(LogTest, DropsRecordsBelowMinimumLevel) {
  log::SetMinLevel(log::Level::kWarning);
  std::string out = CaptureStderr([] { LOG_INFO("hidden").Kv("k", 1); });
  log::SetMinLevel(log::Level::kInfo);
  EXPECT_EQ(out, "");
}

TEST(ManualClockTest, MovesOnlyWhenTold) {
  ManualClock clock(absl::FromUnixSeconds(1000));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1000));
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1005));
}

}  // namespace
}  // namespace carehub
