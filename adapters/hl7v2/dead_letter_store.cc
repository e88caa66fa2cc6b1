#include "carehub/hl7v2/dead_letter_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "carehub/base/strings.h"

namespace carehub::hl7v2 {
namespace {

namespace fs = std::filesystem;

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(Sv(what), " ", path, ": ", std::strerror(errno)));
}

// Writes `data` to `path` durably: temporary file, fsync, rename.
absl::Status WriteDurably(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", tmp);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Errno("cannot write", tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return Errno("cannot fsync", tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("cannot rename", tmp);
  return absl::OkStatus();
}

absl::Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("cannot fsync", dir);
  return absl::OkStatus();
}

// Metadata values are one line each: control characters become spaces.
std::string OneLine(std::string_view v) {
  std::string out(v);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return out;
}

std::string EncodeMeta(const DeadLetter& l) {
  return absl::StrCat("received_at=", absl::FormatTime(absl::RFC3339_full, l.received_at,
                                                        absl::UTCTimeZone()),
                      "\nack_code=", OneLine(l.ack_code), "\nerror_code=", OneLine(l.error_code),
                      "\nreason=", OneLine(l.reason), "\ncontrol_id=", OneLine(l.control_id),
                      "\nsource_system=", OneLine(l.source_system),
                      "\nmessage_type=", OneLine(l.message_type), "\npeer=", OneLine(l.peer),
                      "\ntruncated=", l.truncated ? "true" : "false", "\nsize=", l.size, "\n");
}

void DecodeMeta(std::string_view text, DeadLetter* l) {
  for (absl::string_view line : absl::StrSplit(Sv(text), '\n', absl::SkipEmpty())) {
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    const absl::string_view key = line.substr(0, eq);
    const std::string value(line.substr(eq + 1));
    if (key == "received_at") {
      std::string err;
      absl::ParseTime(absl::RFC3339_full, value, &l->received_at, &err);
    } else if (key == "ack_code") {
      l->ack_code = value;
    } else if (key == "error_code") {
      l->error_code = value;
    } else if (key == "reason") {
      l->reason = value;
    } else if (key == "control_id") {
      l->control_id = value;
    } else if (key == "source_system") {
      l->source_system = value;
    } else if (key == "message_type") {
      l->message_type = value;
    } else if (key == "peer") {
      l->peer = value;
    } else if (key == "truncated") {
      l->truncated = value == "true";
    } else if (key == "size") {
      (void)absl::SimpleAtoi(value, &l->size);
    }
  }
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("no such dead letter file ", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool IsOurId(const std::string& id) {
  return !id.empty() && id.size() < 64 &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || c == 'T' || c == 'Z' || c == '.' || c == '-';
         });
}

}  // namespace

absl::StatusOr<std::unique_ptr<DeadLetterStore>> DeadLetterStore::Open(std::string dir,
                                                                       const Clock* clock) {
  std::error_code error;
  fs::create_directories(fs::path(dir) / "resubmitted", error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", error.message()));
  }
  return std::unique_ptr<DeadLetterStore>(new DeadLetterStore(std::move(dir), clock));
}

absl::StatusOr<std::string> DeadLetterStore::Put(DeadLetter letter) {
  letter.received_at = clock_->Now();
  uint64_t sequence;
  {
    absl::MutexLock lock(&mu_);
    sequence = ++sequence_;
  }
  // The process id keeps two processes (a daemon restarted while the old one drains) apart.
  letter.id = absl::StrCat(
      absl::FormatTime("%Y%m%dT%H%M%E6SZ", letter.received_at, absl::UTCTimeZone()), "-",
      absl::StrFormat("%d-%06d", ::getpid(), sequence));
  const std::string base = (fs::path(dir_) / letter.id).string();
  if (absl::Status s = WriteDurably(base + ".hl7", letter.message); !s.ok()) return s;
  if (absl::Status s = WriteDurably(base + ".meta", EncodeMeta(letter)); !s.ok()) return s;
  if (absl::Status s = SyncDir(dir_); !s.ok()) return s;
  return letter.id;
}

absl::StatusOr<std::vector<DeadLetter>> DeadLetterStore::List() const {
  std::vector<DeadLetter> letters;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir_, error)) {
    if (entry.path().extension() != ".hl7") continue;
    DeadLetter letter;
    letter.id = entry.path().stem().string();
    absl::StatusOr<std::string> meta = ReadFile((fs::path(dir_) / (letter.id + ".meta")).string());
    if (meta.ok()) {
      DecodeMeta(*meta, &letter);
    } else {
      letter.reason = "incomplete";
    }
    letters.push_back(std::move(letter));
  }
  if (error) return absl::InternalError(absl::StrCat("cannot list ", dir_, ": ", error.message()));
  std::sort(letters.begin(), letters.end(),
            [](const DeadLetter& a, const DeadLetter& b) { return a.id < b.id; });
  return letters;
}

absl::StatusOr<DeadLetter> DeadLetterStore::Get(const std::string& id) const {
  if (!IsOurId(id)) return absl::InvalidArgumentError("not a dead-letter id");
  DeadLetter letter;
  letter.id = id;
  const std::string base = (fs::path(dir_) / id).string();
  absl::StatusOr<std::string> message = ReadFile(base + ".hl7");
  if (!message.ok()) return absl::NotFoundError(absl::StrCat("no dead letter ", id));
  letter.message = *std::move(message);
  absl::StatusOr<std::string> meta = ReadFile(base + ".meta");
  if (meta.ok()) {
    DecodeMeta(*meta, &letter);
  } else {
    letter.reason = "incomplete";
  }
  return letter;
}

absl::Status DeadLetterStore::MarkResubmitted(const std::string& id, const std::string& ack_code) {
  if (!IsOurId(id)) return absl::InvalidArgumentError("not a dead-letter id");
  const fs::path from = fs::path(dir_) / id;
  const fs::path to = fs::path(dir_) / "resubmitted" / id;
  absl::StatusOr<std::string> meta = ReadFile(from.string() + ".meta");
  if (!meta.ok()) return absl::NotFoundError(absl::StrCat("no dead letter ", id));
  // The note goes in first, so a crash leaves at worst a letter listed twice, never one lost.
  const std::string note =
      absl::StrCat(*meta, "resubmitted_at=",
                   absl::FormatTime(absl::RFC3339_full, clock_->Now(), absl::UTCTimeZone()),
                   "\nresubmit_ack=", OneLine(ack_code), "\n");
  if (absl::Status s = WriteDurably(to.string() + ".meta", note); !s.ok()) return s;
  if (::rename((from.string() + ".hl7").c_str(), (to.string() + ".hl7").c_str()) != 0) {
    return Errno("cannot move", from.string());
  }
  ::unlink((from.string() + ".meta").c_str());
  if (absl::Status s = SyncDir((fs::path(dir_) / "resubmitted").string()); !s.ok()) return s;
  return SyncDir(dir_);
}

}  // namespace carehub::hl7v2
