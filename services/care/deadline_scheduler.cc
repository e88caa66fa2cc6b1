#include "carehub/care/deadline_scheduler.h"

#include "carehub/base/log.h"

namespace carehub::care {

DeadlineScheduler::DeadlineScheduler(CareCommands* commands, const Clock* clock,
                                     absl::Duration interval)
    : commands_(commands), clock_(clock), interval_(interval), thread_([this] { Loop(); }) {}

DeadlineScheduler::~DeadlineScheduler() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  // A check in progress (a start-up catch-up can take minutes) ends at its next step.
  commands_->StopDeadlineChecks();
  thread_.join();
}

void DeadlineScheduler::Loop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      // Wakes early only to stop; the wait is on real time by design (it paces the checks, the
      // checks themselves use the injected clock).
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_);
      if (stopping_) return;
    }
    absl::StatusOr<v1::CheckDeadlinesResponse> checked = commands_->CheckDeadlines(clock_->Now());
    if (!checked.ok() && !absl::IsCancelled(checked.status())) {
      // Retried at the next interval; breaches are idempotent.
      LOG_WARNING("care.deadlines.check_failed")
          .Kv("code", absl::StatusCodeToString(checked.status().code()))
          .Kv("message", checked.status().message());
    }
  }
}

}  // namespace carehub::care
