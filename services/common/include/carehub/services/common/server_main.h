// RunServerProcess: the body every carehub server's main() shares once flags are parsed.
//
//   int main(int argc, char** argv) {
//     absl::ParseCommandLine(argc, argv);
//     return RunServerProcess("carehub-eventstore", {{"data_dir", dir}}, Run);
//   }
#ifndef CAREHUB_SERVICES_COMMON_SERVER_MAIN_H_
#define CAREHUB_SERVICES_COMMON_SERVER_MAIN_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "carehub/services/common/shutdown_signal.h"

namespace carehub::services {

// Turns off absl::Mutex deadlock detection (see server_main.cc), blocks the shutdown signals
// before any thread starts (so that every thread inherits the mask and only the signal wait sees
// them), logs `process.starting` with `fields`, runs `run`, and logs `process.stopped` or
// `process.failed`. Returns the process's exit code: EXIT_SUCCESS
// when `run` returns OK (a clean shutdown), EXIT_FAILURE otherwise. Call it before starting
// any thread.
int RunServerProcess(std::string_view binary, const std::vector<std::pair<std::string, std::string>>& fields,
                     absl::FunctionRef<absl::Status(const ShutdownSignals&)> run);

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_COMMON_SERVER_MAIN_H_
