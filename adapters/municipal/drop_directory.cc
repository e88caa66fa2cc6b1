#include "carehub/municipal/drop_directory.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/log.h"
#include "carehub/base/strings.h"
#include "carehub/municipal/report_json.h"

namespace carehub::municipal {
namespace {

namespace fs = std::filesystem;

absl::Status ErrnoError(std::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(Sv(what), " ", path, ": ", std::strerror(errno)));
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, uint64_t max_bytes,
                                          bool* too_large) {
  *too_large = false;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return ErrnoError("cannot stat", path);
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    *too_large = true;
    return std::string();
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return ErrnoError("cannot read", path);
    }
    if (n == 0) break;  // shrank while reading: take what is there
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  ::close(fd);
  return bytes;
}

absl::Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open directory", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoError("cannot fsync directory", dir);
  return absl::OkStatus();
}

// Writes `content` to `path` through a temporary file, fsynced, then renamed into place.
absl::Status WriteFileDurably(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return ErrnoError("cannot create", tmp);
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return ErrnoError("cannot write", tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return ErrnoError("cannot fsync", tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError("cannot rename", tmp);
  return absl::OkStatus();
}

// "name.csv" -> the first of "name.csv", "name.1.csv", "name.2.csv", ... not in `dir`.
std::string FreeName(const std::string& dir, const std::string& name) {
  const fs::path p(name);
  const std::string stem = p.stem().string();
  const std::string ext = p.extension().string();
  std::string candidate = name;
  for (int i = 1; fs::exists(fs::path(dir) / candidate); ++i) {
    candidate = absl::StrCat(stem, ".", i, ext);
  }
  return candidate;
}

bool IsIgnored(const std::string& name) {
  return name.empty() || name[0] == '.' || absl::EndsWith(name, ".part") ||
         absl::EndsWith(name, ".tmp");
}

}  // namespace

DropDirectory::DropDirectory(const Importer* importer, DropDirectoryOptions options)
    : importer_(importer), options_(std::move(options)) {}

DropDirectory::~DropDirectory() { Stop(); }

std::string DropDirectory::inbox() const { return (fs::path(options_.root) / "inbox").string(); }
std::string DropDirectory::done() const { return (fs::path(options_.root) / "done").string(); }
std::string DropDirectory::failed() const { return (fs::path(options_.root) / "failed").string(); }

absl::Status DropDirectory::Start() {
  for (const std::string& dir : {inbox(), done(), failed()}) {
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", error.message()));
  }
  {
    absl::MutexLock lock(&mu_);
    stopping_ = false;
  }
  poller_ = std::thread([this] { PollLoop(); });
  LOG_INFO("municipal.drop_directory.started").Kv("root", options_.root);
  return absl::OkStatus();
}

void DropDirectory::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (poller_.joinable()) poller_.join();
  // Stopped: direct ScanOnce calls work again (the stop flag only ends the poller's scans).
  absl::MutexLock lock(&mu_);
  stopping_ = false;
}

void DropDirectory::PollLoop() {
  for (;;) {
    absl::StatusOr<ScanSummary> summary = ScanOnce();
    if (!summary.ok()) {
      LOG_WARNING("municipal.drop_directory.scan_failed").Kv("error", summary.status().message());
    }
    absl::MutexLock lock(&mu_);
    const auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    mu_.AwaitWithTimeout(absl::Condition(&stopping), options_.poll_interval);
    if (stopping_) return;
  }
}

absl::StatusOr<ScanSummary> DropDirectory::ScanOnce() {
  std::vector<std::string> names;
  std::error_code error;
  for (fs::directory_iterator it(inbox(), error), end; !error && it != end; it.increment(error)) {
    std::error_code type_error;
    if (!it->is_regular_file(type_error)) continue;
    const std::string name = it->path().filename().string();
    if (!IsIgnored(name)) names.push_back(name);
  }
  if (error) return absl::InternalError(absl::StrCat("cannot list ", inbox(), ": ", error.message()));
  std::sort(names.begin(), names.end());
  ScanSummary summary;
  for (const std::string& name : names) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
    }
    if (!ProcessFile(name, summary)) ++summary.files_left;
  }
  return summary;
}

bool DropDirectory::ProcessFile(const std::string& name, ScanSummary& summary) {
  const std::string path = (fs::path(inbox()) / name).string();
  ImportReport report;
  std::string file_problem;
  ReaderOptions reader;
  if (absl::EndsWith(name, ".csv")) {
    reader.kind = FileKind::kCsv;
  } else if (absl::EndsWith(name, ".jsonl") || absl::EndsWith(name, ".ndjson")) {
    reader.kind = FileKind::kJsonLines;
  } else {
    file_problem = "not an import file: the name must end in .csv, .jsonl or .ndjson";
  }
  if (file_problem.empty()) {
    bool too_large = false;
    absl::StatusOr<std::string> bytes = ReadWholeFile(path, options_.max_file_bytes, &too_large);
    if (!bytes.ok()) {
      LOG_WARNING("municipal.file.unreadable").Kv("file", name).Kv("error", bytes.status().message());
      return false;
    }
    if (too_large) {
      file_problem = absl::StrCat("larger than ", options_.max_file_bytes, " bytes");
    } else {
      report = importer_->Import(*bytes, reader);
    }
  }
  if (!file_problem.empty()) {
    LineResult whole{.line = 0, .status = LineStatus::kRejected, .reason = file_problem};
    report.lines.push_back(std::move(whole));
    report.rejected = 1;
  }
  if (!report.complete()) {
    LOG_WARNING("municipal.file.incomplete")
        .Kv("file", name)
        .Kv("not_processed", report.not_processed)
        .Kv("accepted", report.accepted);
    return false;
  }

  const bool failed = report.rejected > 0;
  const std::string dir = failed ? this->failed() : done();
  const std::string target = FreeName(dir, name);
  if (failed) {
    const std::string rejects = (fs::path(dir) / (target + ".rejects.jsonl")).string();
    if (absl::Status s = WriteFileDurably(rejects, RejectsJsonLines(report)); !s.ok()) {
      LOG_ERROR("municipal.file.report_failed").Kv("file", name).Kv("error", s.message());
      return false;
    }
  }
  const std::string moved = (fs::path(dir) / target).string();
  if (::rename(path.c_str(), moved.c_str()) != 0) {
    LOG_ERROR("municipal.file.move_failed").Kv("file", name).Kv("error", std::strerror(errno));
    return false;
  }
  for (const std::string& d : {dir, inbox()}) {
    if (absl::Status s = SyncDirectory(d); !s.ok()) {
      LOG_WARNING("municipal.file.sync_failed").Kv("error", s.message());
    }
  }
  (failed ? summary.files_failed : summary.files_done)++;
  LOG_INFO("municipal.file.imported")
      .Kv("file", name)
      .Kv("moved_to", failed ? "failed" : "done")
      .Kv("lines", report.lines.size())
      .Kv("accepted", report.accepted)
      .Kv("already_imported", report.already_imported)
      .Kv("rejected", report.rejected);
  return true;
}

}  // namespace carehub::municipal
