// A failed write: the disk starts refusing to sync the write-ahead log while many threads append.
// Every append acknowledged before is kept, every append that was not written is answered with an
// error (never acknowledged), the store's later decisions do not build on the failed group, and
// after a restart on a healthy disk the log is gapless, verifies, and each failed append is either
// whole or absent, so that its client's retry (same ids) replays it or writes it once.
//
// The fault is injected below RocksDB: a FileSystem whose WAL files fail Sync/Fsync on demand, as
// an ext4 file system does after an I/O error on the device (EIO from fdatasync).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "carehub/eventstore/event_store.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace carehub::eventstore {
namespace {

class FailingSyncFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FailingSyncFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

  static const char* kClassName() { return "FailingSyncFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, file, dbg);
    if (s.ok() && absl::EndsWith(name, ".log")) {
      *file = std::make_unique<Wal>(std::move(*file), this);
    }
    return s;
  }

  void set_failing(bool failing) { failing_ = failing; }
  int failed_syncs() const { return failed_syncs_; }

 private:
  class Wal : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    Wal(std::unique_ptr<rocksdb::FSWritableFile> file, FailingSyncFileSystem* fs)
        : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
      if (fs_->Fail()) return rocksdb::IOStatus::IOError("injected: fdatasync failed");
      return target()->Sync(options, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* dbg) override {
      if (fs_->Fail()) return rocksdb::IOStatus::IOError("injected: fsync failed");
      return target()->Fsync(options, dbg);
    }

   private:
    FailingSyncFileSystem* const fs_;
  };

  bool Fail() {
    if (!failing_) return false;
    ++failed_syncs_;
    return true;
  }

  std::atomic<bool> failing_{false};
  std::atomic<int> failed_syncs_{0};
};

struct Attempt {
  std::string stream;
  std::vector<ProposedEvent> events;
  absl::Status status;
  AppendResult result;
};

std::vector<RecordedEvent> ReadAll(EventStore& store) {
  std::vector<RecordedEvent> all;
  uint64_t from = 0;
  for (;;) {
    absl::StatusOr<ReadAllResult> r = store.ReadAll({.from_position = from, .limit = 10000});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return all;
    for (RecordedEvent& e : r->events) all.push_back(std::move(e));
    if (!r->next_position.has_value()) return all;
    from = *r->next_position;
  }
}

TEST(EventStoreWriteFailure, NothingAcknowledgedIsLostAndNothingFailedIsHalfWritten) {
  char pattern[] = "/tmp/carehub-write-failure-XXXXXX";
  const std::string dir = ::mkdtemp(pattern);
  const std::string path = dir + "/log";
  auto fs = std::make_shared<FailingSyncFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);

  std::vector<Attempt> attempts;
  absl::Mutex mu;
  {
    absl::StatusOr<std::unique_ptr<EventStore>> opened =
        EventStore::Open({.path = path, .env = env.get()});
    ASSERT_TRUE(opened.ok()) << opened.status();
    EventStore& store = **opened;

    // Writers append two-event batches to streams of their own until told to stop; the disk
    // starts failing once some appends have been acknowledged.
    constexpr int kWriters = 16;
    std::atomic<bool> stop{false};
    std::atomic<int> acknowledged{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; !stop; ++i) {
          Attempt a;
          a.stream = absl::StrCat("s-", w);
          for (int k = 0; k < 2; ++k) {
            a.events.push_back({.event_id = absl::StrCat("w", w, "-", i, "-", k),
                                .type = "test.Happened",
                                .data = absl::StrCat("payload ", w, " ", i, " ", k),
                                .metadata = "m"});
          }
          absl::StatusOr<AppendResult> r = store.Append(a.stream, ExpectedVersion::Any(), a.events);
          a.status = r.status();
          if (r.ok()) {
            a.result = *r;
            ++acknowledged;
          } else {
            ++failed;
          }
          absl::MutexLock lock(&mu);
          attempts.push_back(std::move(a));
        }
      });
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (acknowledged < 500 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
    fs->set_failing(true);
    while (failed < 50 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
    stop = true;
    for (std::thread& t : writers) t.join();
    ASSERT_GE(acknowledged, 500);
    ASSERT_GE(failed, 50);
    EXPECT_GT(fs->failed_syncs(), 0);

    // Failures are reported as the storage engine's, and the store does not pretend otherwise:
    // while the disk fails, an append is not acknowledged.
    for (const Attempt& a : attempts) {
      if (!a.status.ok()) {
        EXPECT_EQ(a.status.code(), absl::StatusCode::kInternal) << a.status;
      }
    }
    auto append_late = [&store] {
      return store.Append(
          "s-late", ExpectedVersion::Any(),
          {{.event_id = "late", .type = "test.Happened", .data = "x", .metadata = "m"}});
    };
    EXPECT_FALSE(append_late().ok());
    // Nor once the disk answers again: after a failed fdatasync the state of the unsynced bytes
    // is unknown (the kernel may have dropped them), so the store stops writing until a restart
    // recovers from what the WAL really holds. Writing on at the failed group's positions could
    // otherwise meet the failed group again at recovery.
    fs->set_failing(false);
    EXPECT_FALSE(append_late().ok());

    // What the running store serves holds every acknowledged append.
    std::vector<RecordedEvent> live = ReadAll(store);
    std::map<std::string, uint64_t> live_positions;
    for (const RecordedEvent& e : live) live_positions[e.event_id] = e.position;
    for (const Attempt& a : attempts) {
      if (!a.status.ok()) continue;
      for (size_t k = 0; k < a.events.size(); ++k) {
        auto it = live_positions.find(a.events[k].event_id);
        ASSERT_NE(it, live_positions.end()) << a.events[k].event_id;
        EXPECT_EQ(it->second, a.result.first_position + k);
      }
    }
  }

  // A restart on a healthy disk.
  absl::StatusOr<std::unique_ptr<EventStore>> reopened = EventStore::Open({.path = path});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EventStore& store = **reopened;
  std::vector<RecordedEvent> all = ReadAll(store);
  std::map<std::string, const RecordedEvent*> by_id;
  std::map<std::string, uint64_t> next_version;
  for (size_t p = 0; p < all.size(); ++p) {
    const RecordedEvent& e = all[p];
    ASSERT_EQ(e.position, p) << "a gap in the log";
    ASSERT_TRUE(by_id.emplace(e.event_id, &e).second) << "written twice: " << e.event_id;
    EXPECT_EQ(e.version, next_version[e.stream_id]++) << e.stream_id;
  }
  absl::StatusOr<VerifyResult> verified = store.Verify(std::nullopt);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_TRUE(verified->ok) << verified->problem;
  EXPECT_EQ(verified->events_verified, all.size());

  int present_failed = 0;
  for (const Attempt& a : attempts) {
    int present = 0;
    for (const ProposedEvent& e : a.events) {
      auto it = by_id.find(e.event_id);
      if (it == by_id.end()) continue;
      ++present;
      EXPECT_EQ(it->second->data, e.data);
    }
    if (a.status.ok()) {
      EXPECT_EQ(present, 2) << "an acknowledged append was lost";
      EXPECT_EQ(by_id[a.events[0].event_id]->position, a.result.first_position);
    } else {
      EXPECT_TRUE(present == 0 || present == 2) << "half of a failed append was written";
      if (present == 2) ++present_failed;
      // The client retries; a stored append replays, an absent one is written once.
      absl::StatusOr<AppendResult> retry = store.Append(a.stream, ExpectedVersion::Any(), a.events);
      ASSERT_TRUE(retry.ok()) << retry.status();
      EXPECT_EQ(retry->idempotent_replay, present == 2);
      if (present == 2) {
        EXPECT_EQ(retry->first_position, by_id[a.events[0].event_id]->position);
      }
    }
  }
  std::printf("acknowledged and failed appends: %zu; failed but written before the sync "
              "failed: %d\n",
              attempts.size(), present_failed);
  verified = store.Verify(std::nullopt);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_TRUE(verified->ok) << verified->problem;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace carehub::eventstore
