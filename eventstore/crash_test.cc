// Crash safety: a child process appends under load from several threads and reports every
// acknowledged Append on a pipe; the parent SIGKILLs it mid-load and checks the store it left, first
// read-only (as an audit tool would) and then read-write (as the restarted hub would): every
// acknowledged append is there in place with its content, the log is gapless and holds only whole
// batches, each acknowledged or in flight at the kill, stream versions are contiguous, and the hash
// chain verifies. Then the parent retries the in-flight batches, as their clients would (stored ones
// must come back as idempotent replays), and appends on: the chain extends. Three rounds on one
// directory, killed at different moments, so that a store recovered from a crash is itself crashed
// and recovered.
//
// The child is this binary run again (posix_spawn of /proc/self/exe) with a filter that selects
// only CrashChild.DISABLED_AppendUntilKilled and an environment naming its role: carrying on in
// a fork() of a multi-threaded gtest process under ASan is not safe.
//
// SIGKILL kills the process, not the machine: what the kernel had accepted survives it. So this
// catches an append acknowledged before its bytes reached the OS (a user-space WAL buffer, a
// batch split over several writes) and recovery bugs, not a missing fsync.
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "carehub/base/log.h"
#include "carehub/base/strings.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/eventstore/types.h"
#include "gtest/gtest.h"

extern char** environ;

namespace carehub::eventstore {
namespace {

constexpr char kRoleEnv[] = "CAREHUB_CRASH_TEST_ROLE";
constexpr char kWriterRole[] = "writer";
constexpr char kDirEnv[] = "CAREHUB_CRASH_TEST_DIR";
constexpr char kRoundEnv[] = "CAREHUB_CRASH_TEST_ROUND";
constexpr char kChildTest[] = "CrashChild.DISABLED_AppendUntilKilled";
// The child writes its records to this descriptor, the write end of the parent's pipe.
constexpr int kRecordFd = 100;

// Acknowledged appends from the child after which the parent kills it, one entry per round.
constexpr uint64_t kKillAfterAcks[] = {1500, 400, 2500};
// The parent gives up on a child that reports nothing for this long.
constexpr absl::Duration kQuietLimit = absl::Seconds(120);

// What a writer thread of the child does; several of each kind run at once.
enum class WriterKind {
  kSolo,         // single events to its own stream, Exact(version): never conflicts
  kBatch,        // batches of 1..50 to its own stream, Any
  kSharedAny,    // batches of 1..10 to a stream shared with another writer, Any
  kSharedExact,  // batches of 1..5 to a shared stream, Exact(last seen), retrying on conflict
};
constexpr WriterKind kWriters[] = {WriterKind::kSolo,      WriterKind::kSolo,
                                   WriterKind::kBatch,     WriterKind::kSharedAny,
                                   WriterKind::kSharedAny, WriterKind::kSharedExact,
                                   WriterKind::kSharedExact};
constexpr uint64_t kWritersPerRound = std::size(kWriters);
// Writer ids are unique over the whole test, so that event ids are: round * 100 + thread for the
// child's threads, kParentWriter + round for the parent's own appends.
constexpr uint64_t kParentWriter = 9000;

uint64_t Mix(uint64_t a, uint64_t b, uint64_t c = 0) {
  // splitmix64 over the combined inputs: a deterministic, well-spread choice of sizes.
  uint64_t z = a * 0x9e3779b97f4a7c15ull + b * 0xbf58476d1ce4e5b9ull + c * 0x94d049bb133111ebull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::string StreamOf(WriterKind kind, uint64_t thread) {
  switch (kind) {
    case WriterKind::kSolo: return absl::StrCat("solo-", thread);
    case WriterKind::kBatch: return absl::StrCat("batch-", thread);
    case WriterKind::kSharedAny: return "shared-any";
    case WriterKind::kSharedExact: return "shared-exact";
  }
  return "";
}

uint64_t BatchSize(WriterKind kind, uint64_t writer, uint64_t seq) {
  switch (kind) {
    case WriterKind::kSolo: return 1;
    case WriterKind::kBatch: return 1 + Mix(writer, seq) % 50;
    case WriterKind::kSharedAny: return 1 + Mix(writer, seq) % 10;
    case WriterKind::kSharedExact: return 1 + Mix(writer, seq) % 5;
  }
  return 1;
}

// Event i of batch `seq` of `writer`, which has n events. Content is a function of the event id,
// so the parent can check every stored byte without being told it.
ProposedEvent ProbeEvent(uint64_t writer, uint64_t seq, uint64_t i, uint64_t n) {
  std::string id = absl::StrCat("w", writer, "-b", seq, "-e", i, "-of", n);
  std::string data = absl::StrCat(id, "|", std::string(Mix(writer, seq, i) % 400, static_cast<char>('a' + i % 26)));
  return {.event_id = std::move(id),
          .type = "carehub.test.v1.CrashProbe",
          .data = std::move(data),
          .metadata = absl::StrCat("writer=", writer, " seq=", seq)};
}

std::vector<ProposedEvent> ProbeBatch(uint64_t writer, uint64_t seq, uint64_t n) {
  std::vector<ProposedEvent> events;
  for (uint64_t i = 0; i < n; ++i) events.push_back(ProbeEvent(writer, seq, i, n));
  return events;
}

struct EventIdParts {
  uint64_t writer, seq, index, count;
};

std::optional<EventIdParts> ParseEventId(std::string_view id) {
  std::vector<std::string> parts = absl::StrSplit(Sv(id), '-');
  EventIdParts p;
  if (parts.size() != 4 || parts[0].size() < 2 || parts[0][0] != 'w' || parts[1][0] != 'b' ||
      parts[2][0] != 'e' || parts[3].rfind("of", 0) != 0 ||
      !absl::SimpleAtoi(parts[0].substr(1), &p.writer) || !absl::SimpleAtoi(parts[1].substr(1), &p.seq) ||
      !absl::SimpleAtoi(parts[2].substr(1), &p.index) || !absl::SimpleAtoi(parts[3].substr(2), &p.count)) {
    return std::nullopt;
  }
  return p;
}

// --- The child: writers that report every acknowledged append --------------------------------
//
// Records, one line each, sent with one write(2) of at most PIPE_BUF bytes so that records of
// different threads never interleave:
//   O <head position or -1>                   the store opened
//   S <writer> <seq> <n> <stream>             about to Append this batch
//   A <writer> <seq> <n> <stream> <first_position> <last_position> <first_version>
//     <last_version> <idempotent_replay>      the Append returned ok
//   C <writer> <actual version or -1>         an expected-version conflict, retried
//   F <message>                               the child failed; it exits

void SendRecord(const std::string& record) {
  if (record.size() > PIPE_BUF) _exit(4);
  ssize_t written;
  do {
    written = ::write(kRecordFd, record.data(), record.size());
  } while (written < 0 && errno == EINTR);
  // The parent has gone: nobody is left to report to.
  if (written != static_cast<ssize_t>(record.size())) _exit(3);
}

[[noreturn]] void FailChild(std::string_view message) {
  SendRecord(absl::StrCat("F ", Sv(message.substr(0, 1000)), "\n"));
  _exit(1);
}

std::string VersionText(std::optional<uint64_t> version) {
  return version.has_value() ? absl::StrCat(*version) : "-1";
}

void RunWriter(EventStore& store, uint64_t round, uint64_t thread) {
  const WriterKind kind = kWriters[thread];
  const uint64_t writer = round * 100 + thread;
  const std::string stream = StreamOf(kind, thread);
  // The stream's last version as this writer last saw it, for Exact expectations.
  std::optional<uint64_t> known;
  if (absl::StatusOr<uint64_t> v = store.StreamVersion(stream); v.ok()) {
    known = *v;
  } else if (v.status().code() != absl::StatusCode::kNotFound) {
    FailChild(absl::StrCat("StreamVersion(", stream, "): ", v.status().ToString()));
  }
  for (uint64_t seq = 0;; ++seq) {
    const uint64_t n = BatchSize(kind, writer, seq);
    SendRecord(absl::StrCat("S ", writer, " ", seq, " ", n, " ", stream, "\n"));
    absl::StatusOr<AppendResult> result;
    for (;;) {
      const bool exact = kind == WriterKind::kSolo || kind == WriterKind::kSharedExact;
      ExpectedVersion expected = !exact ? ExpectedVersion::Any()
                                 : known.has_value() ? ExpectedVersion::Exact(*known)
                                                     : ExpectedVersion::NoStream();
      result = store.Append(stream, expected, ProbeBatch(writer, seq, n));
      if (result.ok()) break;
      std::optional<std::optional<uint64_t>> actual = AppendConflict(result.status());
      if (kind != WriterKind::kSharedExact || !actual.has_value()) {
        FailChild(absl::StrCat("Append(", stream, ", writer ", writer, ", seq ", seq,
                               "): ", result.status().ToString()));
      }
      SendRecord(absl::StrCat("C ", writer, " ", VersionText(*actual), "\n"));
      known = *actual;
    }
    known = result->last_version;
    SendRecord(absl::StrCat("A ", writer, " ", seq, " ", n, " ", stream, " ", result->first_position,
                            " ", result->last_position, " ", result->first_version, " ",
                            result->last_version, " ", result->idempotent_replay ? 1 : 0, "\n"));
  }
}

// Runs only in the child, started by CrashTest below; never returns, the parent kills it.
TEST(CrashChild, DISABLED_AppendUntilKilled) {
  const char* role = ::getenv(kRoleEnv);
  if (role == nullptr || std::string_view(role) != kWriterRole) {
    GTEST_SKIP() << "runs only as the child of CrashTest";
  }
  uint64_t round = 0;
  const char* dir = ::getenv(kDirEnv);
  const char* round_text = ::getenv(kRoundEnv);
  if (dir == nullptr || round_text == nullptr || !absl::SimpleAtoi(round_text, &round)) {
    FailChild("environment lacks the directory or round");
  }
  Options options;
  options.path = dir;
  absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::Open(options);
  if (!store.ok()) FailChild(absl::StrCat("Open: ", store.status().ToString()));
  SendRecord(absl::StrCat("O ", VersionText((*store)->Head().value().position), "\n"));
  std::vector<std::thread> writers;
  for (uint64_t t = 0; t < kWritersPerRound; ++t) {
    writers.emplace_back([&store, round, t] { RunWriter(**store, round, t); });
  }
  for (std::thread& w : writers) w.join();
}

// --- The parent: what was acknowledged --------------------------------------------------------

using BatchKey = std::pair<uint64_t, uint64_t>;  // writer, seq

struct Batch {
  uint64_t writer = 0;
  uint64_t seq = 0;
  uint64_t count = 0;
  std::string stream;
};

struct Ack {
  Batch batch;
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  uint64_t first_version = 0;
  uint64_t last_version = 0;
  bool idempotent_replay = false;
};

// Everything children and parent were told was acknowledged, over all rounds. Not thread-safe.
class Ledger {
 public:
  // Applies one record line from a child (without its newline).
  absl::Status Apply(std::string_view line) {
    std::vector<std::string> f = absl::StrSplit(Sv(line), ' ');
    auto number = [&](size_t i) {
      uint64_t value = 0;
      if (i >= f.size() || !absl::SimpleAtoi(f[i], &value)) malformed_ = true;
      return value;
    };
    malformed_ = false;
    if (f[0] == "F") return absl::InternalError(absl::StrCat("child failed: ", Sv(line.substr(2))));
    if (f[0] == "O") {
      int64_t head = 0;
      if (f.size() != 2 || !absl::SimpleAtoi(f[1], &head)) malformed_ = true;
      opened_at_ = head < 0 ? std::nullopt : std::optional<uint64_t>(head);
    } else if (f[0] == "C") {
      ++conflicts_;
    } else if (f[0] == "S" && f.size() == 5) {
      Batch b{.writer = number(1), .seq = number(2), .count = number(3), .stream = f[4]};
      // A writer submits one batch at a time: the one before must have been acknowledged.
      if (b.seq > 0 && !acked_.contains({b.writer, b.seq - 1})) {
        return absl::InternalError(absl::StrCat("submitted before the previous ack: ", Sv(line)));
      }
      submitted_[b.writer] = b;
    } else if (f[0] == "A" && f.size() == 10) {
      Ack a{.batch = {.writer = number(1), .seq = number(2), .count = number(3), .stream = f[4]},
            .first_position = number(5),
            .last_position = number(6),
            .first_version = number(7),
            .last_version = number(8),
            .idempotent_replay = number(9) != 0};
      Add(a);
      ++round_acks_;
    } else {
      malformed_ = true;
    }
    if (malformed_) return absl::InternalError(absl::StrCat("malformed record: ", Sv(line)));
    return absl::OkStatus();
  }

  void Add(const Ack& ack) { acked_[{ack.batch.writer, ack.batch.seq}] = ack; }

  void StartRound() {
    round_acks_ = 0;
    conflicts_ = 0;
    opened_at_.reset();
  }

  // Batches that were submitted and never acknowledged: in flight when the child died.
  std::vector<Batch> InFlight() const {
    std::vector<Batch> batches;
    for (const auto& [writer, batch] : submitted_) {
      if (!acked_.contains({writer, batch.seq})) batches.push_back(batch);
    }
    return batches;
  }

  bool WasInFlight(uint64_t writer, uint64_t seq) const {
    auto it = submitted_.find(writer);
    return it != submitted_.end() && it->second.seq == seq && !acked_.contains({writer, seq});
  }

  const std::map<BatchKey, Ack>& acked() const { return acked_; }
  uint64_t round_acks() const { return round_acks_; }
  uint64_t conflicts() const { return conflicts_; }
  std::optional<uint64_t> opened_at() const { return opened_at_; }

 private:
  std::map<BatchKey, Ack> acked_;
  std::map<uint64_t, Batch> submitted_;  // by writer: its last submitted batch
  uint64_t round_acks_ = 0;
  uint64_t conflicts_ = 0;
  std::optional<uint64_t> opened_at_;
  bool malformed_ = false;
};

// --- The parent: running and killing a child --------------------------------------------------

// A running child and the read end of its record pipe. Kills and reaps the child if it is still
// running when destroyed, so that a failed assertion leaves no writer behind.
class ChildWriter {
 public:
  static absl::StatusOr<std::unique_ptr<ChildWriter>> Spawn(const std::string& dir, uint64_t round) {
    std::error_code error;
    const std::string exe = std::filesystem::read_symlink("/proc/self/exe", error).string();
    if (error) return absl::InternalError(absl::StrCat("/proc/self/exe: ", error.message()));
    std::vector<std::string> args = {exe, absl::StrCat("--gtest_filter=", kChildTest),
                                     "--gtest_also_run_disabled_tests"};
    // The parent's environment, less anything that would make the child's gtest write the
    // parent's result file or shard away the child's test.
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string_view entry(*e);
      if (entry.starts_with("GTEST_") || entry.starts_with("XML_OUTPUT_FILE=") ||
          entry.starts_with("CAREHUB_CRASH_TEST_")) {
        continue;
      }
      env.emplace_back(entry);
    }
    env.push_back(absl::StrCat(kRoleEnv, "=", kWriterRole));
    env.push_back(absl::StrCat(kDirEnv, "=", dir));
    env.push_back(absl::StrCat(kRoundEnv, "=", round));
    std::vector<char*> argv, envp;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe2: errno ", errno));
    auto child = std::unique_ptr<ChildWriter>(new ChildWriter(fds[0]));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // dup2 clears close-on-exec on the copy: the child keeps only the write end, at kRecordFd.
    posix_spawn_file_actions_adddup2(&actions, fds[1], kRecordFd);
    // The child's gtest chatter; its stderr (sanitizer reports) stays visible.
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    const int spawned = ::posix_spawn(&child->pid_, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    // Only the child may hold the write end, so that its death is end-of-file here.
    ::close(fds[1]);
    if (spawned != 0) {
      child->pid_ = -1;
      return absl::InternalError(absl::StrCat("posix_spawn: errno ", spawned));
    }
    return child;
  }

  ~ChildWriter() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(read_fd_);
  }

  // Applies records to `ledger` until `enough` holds, end-of-file (returns false), or an error.
  absl::StatusOr<bool> ReadUntil(Ledger& ledger, const std::function<bool()>& enough) {
    while (!enough()) {
      pollfd readable = {.fd = read_fd_, .events = POLLIN, .revents = 0};
      const int ready = ::poll(&readable, 1, static_cast<int>(absl::ToInt64Milliseconds(kQuietLimit)));
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) return absl::InternalError(absl::StrCat("poll: errno ", errno));
      if (ready == 0) return absl::DeadlineExceededError("the child reported nothing for too long");
      char chunk[1 << 16];
      const ssize_t n = ::read(read_fd_, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return absl::InternalError(absl::StrCat("read: errno ", errno));
      if (n == 0) {
        if (!pending_.empty()) return absl::InternalError(absl::StrCat("torn record: ", pending_));
        return false;
      }
      pending_.append(chunk, n);
      size_t start = 0;
      for (size_t end; (end = pending_.find('\n', start)) != std::string::npos; start = end + 1) {
        if (absl::Status s = ledger.Apply(std::string_view(pending_).substr(start, end - start)); !s.ok()) {
          return s;
        }
      }
      pending_.erase(0, start);
    }
    return true;
  }

  // SIGKILLs the child, reads what it had reported, and reaps it.
  absl::Status KillAndDrain(Ledger& ledger) {
    ::kill(pid_, SIGKILL);
    absl::StatusOr<bool> more = ReadUntil(ledger, [] { return false; });
    if (!more.ok()) return more.status();
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
      return absl::InternalError(absl::StrCat("the child ended on its own, wait status ", status));
    }
    return absl::OkStatus();
  }

 private:
  explicit ChildWriter(int read_fd) : read_fd_(read_fd) {}

  int read_fd_;
  pid_t pid_ = -1;
  std::string pending_;  // a record whose newline has not arrived yet
};

// --- The parent: checking the recovered store -------------------------------------------------

std::string Describe(const LogHead& head) {
  if (!head.position.has_value()) return "{empty}";
  return absl::StrCat("{", *head.position, ", ", HashToHex(head.hash), "}");
}

absl::StatusOr<std::vector<RecordedEvent>> ReadWholeLog(EventStore& store) {
  std::vector<RecordedEvent> events;
  std::optional<uint64_t> next = 0;
  while (next.has_value()) {
    ReadAllRequest request;
    request.from_position = next;
    request.limit = 10000;
    absl::StatusOr<ReadAllResult> page = store.ReadAll(request);
    if (!page.ok()) return page.status();
    if (page->events.empty() && page->next_position == next) {
      return absl::InternalError(absl::StrCat("ReadAll makes no progress at ", *next));
    }
    for (RecordedEvent& event : page->events) events.push_back(std::move(event));
    next = page->next_position;
  }
  return events;
}

absl::StatusOr<std::vector<RecordedEvent>> ReadWholeStream(EventStore& store, const std::string& stream) {
  std::vector<RecordedEvent> events;
  for (;;) {
    ReadStreamRequest request;
    request.stream_id = stream;
    request.from_version = events.size();
    absl::StatusOr<std::vector<RecordedEvent>> page = store.ReadStream(request);
    if (!page.ok()) return page.status();
    if (page->empty()) return events;
    for (RecordedEvent& event : *page) events.push_back(std::move(event));
  }
}

// Problems found in a recovered log; keeps the first few for the failure message.
class Problems {
 public:
  void Add(std::string problem) {
    if (shown_.size() < 20) shown_.push_back(std::move(problem));
    ++count_;
  }
  bool empty() const { return count_ == 0; }
  std::string ToString() const {
    return absl::StrCat(count_, " problem(s):\n  ", absl::StrJoin(shown_, "\n  "));
  }

 private:
  std::vector<std::string> shown_;
  uint64_t count_ = 0;
};

bool SameContent(const RecordedEvent& stored, const ProposedEvent& proposed) {
  return stored.event_id == proposed.event_id && stored.type == proposed.type &&
         stored.data == proposed.data && stored.metadata == proposed.metadata;
}

// Where an unacknowledged, in-flight batch was found whole in the log.
struct StoredBatch {
  uint64_t first_position = 0;
  uint64_t first_version = 0;
};

// Checks the reopened store against the ledger; returns the in-flight batches it holds.
void CheckRecoveredStore(EventStore& store, const Ledger& ledger,
                         std::map<BatchKey, StoredBatch>* stored_in_flight) {
  absl::StatusOr<std::vector<RecordedEvent>> read = ReadWholeLog(store);
  ASSERT_TRUE(read.ok()) << read.status();
  const std::vector<RecordedEvent>& log = *read;
  Problems problems;

  // Gapless from 0 to the head.
  for (uint64_t p = 0; p < log.size(); ++p) {
    if (log[p].position != p) {
      problems.Add(absl::StrCat("the log's ", p, "th event has position ", log[p].position));
      break;
    }
  }
  const LogHead head = store.Head().value();
  const LogHead expected_head =
      log.empty() ? LogHead{} : LogHead{.position = log.back().position, .hash = log.back().hash};
  if (head != expected_head) {
    problems.Add(absl::StrCat("Head() is ", Describe(head), ", the log ends at ", Describe(expected_head)));
  }

  // Every acknowledged append is there, in place, with its content.
  for (const auto& [key, ack] : ledger.acked()) {
    const Batch& b = ack.batch;
    const std::string what = absl::StrCat("acknowledged batch w", b.writer, "-b", b.seq);
    if (ack.last_position - ack.first_position + 1 != b.count ||
        ack.last_version - ack.first_version + 1 != b.count || ack.idempotent_replay) {
      problems.Add(absl::StrCat(what, " was acknowledged with positions ", ack.first_position, "..",
                                ack.last_position, ", versions ", ack.first_version, "..",
                                ack.last_version, ", replay ", ack.idempotent_replay, " for ", b.count,
                                " new events"));
      continue;
    }
    if (ack.last_position >= log.size()) {
      problems.Add(absl::StrCat(what, " at positions ", ack.first_position, "..", ack.last_position,
                                " is lost: the log has ", log.size(), " events"));
      continue;
    }
    for (uint64_t i = 0; i < b.count; ++i) {
      const RecordedEvent& e = log[ack.first_position + i];
      if (e.stream_id != b.stream || e.version != ack.first_version + i ||
          !SameContent(e, ProbeEvent(b.writer, b.seq, i, b.count))) {
        problems.Add(absl::StrCat(what, ": position ", e.position, " holds ", e.event_id, " in ",
                                  e.stream_id, "@", e.version, ", not event ", i, " in ", b.stream,
                                  "@", ack.first_version + i, " with its content"));
        break;
      }
    }
  }

  // Only whole batches, each acknowledged or in flight when the child died, each once.
  std::map<BatchKey, uint64_t> seen;
  for (uint64_t p = 0; p < log.size();) {
    std::optional<EventIdParts> id = ParseEventId(log[p].event_id);
    if (!id.has_value()) {
      problems.Add(absl::StrCat("position ", p, " holds an event nobody wrote: ", log[p].event_id));
      ++p;
      continue;
    }
    // The run of consecutive events from the same batch; whole, it is exactly that batch.
    uint64_t end = p + 1;
    for (; end < log.size(); ++end) {
      std::optional<EventIdParts> next = ParseEventId(log[end].event_id);
      if (!next.has_value() || next->writer != id->writer || next->seq != id->seq) break;
    }
    bool whole = end - p == id->count;
    for (uint64_t i = 0; i < id->count && whole; ++i) {
      const RecordedEvent& e = log[p + i];
      whole = e.stream_id == log[p].stream_id && e.version == log[p].version + i &&
              SameContent(e, ProbeEvent(id->writer, id->seq, i, id->count));
    }
    if (!whole) {
      problems.Add(absl::StrCat("positions ", p, "..", end - 1, " hold ", end - p, " event(s) of batch w",
                                id->writer, "-b", id->seq, ", which has ", id->count,
                                ": not that batch, whole and in order"));
      p = end;
      continue;
    }
    const BatchKey key = {id->writer, id->seq};
    if (auto [it, inserted] = seen.emplace(key, p); !inserted) {
      problems.Add(absl::StrCat("batch w", id->writer, "-b", id->seq, " is stored at ", it->second, " and at ", p));
    } else if (!ledger.acked().contains(key)) {
      if (ledger.WasInFlight(id->writer, id->seq)) {
        (*stored_in_flight)[key] = {.first_position = p, .first_version = log[p].version};
      } else {
        problems.Add(absl::StrCat("batch w", id->writer, "-b", id->seq, " at ", p, " was never submitted"));
      }
    }
    p = end;
  }

  // Each stream's versions run 0, 1, 2, ... in log order, and the stream index agrees.
  std::map<std::string, std::vector<const RecordedEvent*>> streams;
  for (const RecordedEvent& e : log) streams[e.stream_id].push_back(&e);
  for (const auto& [stream, events] : streams) {
    for (uint64_t v = 0; v < events.size(); ++v) {
      if (events[v]->version != v) {
        problems.Add(absl::StrCat(stream, "'s event at ", events[v]->position, " has version ",
                                  events[v]->version, ", expected ", v));
        break;
      }
    }
    absl::StatusOr<uint64_t> version = store.StreamVersion(stream);
    if (!version.ok() || *version != events.size() - 1) {
      problems.Add(absl::StrCat("StreamVersion(", stream, ") is ",
                                version.ok() ? absl::StrCat(*version) : version.status().ToString(),
                                ", the log holds ", events.size(), " events"));
    }
    absl::StatusOr<std::vector<RecordedEvent>> read_stream = ReadWholeStream(store, stream);
    if (!read_stream.ok()) {
      problems.Add(absl::StrCat("ReadStream(", stream, "): ", read_stream.status().ToString()));
      continue;
    }
    bool same = read_stream->size() == events.size();
    for (uint64_t v = 0; same && v < events.size(); ++v) same = (*read_stream)[v] == *events[v];
    if (!same) {
      problems.Add(absl::StrCat("ReadStream(", stream, ") returns ", read_stream->size(),
                                " events that differ from the log's ", events.size()));
    }
  }
  ASSERT_TRUE(problems.empty()) << problems.ToString();

  // The hash chain verifies over the whole recovered log.
  absl::StatusOr<VerifyResult> verified = store.Verify(std::nullopt);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_TRUE(verified->ok) << "first bad position "
                            << verified->first_bad_position.value_or(UINT64_MAX) << ": "
                            << verified->problem;
  EXPECT_EQ(verified->events_verified, log.size());
  EXPECT_EQ(Describe(verified->head), Describe(head));
}

// Retries each batch that was in flight when the child died, as its client would after a lost
// reply: one that was stored must come back as an idempotent replay of what is stored, one that
// was not is appended now. Then appends a batch of the parent's own and checks that the chain
// extends from the recovered head.
void ContinueAfterRecovery(EventStore& store, Ledger& ledger, uint64_t round,
                           const std::map<BatchKey, StoredBatch>& stored_in_flight) {
  for (const Batch& b : ledger.InFlight()) {
    SCOPED_TRACE(absl::StrCat("retrying in-flight batch w", b.writer, "-b", b.seq));
    const LogHead before = store.Head().value();
    absl::StatusOr<AppendResult> result =
        store.Append(b.stream, ExpectedVersion::Any(), ProbeBatch(b.writer, b.seq, b.count));
    ASSERT_TRUE(result.ok()) << result.status();
    auto stored = stored_in_flight.find({b.writer, b.seq});
    if (stored != stored_in_flight.end()) {
      EXPECT_TRUE(result->idempotent_replay);
      EXPECT_EQ(result->first_position, stored->second.first_position);
      EXPECT_EQ(result->first_version, stored->second.first_version);
      EXPECT_EQ(store.Head().value(), before);
    } else {
      EXPECT_FALSE(result->idempotent_replay);
      EXPECT_EQ(result->first_position, before.position.has_value() ? *before.position + 1 : 0);
    }
    EXPECT_EQ(result->last_position - result->first_position + 1, b.count);
    // Recorded as a fresh acknowledgement of the batch where it is stored.
    ledger.Add({.batch = b,
                .first_position = result->first_position,
                .last_position = result->last_position,
                .first_version = result->first_version,
                .last_version = result->last_version,
                .idempotent_replay = false});
  }

  // A batch acknowledged before the crash, retried with a stale expectation, is a replay too:
  // the id index survived the crash.
  for (const auto& [key, ack] : ledger.acked()) {
    if (key.first / 100 != round) continue;
    absl::StatusOr<AppendResult> replay =
        store.Append(ack.batch.stream, ExpectedVersion::NoStream(),
                     ProbeBatch(ack.batch.writer, ack.batch.seq, ack.batch.count));
    ASSERT_TRUE(replay.ok()) << replay.status();
    EXPECT_TRUE(replay->idempotent_replay);
    EXPECT_EQ(replay->first_position, ack.first_position);
    EXPECT_EQ(replay->last_version, ack.last_version);
    break;
  }

  const LogHead before = store.Head().value();
  ASSERT_TRUE(before.position.has_value());
  const Batch own = {.writer = kParentWriter + round, .seq = 0, .count = 3, .stream = "parent-checks"};
  absl::StatusOr<AppendResult> result =
      store.Append(own.stream, ExpectedVersion::Any(), ProbeBatch(own.writer, own.seq, own.count));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->first_position, *before.position + 1);
  ledger.Add({.batch = own,
              .first_position = result->first_position,
              .last_position = result->last_position,
              .first_version = result->first_version,
              .last_version = result->last_version,
              .idempotent_replay = false});

  // The chain extends from the recovered head.
  absl::StatusOr<VerifyResult> verified = store.Verify(before);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_TRUE(verified->ok) << verified->problem;
  EXPECT_EQ(verified->events_verified, own.count);
  EXPECT_EQ(verified->head, store.Head().value());
}

absl::StatusOr<std::unique_ptr<EventStore>> OpenStore(const std::string& dir, bool read_only) {
  Options options;
  options.path = dir;
  options.read_only = read_only;
  return EventStore::Open(options);
}

TEST(CrashTest, AcknowledgedAppendsSurviveSigkillAndRecoveryRepeats) {
  std::string pattern = (std::filesystem::path(::testing::TempDir()) / "crash_test.XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::string dir = pattern;
  // Left in place when the test fails, for a post-mortem.
  SCOPED_TRACE(absl::StrCat("store at ", dir));
  Ledger ledger;
  std::optional<LogHead> previous_head;  // as left by the parent at the end of the last round

  for (uint64_t round = 0; round < std::size(kKillAfterAcks); ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    ledger.StartRound();
    const absl::Time started = absl::Now();
    {
      absl::StatusOr<std::unique_ptr<ChildWriter>> child = ChildWriter::Spawn(dir, round);
      ASSERT_TRUE(child.ok()) << child.status();
      absl::StatusOr<bool> running =
          (*child)->ReadUntil(ledger, [&] { return ledger.round_acks() >= kKillAfterAcks[round]; });
      ASSERT_TRUE(running.ok()) << running.status();
      ASSERT_TRUE(*running) << "the child ended after " << ledger.round_acks() << " acks";
      absl::Status killed = (*child)->KillAndDrain(ledger);
      ASSERT_TRUE(killed.ok()) << killed;
    }
    // The child opened the store where the parent had left it.
    EXPECT_EQ(ledger.opened_at(), previous_head.has_value() ? previous_head->position : std::nullopt);

    // First as an audit tool would look at the crashed hub's data, then as the restarted hub.
    LogHead audited_head;
    {
      absl::StatusOr<std::unique_ptr<EventStore>> auditor = OpenStore(dir, /*read_only=*/true);
      ASSERT_TRUE(auditor.ok()) << auditor.status();
      std::map<BatchKey, StoredBatch> ignored;
      ASSERT_NO_FATAL_FAILURE(CheckRecoveredStore(**auditor, ledger, &ignored));
      audited_head = (*auditor)->Head().value();
    }
    absl::StatusOr<std::unique_ptr<EventStore>> store = OpenStore(dir, /*read_only=*/false);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ(Describe((*store)->Head().value()), Describe(audited_head));
    std::map<BatchKey, StoredBatch> stored_in_flight;
    ASSERT_NO_FATAL_FAILURE(CheckRecoveredStore(**store, ledger, &stored_in_flight));
    if (previous_head.has_value()) {
      // An auditor's head from before the crash still anchors the recovered chain.
      absl::StatusOr<VerifyResult> verified = (*store)->Verify(previous_head);
      ASSERT_TRUE(verified.ok()) << verified.status();
      EXPECT_TRUE(verified->ok) << verified->problem;
    }
    const std::vector<Batch> in_flight = ledger.InFlight();
    ASSERT_NO_FATAL_FAILURE(ContinueAfterRecovery(**store, ledger, round, stored_in_flight));
    previous_head = (*store)->Head().value();
    LOG_INFO("crash_test.round")
        .Kv("round", round)
        .Kv("acks", ledger.round_acks())
        .Kv("conflicts_retried", ledger.conflicts())
        .Kv("in_flight", in_flight.size())
        .Kv("in_flight_stored", stored_in_flight.size())
        .Kv("head", previous_head->position.value_or(0))
        .Kv("seconds", absl::ToDoubleSeconds(absl::Now() - started));
  }

  // A clean close and reopen after the last recovery loses nothing either.
  absl::StatusOr<std::unique_ptr<EventStore>> store = OpenStore(dir, /*read_only=*/false);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Head().value(), previous_head);
  std::map<BatchKey, StoredBatch> stored_in_flight;
  ASSERT_NO_FATAL_FAILURE(CheckRecoveredStore(**store, ledger, &stored_in_flight));
  EXPECT_TRUE(stored_in_flight.empty());
  store->reset();
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace carehub::eventstore
