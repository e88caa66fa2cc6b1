// DeadlineScheduler: calls CareCommands::CheckDeadlines(clock.Now()) every `interval` on a thread
// of its own, so that Lag (2017:612) deadlines that pass without their step become
// DeadlineBreached events. Tests call CheckDeadlines directly with an injected clock instead.
//
//   DeadlineScheduler scheduler(commands.get(), Clock::Real(), absl::Minutes(1));
//   ... // stops and joins on destruction
//
// Thread-safe. `commands` and `clock` are not owned and must outlive the scheduler.
#ifndef CAREHUB_CARE_DEADLINE_SCHEDULER_H_
#define CAREHUB_CARE_DEADLINE_SCHEDULER_H_

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/care/care_commands.h"

namespace carehub::care {

class DeadlineScheduler {
 public:
  DeadlineScheduler(CareCommands* commands, const Clock* clock, absl::Duration interval);
  DeadlineScheduler(const DeadlineScheduler&) = delete;
  DeadlineScheduler& operator=(const DeadlineScheduler&) = delete;
  // Stops the thread, waiting for a check in progress to finish.
  ~DeadlineScheduler();

 private:
  void Loop();

  CareCommands* commands_;
  const Clock* clock_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace carehub::care

#endif  // CAREHUB_CARE_DEADLINE_SCHEDULER_H_
