#include "carehub/services/common/shutdown_signal.h"

#include <pthread.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace carehub::services {

absl::StatusOr<ShutdownSignals> ShutdownSignals::Block() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("pthread_sigmask: ", std::strerror(rc)));
  }
  return ShutdownSignals(set);
}

int ShutdownSignals::Wait() const {
  for (;;) {
    int signal = 0;
    // sigwait only fails with EINVAL for a bad set, which Block() rules out; retry defensively.
    if (sigwait(&set_, &signal) == 0) return signal;
  }
}

}  // namespace carehub::services
