// The event store's write-ahead log is zero-filled ahead of its appends
// (internal/zero_filled_wal.h): the zeros are really there, a clean close trims them, and a log
// left with them, as a crash leaves it, opens with every synced append and goes on.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/services/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace carehub::eventstore {
namespace {

namespace fs = std::filesystem;
using ::carehub::services::testing::TempDir;

// The write-ahead logs (RocksDB's *.log files) under `dir`.
std::vector<fs::path> Wals(const std::string& dir) {
  std::vector<fs::path> wals;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") wals.push_back(entry.path());
  }
  return wals;
}

std::string Contents(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::unique_ptr<EventStore> OpenStore(const std::string& path) {
  absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::Open({.path = path});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

void AppendEvents(EventStore& store, int from, int count) {
  for (int i = from; i < from + count; ++i) {
    absl::StatusOr<AppendResult> r = store.Append(
        absl::StrCat("stream-", i % 7), ExpectedVersion::Any(),
        {ProposedEvent{.event_id = absl::StrCat("event-", i), .type = "test.Happened",
                       .data = std::string(300, 'a' + i % 26)}});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->first_position, static_cast<uint64_t>(i));
  }
}

void ExpectEvents(EventStore& store, int count) {
  absl::StatusOr<ReadAllResult> all = store.ReadAll({.from_position = 0, .limit = 1000});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->events.size(), static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(all->events[i].event_id, absl::StrCat("event-", i));
    EXPECT_EQ(all->events[i].data, std::string(300, 'a' + i % 26));
  }
  absl::StatusOr<VerifyResult> verify = store.Verify(std::nullopt);
  ASSERT_TRUE(verify.ok()) << verify.status();
  EXPECT_TRUE(verify->ok) << verify->problem;
  EXPECT_EQ(verify->events_verified, static_cast<uint64_t>(count));
}

TEST(ZeroFilledWalTest, TheLogIsZeroFilledAheadOfItsAppendsAndTrimmedOnClose) {
  TempDir dir;
  const std::string path = dir.File("log");
  std::unique_ptr<EventStore> store = OpenStore(path);
  ASSERT_NE(store, nullptr);
  AppendEvents(*store, 0, 50);

  std::vector<fs::path> wals = Wals(path);
  ASSERT_EQ(wals.size(), 1u);
  const std::string open_wal = Contents(wals[0]);
  const size_t last_written = open_wal.find_last_not_of('\0');
  ASSERT_NE(last_written, std::string::npos);
  EXPECT_GT(last_written, 50u * 300u);  // the appends are in it
  EXPECT_GE(open_wal.size() - last_written, size_t{1} << 20) << "zeros ahead of the log";

  store.reset();
  wals = Wals(path);
  ASSERT_EQ(wals.size(), 1u);
  // A closed log ends where its records end: what the open one held before its zeros.
  const std::string closed_wal = Contents(wals[0]);
  EXPECT_GT(closed_wal.size(), last_written);
  EXPECT_LT(closed_wal.size(), last_written + 4096);
  EXPECT_EQ(closed_wal, open_wal.substr(0, closed_wal.size()));

  store = OpenStore(path);
  ASSERT_NE(store, nullptr);
  ExpectEvents(*store, 50);
}

TEST(ZeroFilledWalTest, ALogLeftWithItsZerosKeepsEverySyncedAppendAndGoesOn) {
  TempDir dir;
  const std::string path = dir.File("log");
  const std::string crashed = dir.File("crashed");
  {
    std::unique_ptr<EventStore> store = OpenStore(path);
    ASSERT_NE(store, nullptr);
    AppendEvents(*store, 0, 200);
    // Every append above was acknowledged after its sync: the files as they are now are what a
    // crash would leave, zeros after the last record included.
    fs::copy(path, crashed, fs::copy_options::recursive);
  }
  std::vector<fs::path> wals = Wals(crashed);
  ASSERT_FALSE(wals.empty());
  ASSERT_EQ(Contents(wals.back()).back(), '\0') << "the copy must end in zeros to test them";

  {
    // As the audit tools open a stopped hub's log.
    absl::StatusOr<std::unique_ptr<EventStore>> read_only =
        EventStore::Open({.path = crashed, .read_only = true});
    ASSERT_TRUE(read_only.ok()) << read_only.status();
    ExpectEvents(**read_only, 200);
  }
  std::unique_ptr<EventStore> store = OpenStore(crashed);
  ASSERT_NE(store, nullptr);
  ExpectEvents(*store, 200);
  AppendEvents(*store, 200, 100);
  store.reset();
  store = OpenStore(crashed);
  ASSERT_NE(store, nullptr);
  ExpectEvents(*store, 300);
}

}  // namespace
}  // namespace carehub::eventstore
