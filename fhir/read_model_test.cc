// ReadModel: key layout round trips, history order, checkpoint rules, persistence across reopen,
// the current version stored once, the compaction after a bulk load.
#include "carehub/fhir/read_model.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/services/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"

namespace carehub::fhir {
namespace {

using services::testing::TempDir;

std::string Body(const std::string& type, const std::string& id, uint64_t version) {
  return absl::StrCat(R"({"resourceType":")", type, R"(","id":")", id, R"(","meta":{"versionId":")",
                      version, R"("}})");
}

ProjectionOutput Write(const std::string& type, const std::string& id, uint64_t version) {
  ProjectionOutput out;
  out.resources.push_back({type, id, version, Body(type, id, version)});
  return out;
}

std::unique_ptr<ReadModel> OpenModel(const std::string& path) {
  auto model = ReadModel::Open({.path = path});
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *std::move(model) : nullptr;
}

// The model's database opened read-only with plain RocksDB, to look at what is on disk.
class RawModel {
 public:
  explicit RawModel(const std::string& path) {
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names_).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names_) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s =
        rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, families, &handles_, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(raw);
  }
  ~RawModel() {
    for (rocksdb::ColumnFamilyHandle* h : handles_) db_->DestroyColumnFamilyHandle(h);
  }

  rocksdb::DB& db() { return *db_; }
  rocksdb::ColumnFamilyHandle* family(const std::string& name) const {
    for (size_t i = 0; i < names_.size() && i < handles_.size(); ++i) {
      if (names_[i] == name) return handles_[i];
    }
    return nullptr;
  }

 private:
  std::vector<std::string> names_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

TEST(ReadModelTest, ReadVReadHistoryAndListByType) {
  TempDir dir;
  std::unique_ptr<ReadModel> model = OpenModel(dir.path());
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(*model->Checkpoint(), 0u);
  ASSERT_TRUE(model->Apply(Write("CarePlan", "aa", 1), 1).ok());
  ASSERT_TRUE(model->Apply(Write("CarePlan", "aa", 2), 2).ok());
  ASSERT_TRUE(model->Apply(Write("CarePlan", "bb", 1), 3).ok());
  // A type whose name has another as prefix must not leak into its listing.
  ASSERT_TRUE(model->Apply(Write("CarePlanX", "cc", 1), 4).ok());
  ProjectionOutput state;
  state.state.emplace_back("activity/x", "plan	1");
  ASSERT_TRUE(model->Apply(state, 5).ok());

  EXPECT_EQ(*model->Read("CarePlan", "aa"), Body("CarePlan", "aa", 2));
  EXPECT_EQ(*model->VRead("CarePlan", "aa", 1), Body("CarePlan", "aa", 1));
  EXPECT_EQ(model->VRead("CarePlan", "aa", 3).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(model->Read("CarePlan", "zz").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*model->History("CarePlan", "aa"),
            (std::vector<std::string>{Body("CarePlan", "aa", 2), Body("CarePlan", "aa", 1)}));
  EXPECT_EQ(*model->ListByType("CarePlan"),
            (std::vector<std::string>{Body("CarePlan", "aa", 2), Body("CarePlan", "bb", 1)}));
  EXPECT_EQ(**model->State("activity/x"), "plan\t1");
  EXPECT_FALSE(model->State("activity/y")->has_value());
  EXPECT_EQ(*model->Checkpoint(), 5u);
}

TEST(ReadModelTest, VersionKeysSortNumerically) {
  TempDir dir;
  std::unique_ptr<ReadModel> model = OpenModel(dir.path());
  ASSERT_NE(model, nullptr);
  for (uint64_t v = 1; v <= 300; ++v) ASSERT_TRUE(model->Apply(Write("Task", "t", v), v).ok());
  auto history = model->History("Task", "t");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 300u);
  EXPECT_EQ(history->front(), Body("Task", "t", 300));
  EXPECT_EQ(history->back(), Body("Task", "t", 1));
}

// Reverse scans start at the end of their prefix, with keys of the family on both sides of it:
// ids that extend another ("aa", "aa0"), a type whose name extends another ("CarePlanX").
TEST(ReadModelTest, ScansStayWithinTheirPrefixBothWays) {
  TempDir dir;
  std::unique_ptr<ReadModel> model = OpenModel(dir.path());
  ASSERT_NE(model, nullptr);
  uint64_t next = 0;
  for (const auto& [type, id, version] :
       std::vector<std::tuple<std::string, std::string, uint64_t>>{{"Appointment", "aa", 1},
                                                                  {"CarePlan", "a", 1},
                                                                  {"CarePlan", "aa", 1},
                                                                  {"CarePlan", "aa0", 1},
                                                                  {"CarePlan", "aa", 2},
                                                                  {"CarePlanX", "aa", 1},
                                                                  {"CarePlan", "aa", 3},
                                                                  {"CareTeam", "aa", 1}}) {
    ASSERT_TRUE(model->Apply(Write(type, id, version), ++next).ok());
  }
  auto view = model->View();
  ASSERT_TRUE(view.ok()) << view.status();
  std::vector<uint64_t> versions;
  ASSERT_TRUE((*view)
                  ->ScanVersions("CarePlan", "aa",
                                 [&](uint64_t version, std::string_view json) {
                                   EXPECT_EQ(json, Body("CarePlan", "aa", version));
                                   versions.push_back(version);
                                   return true;
                                 })
                  .ok());
  EXPECT_EQ(versions, (std::vector<uint64_t>{3, 2, 1}));
  // The type history of CarePlan: one "h" key per version, in log order.
  for (const bool reverse : {false, true}) {
    std::vector<std::string> ids;
    ASSERT_TRUE((*view)
                    ->ScanIndex("hCarePlan/", reverse,
                                [&](std::string_view key, std::string_view) {
                                  ids.emplace_back(key.substr(key.rfind('/') + 1));
                                  return true;
                                })
                    .ok());
    std::vector<std::string> expected = {"a", "aa", "aa0", "aa", "aa"};
    if (reverse) std::reverse(expected.begin(), expected.end());
    EXPECT_EQ(ids, expected) << (reverse ? "reverse" : "forward");
  }
  // Stopping early stops.
  int calls = 0;
  ASSERT_TRUE((*view)
                  ->ScanIndex("hCarePlan/", true,
                              [&](std::string_view, std::string_view) { return ++calls < 2; })
                  .ok());
  EXPECT_EQ(calls, 2);
}

TEST(ReadModelTest, CheckpointOnlyMovesForwardAndSurvivesReopen) {
  TempDir dir;
  {
    std::unique_ptr<ReadModel> model = OpenModel(dir.path());
    ASSERT_NE(model, nullptr);
    ASSERT_TRUE(model->Apply(Write("Goal", "g", 1), 7).ok());
    EXPECT_EQ(model->Apply(Write("Goal", "g", 2), 7).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(model->Apply({}, 3).code(), absl::StatusCode::kInvalidArgument);
    // A rejected Apply wrote nothing.
    EXPECT_EQ(*model->Read("Goal", "g"), Body("Goal", "g", 1));
    ASSERT_TRUE(model->Apply({}, 9).ok());  // a skipped event only advances the checkpoint
  }
  std::unique_ptr<ReadModel> reopened = OpenModel(dir.path());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(*reopened->Checkpoint(), 9u);
  EXPECT_EQ(*reopened->Read("Goal", "g"), Body("Goal", "g", 1));
  // A second writer on the same directory is refused while the first holds it.
  EXPECT_EQ(ReadModel::Open({.path = dir.path()}).status().code(), absl::StatusCode::kUnavailable);
}

TEST(ReadModelTest, CurrentVersionIsNamedNotCopied) {
  TempDir dir;
  {
    std::unique_ptr<ReadModel> model = OpenModel(dir.path());
    ASSERT_NE(model, nullptr);
    ASSERT_TRUE(model->Apply(Write("CarePlan", "aa", 1), 1).ok());
    ASSERT_TRUE(model->Apply(Write("CarePlan", "aa", 2), 2).ok());
    // A view reads "resources" and then "versions" at its snapshot: a later version does not
    // show through either read.
    auto view = model->View();
    ASSERT_TRUE(view.ok());
    ASSERT_TRUE(model->Apply(Write("CarePlan", "aa", 3), 3).ok());
    EXPECT_EQ(**(*view)->Get("CarePlan", "aa"), Body("CarePlan", "aa", 2));
    EXPECT_EQ(*model->Read("CarePlan", "aa"), Body("CarePlan", "aa", 3));
  }
  // On disk: "resources" holds the number of the current version, its JSON only "versions".
  RawModel raw(dir.path());
  ASSERT_NE(raw.family("resources"), nullptr);
  ASSERT_NE(raw.family("versions"), nullptr);
  std::string value;
  ASSERT_TRUE(raw.db().Get(rocksdb::ReadOptions(), raw.family("resources"), "CarePlan/aa", &value)
                  .ok());
  EXPECT_EQ(value, std::string("\0\0\0\0\0\0\0\3", 8));
  ASSERT_TRUE(raw.db()
                  .Get(rocksdb::ReadOptions(), raw.family("versions"),
                       std::string("CarePlan/aa/\0\0\0\0\0\0\0\3", 20), &value)
                  .ok());
  EXPECT_EQ(value, Body("CarePlan", "aa", 3));
}

TEST(ReadModelTest, CompactionMarkSurvivesReopenAndCompactSettlesEveryFamily) {
  TempDir dir;
  {
    std::unique_ptr<ReadModel> model = OpenModel(dir.path());
    ASSERT_NE(model, nullptr);
    for (uint64_t v = 1; v <= 50; ++v) {
      ASSERT_TRUE(model->Apply(Write("CarePlan", absl::StrCat("p", v % 7), v), v).ok());
    }
    EXPECT_FALSE(*model->CompactionDue());
    ASSERT_TRUE(model->MarkCompactionDue().ok());
  }
  std::unique_ptr<ReadModel> model = OpenModel(dir.path());
  ASSERT_NE(model, nullptr);
  EXPECT_TRUE(*model->CompactionDue());
  // Cancelled (as at shutdown): the mark stays for the next start.
  std::atomic<bool> cancel{true};
  EXPECT_EQ(model->Compact(&cancel).code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(*model->CompactionDue());
  ASSERT_TRUE(model->Compact(nullptr).ok());
  EXPECT_FALSE(*model->CompactionDue());
  EXPECT_EQ(*model->Read("CarePlan", "p1"), Body("CarePlan", "p1", 50));
  EXPECT_EQ(*model->Checkpoint(), 50u);
  model.reset();
  // Everything written is in each family's last level; nothing waits in level 0 or (read-only
  // open replays the write-ahead log into memory only) in the log.
  RawModel raw(dir.path());
  for (const char* name : {"resources", "versions", "search"}) {
    SCOPED_TRACE(name);
    ASSERT_NE(raw.family(name), nullptr);
    const int last = raw.db().NumberLevels(raw.family(name)) - 1;
    std::string files;
    ASSERT_TRUE(raw.db().GetProperty(raw.family(name), "rocksdb.num-files-at-level0", &files));
    EXPECT_EQ(files, "0");
    ASSERT_TRUE(raw.db().GetProperty(raw.family(name),
                                     absl::StrCat("rocksdb.num-files-at-level", last), &files));
    EXPECT_EQ(files, "1");
    ASSERT_TRUE(raw.db().GetProperty(raw.family(name), "rocksdb.num-entries-active-mem-table",
                                     &files));
    EXPECT_EQ(files, "0");
  }
}

}  // namespace
}  // namespace carehub::fhir
