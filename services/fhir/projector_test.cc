// FhirProjector: live projection, skipping foreign events, clean stop, and resumption after a
// projector stopped mid-stream or SIGKILLed mid-stream: the read model is always exactly the
// projection of a prefix of the log (byte for byte what a fresh rebuild of that prefix gives),
// and after resuming exactly the projection of the whole log.
//
// The killed projector runs in a child process: this binary again (posix_spawn of
// /proc/self/exe) with a filter selecting ProjectorCrashChild.DISABLED_ProjectUntilKilled, which
// reports each applied checkpoint on a pipe.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/fhir/read_model.h"
#include "carehub/services/fhir_http_main.h"
#include "carehub/services/fhir_projector.h"
#include "carehub/services/testing/temp_dir.h"
#include "eventstore/testing/forwarding_store.h"
#include "fhir/testing/care_events.h"
#include "gtest/gtest.h"

extern char** environ;

namespace carehub::services {
namespace {

using fhir::ReadModel;
using fhir::testing::ScenarioLog;
using fhir::testing::ScenarioStart;
using testing::TempDir;

constexpr char kChildDirEnv[] = "CAREHUB_FHIR_CRASH_DIR";
constexpr char kChildTest[] = "ProjectorCrashChild.DISABLED_ProjectUntilKilled";
constexpr int kRecordFd = 100;
constexpr absl::Duration kWait = absl::Seconds(120);

std::unique_ptr<ReadModel> OpenModel(const std::string& path) {
  auto model = ReadModel::Open({.path = path});
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *std::move(model) : nullptr;
}

std::string PatientId(int i) { return absl::StrCat("0000", i, "-4c1b-9a0e-patient"); }

// A log of `patients` Märta stories, one Append per patient, with a foreign event between each.
absl::StatusOr<uint64_t> BuildLog(ScenarioLog& log, int patients) {
  for (int i = 0; i < patients; ++i) {
    absl::Status s = log.AppendBatch(fhir::testing::MartaScenario(PatientId(i), ScenarioStart()));
    if (!s.ok()) return s;
    auto foreign = log.AppendForeign("audit-1", "carehub.audit.v1.Exported");
    if (!foreign.ok()) return foreign.status();
  }
  return eventstore::LogEnd(log.store()).value();
}

// `model` must equal a fresh rebuild of the log up to its checkpoint, byte for byte.
void ExpectEqualsRebuildOfPrefix(eventstore::EventStore& store, ReadModel& model,
                                 const std::string& scratch) {
  auto checkpoint = model.Checkpoint();
  ASSERT_TRUE(checkpoint.ok());
  auto versions = fhir::testing::CheckVersionsAndProvenance(model);
  ASSERT_TRUE(versions.ok()) << versions.status();
  std::unique_ptr<ReadModel> fresh = OpenModel(scratch);
  ASSERT_NE(fresh, nullptr);
  ASSERT_TRUE(fhir::testing::ProjectLog(store, *fresh, *checkpoint).ok());
  EXPECT_EQ(*fresh->Checkpoint(), *checkpoint);
  auto a = fhir::testing::AllVersions(model);
  auto b = fhir::testing::AllVersions(*fresh);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), *versions);
  EXPECT_TRUE(*a == *b) << "the read model differs from a rebuild of positions 0.." << *checkpoint;
}

class FhirProjectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = ScenarioLog::Open(dir_.File("log"));
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    model_ = OpenModel(dir_.File("fhir"));
    ASSERT_NE(model_, nullptr);
  }

  TempDir dir_;
  std::unique_ptr<ScenarioLog> log_;
  std::unique_ptr<ReadModel> model_;
};

TEST_F(FhirProjectorTest, ProjectsLiveEventsAndStopsCleanly) {
  FhirProjector projector(&log_->store(), model_.get());
  ASSERT_TRUE(projector.Start().ok());
  EXPECT_EQ(projector.Start().code(), absl::StatusCode::kFailedPrecondition);
  auto head = BuildLog(*log_, 2);  // appended while the projector waits live
  ASSERT_TRUE(head.ok()) << head.status();
  ASSERT_TRUE(projector.WaitForCheckpoint(*head, kWait).ok());
  projector.Stop();
  projector.Stop();
  EXPECT_TRUE(projector.status().ok()) << projector.status();
  EXPECT_FALSE(projector.running());
  EXPECT_EQ(*model_->Checkpoint(), *head);
  const std::string plan = fhir::ResourceId("CarePlan", absl::StrCat(PatientId(1), "-plan"));
  EXPECT_TRUE(model_->Read("CarePlan", plan).ok());
  ExpectEqualsRebuildOfPrefix(log_->store(), *model_, dir_.File("rebuild"));
}

// A store whose head cannot be read, as a remote log that does not answer.
class UnreachableHead : public eventstore::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  absl::StatusOr<eventstore::LogHead> Head() override {
    return absl::UnavailableError("the event log does not answer (test)");
  }
};

TEST_F(FhirProjectorTest, HealthIsReadyOnlyWhenTheLogsEndIsKnownAndReached) {
  FhirProjector projector(&log_->store(), model_.get());
  ASSERT_TRUE(projector.Start().ok());
  auto head = BuildLog(*log_, 1);
  ASSERT_TRUE(head.ok()) << head.status();
  ASSERT_TRUE(projector.WaitForCheckpoint(*head, kWait).ok());
  const FhirHealth reached = ProjectorHealth(projector, log_->store());
  EXPECT_TRUE(reached.ready) << reached.detail;
  EXPECT_EQ(reached.log_end, std::optional<uint64_t>(*head));
  // Whether the model is current cannot be told without the log's end: not ready.
  UnreachableHead unreachable(&log_->store());
  const FhirHealth unknown = ProjectorHealth(projector, unreachable);
  EXPECT_FALSE(unknown.ready);
  EXPECT_FALSE(unknown.log_end.has_value());
  EXPECT_NE(unknown.detail.find("the event log cannot be reached"), std::string::npos)
      << unknown.detail;
  projector.Stop();
}

TEST_F(FhirProjectorTest, StoppedMidStreamResumesAtTheCheckpoint) {
  auto head = BuildLog(*log_, 3);
  ASSERT_TRUE(head.ok()) << head.status();
  {
    FhirProjector::Options options;
    options.stop_after_events = 37;
    options.max_batch = 16;
    FhirProjector first(&log_->store(), model_.get(), options);
    ASSERT_TRUE(first.Start().ok());
    EXPECT_EQ(first.WaitForCheckpoint(*head, kWait).code(), absl::StatusCode::kCancelled);
    EXPECT_EQ(first.checkpoint(), 37u);
  }
  ExpectEqualsRebuildOfPrefix(log_->store(), *model_, dir_.File("prefix"));
  FhirProjector second(&log_->store(), model_.get());
  ASSERT_TRUE(second.Start().ok());
  ASSERT_TRUE(second.WaitForCheckpoint(*head, kWait).ok());
  second.Stop();
  ExpectEqualsRebuildOfPrefix(log_->store(), *model_, dir_.File("whole"));
}

TEST_F(FhirProjectorTest, ALongCatchUpEndsWithACompactionOfTheModel) {
  auto head = BuildLog(*log_, 3);
  ASSERT_TRUE(head.ok()) << head.status();
  {
    // Shorter than the threshold: no compaction is due.
    FhirProjector::Options options;
    options.compact_after_catch_up = *head + 1;
    FhirProjector projector(&log_->store(), model_.get(), options);
    ASSERT_TRUE(projector.Start().ok());
    ASSERT_TRUE(projector.WaitForCheckpoint(*head, kWait).ok());
    EXPECT_TRUE(projector.WaitForCompaction(absl::ZeroDuration()).ok());
    EXPECT_FALSE(*model_->CompactionDue());
  }
  model_.reset();
  std::filesystem::remove_all(dir_.File("fhir"));
  model_ = OpenModel(dir_.File("fhir"));
  ASSERT_NE(model_, nullptr);
  {
    // Stopped in the middle of a catch-up long enough to compact after: the mark is kept.
    FhirProjector::Options options;
    options.compact_after_catch_up = 10;
    options.max_batch = 4;
    options.stop_after_events = 20;
    FhirProjector first(&log_->store(), model_.get(), options);
    ASSERT_TRUE(first.Start().ok());
    EXPECT_EQ(first.WaitForCheckpoint(*head, kWait).code(), absl::StatusCode::kCancelled);
    EXPECT_EQ(first.WaitForCompaction(kWait).code(), absl::StatusCode::kCancelled);
  }
  EXPECT_TRUE(*model_->CompactionDue());
  // The next start catches up (by less than its threshold) and compacts all the same.
  FhirProjector second(&log_->store(), model_.get());
  ASSERT_TRUE(second.Start().ok());
  ASSERT_TRUE(second.WaitForCheckpoint(*head, kWait).ok());
  ASSERT_TRUE(second.WaitForCompaction(kWait).ok());
  EXPECT_FALSE(*model_->CompactionDue());
  // Live events after it are projected as before.
  ASSERT_TRUE(log_->AppendBatch(fhir::testing::MartaScenario(PatientId(7), ScenarioStart())).ok());
  auto more = eventstore::LogEnd(log_->store());
  ASSERT_TRUE(more.ok() && *more > *head + 1);
  ASSERT_TRUE(second.WaitForCheckpoint(*more, kWait).ok());
  second.Stop();
  ExpectEqualsRebuildOfPrefix(log_->store(), *model_, dir_.File("rebuild"));
  // A mark left by a stop during the compaction itself: the next start, already caught up and
  // with no new event, compacts.
  ASSERT_TRUE(model_->MarkCompactionDue().ok());
  FhirProjector::Options idle;
  idle.idle_wait = absl::Milliseconds(50);
  FhirProjector third(&log_->store(), model_.get(), idle);
  ASSERT_TRUE(third.Start().ok());
  ASSERT_TRUE(third.WaitForCompaction(kWait).ok());
  EXPECT_FALSE(*model_->CompactionDue());
}

// The read model's background writes are capped while the projector is live, and not while it
// catches up (a rebuild must not be slowed down) or compacts after a catch-up; a burst of live
// events is not a catch-up.
TEST_F(FhirProjectorTest, CapsTheModelsBackgroundWritesOnlyWhileLive) {
  auto head = BuildLog(*log_, 3);
  ASSERT_TRUE(head.ok()) << head.status();
  ASSERT_GT(*head, 8u);
  constexpr int64_t kCap = int64_t{5} << 20;
  FhirProjector::Options options;
  options.live_background_write_limit = kCap;
  options.max_batch = 1;  // one event per batch: every batch but the last is behind the log
  options.catch_up_events = 1;
  options.idle_wait = absl::Milliseconds(50);
  options.compact_after_catch_up = 0;
  absl::Mutex mu;
  std::vector<std::pair<uint64_t, int64_t>> seen;  // (checkpoint, cap) as each event is applied
  options.on_applied = [&](uint64_t checkpoint) {
    absl::MutexLock lock(&mu);
    seen.emplace_back(checkpoint, model_->BackgroundWriteLimit());
  };
  model_->LimitBackgroundWrites(kCap);  // as a projector stopped while live leaves it
  FhirProjector projector(&log_->store(), model_.get(), options);
  ASSERT_TRUE(projector.Start().ok());
  // Set as the projector reaches the head: with the last event, or at the idle wait after it.
  auto capped_soon = [&] {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (model_->BackgroundWriteLimit() != kCap && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    return model_->BackgroundWriteLimit() == kCap;
  };
  ASSERT_TRUE(projector.WaitForCheckpoint(*head, kWait).ok());
  EXPECT_TRUE(capped_soon());
  projector.Stop();  // after the last on_applied, which may follow WaitForCheckpoint
  // When event k was applied, the projector was at most one batch further, still behind.
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(seen.size(), *head);
    for (const auto& [checkpoint, cap] : seen) {
      if (checkpoint + 2 < *head) {
        EXPECT_EQ(cap, 0) << "at checkpoint " << checkpoint;
      }
    }
  }
  // With a threshold above it, an append of several events, projected one by one, is a burst:
  // each is applied under the cap.
  {
    absl::MutexLock lock(&mu);
    seen.clear();
  }
  options.catch_up_events = 1'000;
  FhirProjector live(&log_->store(), model_.get(), options);
  ASSERT_TRUE(live.Start().ok());
  ASSERT_TRUE(live.WaitForCheckpoint(*head, kWait).ok());
  ASSERT_TRUE(log_->AppendBatch(fhir::testing::MartaScenario(PatientId(8), ScenarioStart())).ok());
  auto more = eventstore::LogEnd(log_->store());
  ASSERT_TRUE(more.ok() && *more > *head + 4);
  ASSERT_TRUE(live.WaitForCheckpoint(*more, kWait).ok());
  live.Stop();
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(seen.size(), *more - *head);
    for (const auto& [checkpoint, cap] : seen) {
      EXPECT_EQ(cap, kCap) << "at checkpoint " << checkpoint;
    }
  }
  // The model works under a cap: a compaction of all of it finishes.
  ASSERT_TRUE(model_->Compact(nullptr).ok());
  model_->LimitBackgroundWrites(0);
  EXPECT_EQ(model_->BackgroundWriteLimit(), 0);
  ExpectEqualsRebuildOfPrefix(log_->store(), *model_, dir_.File("rebuild"));
}

// --- The killed projector -----------------------------------------------------------------------

TEST(ProjectorCrashChild, DISABLED_ProjectUntilKilled) {
  const char* dir = std::getenv(kChildDirEnv);
  ASSERT_NE(dir, nullptr);
  auto store = eventstore::EventStore::Open({.path = absl::StrCat(dir, "/log")});
  ASSERT_TRUE(store.ok()) << store.status();
  std::unique_ptr<ReadModel> model = OpenModel(absl::StrCat(dir, "/fhir"));
  ASSERT_NE(model, nullptr);
  FhirProjector::Options options;
  options.max_batch = 8;
  options.on_applied = [](uint64_t checkpoint) {
    const std::string line = absl::StrCat(checkpoint, "\n");
    (void)!::write(kRecordFd, line.data(), line.size());
  };
  FhirProjector projector(store->get(), model.get(), options);
  ASSERT_TRUE(projector.Start().ok());
  // Until killed: the parent kills long before the head.
  EXPECT_TRUE(projector.WaitForCheckpoint(eventstore::LogEnd(**store).value(), kWait).ok());
}

// Spawns the child, returns its pid and the read end of its record pipe.
absl::StatusOr<std::pair<pid_t, int>> SpawnChild(const std::string& dir) {
  std::error_code error;
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe", error).string();
  if (error) return absl::InternalError(error.message());
  std::vector<std::string> args = {exe, absl::StrCat("--gtest_filter=", kChildTest),
                                   "--gtest_also_run_disabled_tests"};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with("GTEST_") || entry.starts_with("XML_OUTPUT_FILE=")) continue;
    env.emplace_back(entry);
  }
  env.push_back(absl::StrCat(kChildDirEnv, "=", dir));
  std::vector<char*> argv, envp;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe2");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], kRecordFd);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (spawned != 0) {
    ::close(fds[0]);
    return absl::InternalError(absl::StrCat("posix_spawn: errno ", spawned));
  }
  return std::make_pair(pid, fds[0]);
}

// Reads checkpoints from the child until one reaches `kill_at`; returns the last one read.
absl::StatusOr<uint64_t> ReadUntil(int fd, uint64_t kill_at) {
  std::string pending;
  uint64_t last = 0;
  while (last < kill_at) {
    pollfd readable = {.fd = fd, .events = POLLIN, .revents = 0};
    const int ready = ::poll(&readable, 1, static_cast<int>(absl::ToInt64Milliseconds(kWait)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return absl::DeadlineExceededError("the child reported nothing");
    char chunk[4096];
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::InternalError("the child ended before it was killed");
    pending.append(chunk, n);
    size_t start = 0;
    for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
      if (!absl::SimpleAtoi(pending.substr(start, end - start), &last)) {
        return absl::InternalError("malformed record");
      }
    }
    pending.erase(0, start);
  }
  return last;
}

TEST(FhirProjectorCrashTest, KilledMidStreamResumesWithoutHalfOrDoubleApply) {
  TempDir dir;
  uint64_t head = 0;
  {
    auto log = ScenarioLog::Open(dir.File("log"));
    ASSERT_TRUE(log.ok()) << log.status();
    auto built = BuildLog(**log, 20);
    ASSERT_TRUE(built.ok()) << built.status();
    head = *built;
  }  // closed, so that the child can open it
  // Two rounds on the same read model: a model recovered from a kill is killed again.
  uint64_t reported = 0;
  for (uint64_t kill_at : {150u, 420u}) {
    auto child = SpawnChild(dir.path());
    ASSERT_TRUE(child.ok()) << child.status();
    auto [pid, fd] = *child;
    absl::StatusOr<uint64_t> last = ReadUntil(fd, kill_at);
    ::kill(pid, SIGKILL);
    int wait_status = 0;
    ::waitpid(pid, &wait_status, 0);
    ::close(fd);
    ASSERT_TRUE(last.ok()) << last.status();
    EXPECT_TRUE(WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGKILL);
    ASSERT_LT(*last, head) << "the child finished before it was killed: no crash tested";
    reported = *last;
    auto store = eventstore::EventStore::Open({.path = dir.File("log")});
    ASSERT_TRUE(store.ok()) << store.status();
    std::unique_ptr<ReadModel> model = OpenModel(dir.File("fhir"));
    ASSERT_NE(model, nullptr);
    // Everything acknowledged survived (each Apply was synced), maybe one more event.
    EXPECT_GE(*model->Checkpoint(), reported);
    ExpectEqualsRebuildOfPrefix(**store, *model, dir.File(absl::StrCat("prefix-", kill_at)));
  }
  auto store = eventstore::EventStore::Open({.path = dir.File("log")});
  ASSERT_TRUE(store.ok());
  std::unique_ptr<ReadModel> model = OpenModel(dir.File("fhir"));
  ASSERT_NE(model, nullptr);
  FhirProjector projector(store->get(), model.get());
  ASSERT_TRUE(projector.Start().ok());
  ASSERT_TRUE(projector.WaitForCheckpoint(head, kWait).ok());
  projector.Stop();
  ExpectEqualsRebuildOfPrefix(**store, *model, dir.File("whole"));
}

}  // namespace
}  // namespace carehub::services
