// ShutdownSignals: SIGTERM and SIGINT as an ordinary blocking wait, with no signal handler.
//
//   int main(int argc, char** argv) {
//     absl::StatusOr<ShutdownSignals> signals = ShutdownSignals::Block();  // before any thread
//     ... start servers ...
//     int signal = signals->Wait();  // returns when SIGTERM or SIGINT arrives
//     ... shut down ...
//   }
//
// Block() masks the signals in the calling thread; every thread started afterwards inherits the
// mask, so the signals stay pending for the process until Wait() takes one with sigwait(). No
// code runs in signal context, so shutdown may lock, log and join freely. Block() must run before
// any other thread is created (gRPC, RocksDB and the executor all start threads); a thread
// created earlier would still receive the signal and the default action would kill the process.
//
// Thread-compatible: one thread calls Wait().
#ifndef CAREHUB_SERVICES_COMMON_SHUTDOWN_SIGNAL_H_
#define CAREHUB_SERVICES_COMMON_SHUTDOWN_SIGNAL_H_

#include <signal.h>

#include "absl/status/statusor.h"

namespace carehub::services {

class ShutdownSignals {
 public:
  // Blocks SIGTERM and SIGINT in the calling thread. Internal if the mask cannot be changed.
  static absl::StatusOr<ShutdownSignals> Block();

  // Waits for SIGTERM or SIGINT and returns its number.
  int Wait() const;

 private:
  explicit ShutdownSignals(sigset_t set) : set_(set) {}
  sigset_t set_;
};

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_COMMON_SHUTDOWN_SIGNAL_H_
