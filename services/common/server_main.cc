#include "carehub/services/common/server_main.h"

#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "carehub/base/log.h"

namespace carehub::services {

int RunServerProcess(std::string_view binary, const std::vector<std::pair<std::string, std::string>>& fields,
                     absl::FunctionRef<absl::Status(const ShutdownSignals&)> run) {
  // Debian's Abseil is built without NDEBUG, which leaves absl::Mutex's deadlock detection on:
  // a lock-order graph updated on every lock (a few percent of a busy server's CPU). The tests
  // keep it; a server has no use for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::StatusOr<ShutdownSignals> signals = ShutdownSignals::Block();
  if (!signals.ok()) {
    LOG_ERROR("process.failed").Kv("binary", binary).Kv("message", signals.status().message());
    return EXIT_FAILURE;
  }
  {
    log::Record starting(log::Level::kInfo, "process.starting");  // written at the end of this block
    starting.Kv("binary", binary);
    for (const auto& [key, value] : fields) starting.Kv(key, value);
  }
  absl::Status status = run(*signals);
  if (!status.ok()) {
    LOG_ERROR("process.failed")
        .Kv("binary", binary)
        .Kv("code", absl::StatusCodeToString(status.code()))
        .Kv("message", status.message());
    return EXIT_FAILURE;
  }
  LOG_INFO("process.stopped").Kv("binary", binary);
  return EXIT_SUCCESS;
}

}  // namespace carehub::services
