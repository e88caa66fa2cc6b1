// Clock: the one source of "now" for carehub. Injected everywhere time matters so that tests and
// replays are deterministic.
#ifndef CAREHUB_BASE_CLOCK_H_
#define CAREHUB_BASE_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace carehub {

// Thread-safe. Implementations must be safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // The process-wide real-time clock. Never deleted; the caller does not own it.
  static Clock* Real();
};

// A clock that only moves when told to. Thread-safe.
class ManualClock : public Clock {
 public:
  explicit ManualClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override;
  void Advance(absl::Duration d);
  void Set(absl::Time t);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace carehub

#endif  // CAREHUB_BASE_CLOCK_H_
