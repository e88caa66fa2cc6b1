// ServerProcess: a server binary run as a child process, as an operator or supervisor runs it.
//
//   ASSIGN_OR_RETURN(auto server, ServerProcess::Start(path, {"--grpc_address=127.0.0.1:0",
//                                                          "--port_file=" + port_file}, log));
//   ASSIGN_OR_RETURN(int port, server->WaitForPortFile(port_file, absl::Seconds(30)));
//   server->Signal(SIGTERM);
//   ASSIGN_OR_RETURN(int wait_status, server->WaitForExit(absl::Seconds(30)));
//
// The child's stdout and stderr go to a log file, so that a failing test can show it. A child
// still running when the ServerProcess is destroyed is killed (SIGKILL) and reaped.
//
// Thread-compatible.
#ifndef CAREHUB_SERVICES_TESTING_SERVER_PROCESS_H_
#define CAREHUB_SERVICES_TESTING_SERVER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "carehub/services/testing/temp_dir.h"

namespace carehub::services::testing {

class ServerProcess {
 public:
  // Starts `binary` with `args` (argv[1..]); appends its stdout and stderr to `log_path`.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(const std::string& binary,
                                                              const std::vector<std::string>& args,
                                                              const std::string& log_path);

  struct Serving {
    std::unique_ptr<ServerProcess> process;
    int port = 0;
  };
  // Starts a carehub server binary with `args` plus `--port_file=<dir>/<name>.port`, its output
  // in <dir>/<name>.log, and waits up to `timeout` for the port it serves on. Errors carry the
  // server's log.
  static absl::StatusOr<Serving> StartServing(const std::string& binary,
                                              std::vector<std::string> args,
                                              const std::string& dir, const std::string& name,
                                              absl::Duration timeout = absl::Seconds(60));
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess();

  pid_t pid() const { return pid_; }

  // Waits until `path` holds a port number (the server writes it once serving). Fails early with
  // FailedPrecondition if the process exits first, DeadlineExceeded after `timeout`.
  absl::StatusOr<int> WaitForPortFile(const std::string& path, absl::Duration timeout);

  absl::Status Signal(int signal);

  // Waits for the process to exit; returns its wait status (see WIFEXITED and friends).
  // DeadlineExceeded if it is still running after `timeout`.
  absl::StatusOr<int> WaitForExit(absl::Duration timeout);

  // Sends SIGTERM and waits for the exit a clean shutdown gives (status 0); Internal naming the
  // status otherwise, DeadlineExceeded if it is still running after `timeout`.
  absl::Status StopCleanly(absl::Duration timeout = absl::Seconds(60));

 private:
  explicit ServerProcess(pid_t pid);

  const pid_t pid_;
  // A thread blocked in waitpid(), so that waiting for exit needs no polling.
  absl::Notification exited_;
  int wait_status_ = 0;  // written before exited_ is notified
  std::thread reaper_;
};

// The whole content of a file, or "" if it cannot be read. For showing a child's log.
std::string ReadFileOrEmpty(const std::string& path);

// A command-line tool run to completion, its stdout and stderr captured.
struct ProcessRun {
  int exit_code = -1;  // -1 if it did not exit normally
  std::string out;
  std::string err;
  // For a failing assertion: the exit code and (the first 4000 bytes of) both outputs.
  std::string Show() const;
};
// Runs `binary args...` and waits for it; its output goes through files in `dir`.
ProcessRun RunProcess(const TempDir& dir, const std::string& binary, const std::vector<std::string>& args);

}  // namespace carehub::services::testing

#endif  // CAREHUB_SERVICES_TESTING_SERVER_PROCESS_H_
