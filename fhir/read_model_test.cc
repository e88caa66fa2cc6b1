// ReadModel: key layout round trips, history order, checkpoint rules, persistence across reopen,
// the current version stored once.
#include "carehub/fhir/read_model.h"

#include <memory>
#include <string>
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
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.path(), &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir.path(), families, &handles,
                                           &raw)
                  .ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  auto family = [&](const std::string& name) -> rocksdb::ColumnFamilyHandle* {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return handles[i];
    }
    return nullptr;
  };
  ASSERT_NE(family("resources"), nullptr);
  ASSERT_NE(family("versions"), nullptr);
  std::string value;
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), family("resources"), "CarePlan/aa", &value).ok());
  EXPECT_EQ(value, std::string("\0\0\0\0\0\0\0\3", 8));
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), family("versions"),
                      std::string("CarePlan/aa/\0\0\0\0\0\0\0\3", 20), &value)
                  .ok());
  EXPECT_EQ(value, Body("CarePlan", "aa", 3));
  for (rocksdb::ColumnFamilyHandle* h : handles) db->DestroyColumnFamilyHandle(h);
}

}  // namespace
}  // namespace carehub::fhir
