// ReadModelBatch: projecting the log in batches (each event read against the model plus the
// batch's earlier events, one WriteBatch per batch), also with each batch committed on another
// thread while the next is projected through its successor, leaves the database byte for byte as
// projecting and applying event by event does: every key and value of every column family.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/fhir/projection.h"
#include "carehub/fhir/read_model.h"
#include "fhir/internal/parsed_resource.h"
#include "carehub/services/testing/temp_dir.h"
#include "fhir/testing/care_events.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"

namespace carehub::fhir {
namespace {

using services::testing::TempDir;

std::string PatientId(int i) { return absl::StrCat("0000", i, "-5d2c-4b1a-batch"); }

// Every column family of a closed read model: family -> (key, value) in key order.
std::map<std::string, std::vector<std::pair<std::string, std::string>>> Dump(
    const std::string& path) {
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> out;
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, families, &handles, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return out;
  std::unique_ptr<rocksdb::DB> db(raw);
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    auto& rows = out[h->GetName()];
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      rows.emplace_back(it->key().ToString(), it->value().ToString());
    }
    EXPECT_TRUE(it->status().ok());
    db->DestroyColumnFamilyHandle(h);
  }
  return out;
}

// Projects the whole log into `model` in batches of `batch_size` events. Pipelined: each full
// batch is committed on another thread while the next is projected into its successor, as the
// projector does.
// Only the events in [from, to).
absl::Status ProjectInBatches(eventstore::EventStore& store, ReadModel& model, size_t batch_size,
                              bool pipelined = false, uint64_t from = 0,
                              uint64_t to = UINT64_MAX) {
  ASSIGN_OR_RETURN(eventstore::ReadAllResult read,
                   store.ReadAll({.from_position = from, .limit = 100000}));
  while (!read.events.empty() && read.events.back().position >= to) read.events.pop_back();
  ASSIGN_OR_RETURN(std::unique_ptr<ReadModelBatch> batch, model.NewBatch());
  std::unique_ptr<ReadModelBatch> committing;
  std::thread commit;
  absl::Status committed;
  auto wait = [&] {
    if (commit.joinable()) commit.join();
    committing.reset();
    return committed;
  };
  for (const eventstore::RecordedEvent& e : read.events) {
    ASSIGN_OR_RETURN(ProjectionOutput out, Project(*batch, e));
    RETURN_IF_ERROR(batch->Add(out, e.position + 1));
    if (batch->size() < batch_size) continue;
    if (!pipelined) {
      RETURN_IF_ERROR(batch->Commit());
      continue;
    }
    RETURN_IF_ERROR(wait());
    std::unique_ptr<ReadModelBatch> successor = batch->Successor();
    committing = std::move(batch);
    batch = std::move(successor);
    commit = std::thread([&] { committed = committing->Commit(); });
  }
  RETURN_IF_ERROR(wait());
  return batch->Commit();
}

class ReadModelBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = testing::ScenarioLog::Open(dir_.File("log"));
    ASSERT_TRUE(log.ok()) << log.status();
    // Four patients' stories interleaved event by event, with foreign events between, so that a
    // batch holds several events of each patient and of the organisations they share.
    std::vector<std::vector<care::v1::CareEvent>> stories;
    for (int i = 0; i < 4; ++i) {
      stories.push_back(testing::MartaScenario(PatientId(i), testing::ScenarioStart()));
    }
    for (size_t step = 0;; ++step) {
      bool any = false;
      for (const auto& story : stories) {
        if (step >= story.size()) continue;
        any = true;
        ASSERT_TRUE((*log)->Append(story[step]).ok());
      }
      if (!any) break;
      if (step % 5 == 0) {
        ASSERT_TRUE((*log)->AppendForeign("audit-1", "carehub.audit.v1.X").ok());
      }
    }
    log_ = *std::move(log);
    // The reference: one Project and one Apply per event.
    auto model = ReadModel::Open({.path = dir_.File("one-by-one")});
    ASSERT_TRUE(model.ok()) << model.status();
    ASSERT_TRUE(testing::ProjectLog(log_->store(), **model).ok());
    events_ = *(*model)->Checkpoint();
    ASSERT_GT(events_, 100u);
  }

  TempDir dir_;
  std::unique_ptr<testing::ScenarioLog> log_;
  uint64_t events_ = 0;
};

TEST_F(ReadModelBatchTest, BatchesGiveTheSameDatabaseAsEventByEvent) {
  const auto expected = Dump(dir_.File("one-by-one"));
  ASSERT_EQ(expected.count("search"), 1u);
  ASSERT_FALSE(expected.at("search").empty());
  const std::vector<std::pair<size_t, bool>> runs = {{1, false}, {7, false},  {64, false},
                                                      {100000, false}, {1, true}, {3, true},
                                                      {16, true}};
  for (const auto& [batch_size, pipelined] : runs) {
    SCOPED_TRACE(absl::StrCat("batch size ", batch_size, pipelined ? ", pipelined" : ""));
    const std::string path =
        dir_.File(absl::StrCat("batches-", batch_size, pipelined ? "-pipelined" : ""));
    {
      auto model = ReadModel::Open({.path = path});
      ASSERT_TRUE(model.ok()) << model.status();
      const absl::Status projected =
          ProjectInBatches(log_->store(), **model, batch_size, pipelined);
      ASSERT_TRUE(projected.ok()) << projected;
      EXPECT_EQ(*(*model)->Checkpoint(), events_);
    }
    const auto actual = Dump(path);
    ASSERT_EQ(actual.size(), expected.size());
    for (const auto& [family, rows] : expected) {
      SCOPED_TRACE(family);
      ASSERT_EQ(actual.count(family), 1u);
      EXPECT_EQ(actual.at(family).size(), rows.size());
      EXPECT_TRUE(actual.at(family) == rows);
    }
  }
}

// A projector restarted on a model it wrote before reads the resources it holds from RocksDB
// (the cache of what it wrote is gone), keeps each parsed after the first read, and goes on
// exactly as if it had never stopped.
TEST_F(ReadModelBatchTest, AReopenedModelIsReadOnceAndContinuesIdentically) {
  const std::string path = dir_.File("reopened");
  const uint64_t half = events_ / 2;
  {
    auto model = ReadModel::Open({.path = path});
    ASSERT_TRUE(model.ok()) << model.status();
    const absl::Status projected = ProjectInBatches(log_->store(), **model, 5, true, 0, half);
    ASSERT_TRUE(projected.ok()) << projected;
  }
  auto model = ReadModel::Open({.path = path});
  ASSERT_TRUE(model.ok()) << model.status();
  const std::string patient = ResourceId("Patient", PatientId(0));
  auto stored = (*model)->Read("Patient", patient);
  ASSERT_TRUE(stored.ok()) << stored.status();
  {
    auto batch = (*model)->NewBatch();
    ASSERT_TRUE(batch.ok());
    auto first = (*batch)->CurrentParsed("Patient", patient);
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_NE(*first, nullptr);
    EXPECT_EQ((*first)->json.dump(), *stored);
    EXPECT_EQ((*first)->body_dump, internal::BodyDump((*first)->json));
    EXPECT_GE((*first)->version, 1u);
    // Another batch finds the same parse (the model's cache), not a new one.
    auto other = (*model)->NewBatch();
    ASSERT_TRUE(other.ok());
    auto second = (*other)->CurrentParsed("Patient", patient);
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(second->get(), first->get());
    auto missing = (*other)->CurrentParsed("Patient", "no-such-patient");
    ASSERT_TRUE(missing.ok());
    EXPECT_EQ(*missing, nullptr);
  }
  const absl::Status projected = ProjectInBatches(log_->store(), **model, 5, true, half);
  ASSERT_TRUE(projected.ok()) << projected;
  EXPECT_EQ(*(*model)->Checkpoint(), events_);
  model->reset();
  EXPECT_TRUE(Dump(path) == Dump(dir_.File("one-by-one")));
}

TEST_F(ReadModelBatchTest, NothingIsVisibleBeforeCommitAndAFailedAddWritesNothing) {
  auto model = ReadModel::Open({.path = dir_.File("partial")});
  ASSERT_TRUE(model.ok()) << model.status();
  auto read = log_->store().ReadAll({.limit = 3});
  ASSERT_TRUE(read.ok());
  auto batch = (*model)->NewBatch();
  ASSERT_TRUE(batch.ok());
  for (const eventstore::RecordedEvent& e : read->events) {
    auto out = Project(**batch, e);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_TRUE((*batch)->Add(*out, e.position + 1).ok());
  }
  // The enrolment is visible through the batch, not yet through the model.
  const std::string patient = ResourceId("Patient", PatientId(0));
  EXPECT_TRUE((*(*batch)->CurrentResource("Patient", patient)).has_value());
  EXPECT_EQ((*model)->Read("Patient", patient).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*(*model)->Checkpoint(), 0u);
  // A checkpoint that does not move forward is refused, and the batch is still whole.
  EXPECT_EQ((*batch)->Add({}, 2).code(), absl::StatusCode::kInvalidArgument);
  // A resource that is not JSON spoils the batch: Commit writes nothing.
  ProjectionOutput broken;
  broken.resources.push_back({"Goal", "g", 1, "{not json"});
  EXPECT_FALSE((*batch)->Add(broken, 10).ok());
  EXPECT_FALSE((*batch)->Commit().ok());
  EXPECT_EQ(*(*model)->Checkpoint(), 0u);
  EXPECT_EQ((*model)->Read("Patient", patient).status().code(), absl::StatusCode::kNotFound);
  // A new batch commits.
  auto again = (*model)->NewBatch();
  ASSERT_TRUE(again.ok());
  for (const eventstore::RecordedEvent& e : read->events) {
    auto out = Project(**again, e);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_TRUE((*again)->Add(*out, e.position + 1).ok());
  }
  ASSERT_TRUE((*again)->Commit().ok());
  EXPECT_EQ(*(*model)->Checkpoint(), read->events.back().position + 1);
  EXPECT_TRUE((*model)->Read("Patient", patient).ok());
}

}  // namespace
}  // namespace carehub::fhir
