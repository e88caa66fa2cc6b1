#include "carehub/services/testing/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

extern char** environ;

namespace carehub::services::testing {

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const std::string& binary, const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", binary, ": ", std::strerror(rc)));
  }
  return std::unique_ptr<ServerProcess>(new ServerProcess(pid));
}

ServerProcess::ServerProcess(pid_t pid) : pid_(pid) {
  reaper_ = std::thread([this] {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    wait_status_ = status;
    exited_.Notify();
  });
}

ServerProcess::~ServerProcess() {
  if (!exited_.HasBeenNotified()) ::kill(pid_, SIGKILL);
  reaper_.join();
}

absl::StatusOr<int> ServerProcess::WaitForPortFile(const std::string& path, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    // The server renames a complete file into place, so a file that exists is whole.
    std::string text = ReadFileOrEmpty(path);
    int port = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &port) && port > 0) return port;
    if (exited_.HasBeenNotified()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the server exited (wait status ", wait_status_, ") before serving"));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("no port in ", path, " after ", absl::FormatDuration(timeout)));
    }
    // Polling a file has nothing to wait on; the exit notification doubles as the pause, so a
    // crashed server is noticed at once.
    exited_.WaitForNotificationWithTimeout(absl::Milliseconds(20));
  }
}

absl::Status ServerProcess::Signal(int signal) {
  if (exited_.HasBeenNotified()) return absl::FailedPreconditionError("the server has exited");
  if (::kill(pid_, signal) != 0) {
    return absl::InternalError(absl::StrCat("kill: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ServerProcess::WaitForExit(absl::Duration timeout) {
  if (!exited_.WaitForNotificationWithTimeout(timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("the server is still running after ", absl::FormatDuration(timeout)));
  }
  return wait_status_;
}

absl::StatusOr<ServerProcess::Serving> ServerProcess::StartServing(
    const std::string& binary, std::vector<std::string> args, const std::string& dir,
    const std::string& name, absl::Duration timeout) {
  const std::string port_file = absl::StrCat(dir, "/", name, ".port");
  const std::string log = absl::StrCat(dir, "/", name, ".log");
  args.push_back("--port_file=" + port_file);
  absl::StatusOr<std::unique_ptr<ServerProcess>> process = Start(binary, args, log);
  if (!process.ok()) return process.status();
  absl::StatusOr<int> port = (*process)->WaitForPortFile(port_file, timeout);
  if (!port.ok()) {
    return absl::Status(port.status().code(), absl::StrCat(name, ": ", port.status().message(),
                                                           "\n", ReadFileOrEmpty(log)));
  }
  return Serving{.process = *std::move(process), .port = *port};
}

absl::Status ServerProcess::StopCleanly(absl::Duration timeout) {
  if (absl::Status sent = Signal(SIGTERM); !sent.ok()) return sent;
  absl::StatusOr<int> status = WaitForExit(timeout);
  if (!status.ok()) return status.status();
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(
        WIFSIGNALED(*status)
            ? absl::StrCat("killed by signal ", WTERMSIG(*status))
            : absl::StrCat("exited with status ", WEXITSTATUS(*status)));
  }
  return absl::OkStatus();
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return "";
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string ProcessRun::Show() const {
  return absl::StrCat("exit=", exit_code, "\n--- stdout\n", out.substr(0, 4000), "\n--- stderr\n",
                      err.substr(0, 4000));
}

ProcessRun RunProcess(const TempDir& dir, const std::string& binary, const std::vector<std::string>& args) {
  static int counter = 0;
  const std::string out_path = dir.File(absl::StrCat("run", ++counter, ".out"));
  const std::string err_path = dir.File(absl::StrCat("run", counter, ".err"));
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  ProcessRun run;
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
    run.exit_code = WEXITSTATUS(status);
  }
  run.out = ReadFileOrEmpty(out_path);
  run.err = ReadFileOrEmpty(err_path);
  return run;
}

}  // namespace carehub::services::testing
