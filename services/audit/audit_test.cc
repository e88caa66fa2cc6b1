// The audit library against a real log: three patients' stories (MartaScenario) interleaved event
// by event in one RocksDB log, so that shared resources (organisations, practitioners) are first
// created by another patient's events. After every prefix of the log, each patient's replay must
// hold exactly the server's read model's current resources of that patient, byte for byte.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "carehub/audit/audit.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/fhir/read_model.h"
#include "carehub/services/testing/temp_dir.h"
#include "fhir/testing/care_events.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace carehub::audit {
namespace {

using fhir::testing::MartaScenario;
using fhir::testing::ScenarioLog;
using fhir::testing::ScenarioStart;

const std::vector<std::string>& Patients() {
  static const auto* const kPatients = new std::vector<std::string>{
      "0b9d5f2e-1c3a-4d5e-8f60-718293a4b5c6", "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5",
      "2d3e4f5a-6b7c-4d8e-9fa0-b1c2d3e4f5a6"};
  return *kPatients;
}

const std::set<std::string>& LeftOut() {
  static const auto* const kLeftOut =
      new std::set<std::string>{"Organization", "Practitioner", "PractitionerRole", "Provenance"};
  return *kLeftOut;
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ScenarioLog>> log = ScenarioLog::Open(dir_.File("log"));
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    std::vector<std::vector<care::v1::CareEvent>> stories;
    size_t longest = 0;
    for (size_t i = 0; i < Patients().size(); ++i) {
      stories.push_back(MartaScenario(Patients()[i], ScenarioStart() + absl::Hours(i)));
      longest = std::max(longest, stories.back().size());
    }
    for (size_t k = 0; k < longest; ++k) {
      for (const auto& story : stories) {
        if (k >= story.size()) continue;
        absl::StatusOr<eventstore::RecordedEvent> e = log_->Append(story[k]);
        ASSERT_TRUE(e.ok()) << e.status();
        recorded_at_.push_back(e->recorded_at);
      }
    }
  }

  eventstore::EventStore& store() { return log_->store(); }

  services::testing::TempDir dir_;
  std::unique_ptr<ScenarioLog> log_;
  std::vector<absl::Time> recorded_at_;  // by position
};

// Every current resource of the replayed types in the model: "Type/id" -> JSON.
std::map<std::string, std::string> ModelResources(fhir::ReadModel& model) {
  std::map<std::string, std::string> out;
  for (const std::string& type : fhir::testing::ResourceTypes()) {
    if (LeftOut().count(type) != 0) continue;
    absl::StatusOr<std::vector<std::string>> current = model.ListByType(type);
    EXPECT_TRUE(current.ok()) << current.status();
    if (!current.ok()) continue;
    for (const std::string& json : *current) {
      out[absl::StrCat(type, "/", nlohmann::json::parse(json)["id"].get<std::string>())] = json;
    }
  }
  return out;
}

TEST_F(AuditTest, ReplayAtEveryPositionIsTheReadModelThen) {
  absl::StatusOr<std::unique_ptr<fhir::ReadModel>> model =
      fhir::ReadModel::Open({.path = dir_.File("model")});
  ASSERT_TRUE(model.ok()) << model.status();
  const uint64_t head = *store().Head().value().position;
  ASSERT_GT(head, 60u);
  size_t compared = 0;
  for (uint64_t p = 0; p <= head; ++p) {
    ASSERT_TRUE(fhir::testing::ProjectLog(store(), **model, p + 1).ok());
    const std::map<std::string, std::string> expected = ModelResources(**model);
    // By position and by the time the event was recorded: the same moment.
    for (const Moment& at : {Moment{.position = p}, Moment{.time = recorded_at_[p]}}) {
      std::map<std::string, std::string> replayed;
      for (const std::string& patient : Patients()) {
        absl::StatusOr<PatientReplay> replay = ReplayPatient(store(), patient, at, true);
        ASSERT_TRUE(replay.ok()) << replay.status();
        for (const fhir::ResourceVersion& r : PatientResources(*replay)) {
          EXPECT_TRUE(replayed.emplace(absl::StrCat(r.type, "/", r.id), r.json).second)
              << r.type << "/" << r.id << " replayed for two patients";
        }
      }
      ASSERT_EQ(replayed.size(), expected.size()) << "at position " << p;
      for (const auto& [key, json] : expected) {
        auto it = replayed.find(key);
        ASSERT_NE(it, replayed.end()) << key << " missing at position " << p;
        EXPECT_EQ(it->second, json) << key << " at position " << p;
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 1000u);
}

TEST_F(AuditTest, BundleEmbedsEachResourceAsProjected) {
  absl::StatusOr<PatientReplay> replay = ReplayPatient(store(), Patients()[0], std::nullopt);
  ASSERT_TRUE(replay.ok()) << replay.status();
  const std::string bundle = BundleJson(*replay);
  const nlohmann::json parsed = nlohmann::json::parse(bundle);
  EXPECT_EQ(parsed["resourceType"], "Bundle");
  EXPECT_EQ(parsed["type"], "collection");
  const std::vector<fhir::ResourceVersion> resources = PatientResources(*replay);
  ASSERT_EQ(parsed["entry"].size(), resources.size());
  std::set<std::string> types;
  for (const fhir::ResourceVersion& r : resources) {
    EXPECT_TRUE(absl::StrContains(bundle, r.json)) << r.type;
    types.insert(r.type);
  }
  for (const char* type : {"Patient", "CarePlan", "CareTeam", "Goal", "Encounter", "Consent"}) {
    EXPECT_EQ(types.count(type), 1u) << type << " not in " << absl::StrJoin(types, ",");
  }
}

TEST_F(AuditTest, HistoryNamesEveryEventOfThePatient) {
  absl::StatusOr<std::vector<HistoryEntry>> history = PatientHistory(store(), Patients()[1]);
  ASSERT_TRUE(history.ok()) << history.status();
  const std::vector<care::v1::CareEvent> story = MartaScenario(Patients()[1], ScenarioStart());
  ASSERT_EQ(history->size(), story.size());
  for (size_t i = 0; i < story.size(); ++i) {
    const HistoryEntry& e = (*history)[i];
    EXPECT_EQ(e.version, i);
    EXPECT_EQ(e.event_id, story[i].event_id());
    EXPECT_EQ(e.source_system, story[i].source().system());
    EXPECT_EQ(e.organisation_hsa_id, story[i].source().organisation_hsa_id());
    EXPECT_EQ(e.author_hsa_id, story[i].source().author().hsa_id());
    EXPECT_EQ(absl::StrCat("carehub.care.v1.", e.event_type), fhir::testing::EventType(story[i]));
    // Interleaved with two other patients: every third position.
    EXPECT_EQ(e.position % Patients().size(), 1u);
  }
  const std::string table = FormatHistoryTable(*history);
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), static_cast<long>(story.size() + 1));
  const std::string json = FormatHistoryJsonLines(*history);
  EXPECT_EQ(std::count(json.begin(), json.end(), '\n'), static_cast<long>(story.size()));
  EXPECT_TRUE(nlohmann::json::parse(json.substr(0, json.find('\n'))).contains("source_system"));
}

TEST_F(AuditTest, ErrorsForUnknownPatientsAndMomentsOutsideTheLog) {
  absl::StatusOr<PatientReplay> unknown =
      ReplayPatient(store(), "9f9f9f9f-0000-4000-8000-000000000000", std::nullopt);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(unknown.status().message(), "unknown patient");

  const Moment before{.time = recorded_at_.front() - absl::Seconds(1)};
  absl::Status s = CheckMomentInLog(store(), before);
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(absl::StrContains(s.message(), "before the log began")) << s;
  EXPECT_TRUE(CheckMomentInLog(store(), {.time = recorded_at_.front()}).ok());
  EXPECT_TRUE(CheckMomentInLog(store(), {.position = *store().Head().value().position}).ok());
  EXPECT_EQ(CheckMomentInLog(store(), {.position = *store().Head().value().position + 1}).code(),
            absl::StatusCode::kOutOfRange);

  // Patient 2's first event is at position 2: at position 1 the record has not begun.
  absl::StatusOr<PatientReplay> early = ReplayPatient(store(), Patients()[2], Moment{.position = 1});
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition) << early.status();
}

TEST(MomentTest, ParsesPositionsAndRfc3339Times) {
  EXPECT_EQ(ParseMoment("42")->position, 42u);
  absl::StatusOr<Moment> utc = ParseMoment("2026-03-01T10:00:00Z");
  ASSERT_TRUE(utc.ok());
  absl::StatusOr<Moment> offset = ParseMoment("2026-03-01T11:00:00+01:00");
  ASSERT_TRUE(offset.ok());
  EXPECT_FALSE(utc->position.has_value());
  EXPECT_EQ(utc->time, offset->time);
  EXPECT_EQ(FormatMoment(*utc), "2026-03-01T10:00:00.000000Z");
  EXPECT_EQ(ParseMoment("yesterday").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMoment("2026-03-01").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMoment("99999999999999999999999").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LogHeadTest, RoundTripsAndRejectsMalformedHeads) {
  eventstore::LogHead head{.position = 7};
  head.hash.fill(0xab);
  absl::StatusOr<eventstore::LogHead> parsed = ParseLogHead(FormatLogHead(head));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, head);
  EXPECT_FALSE(ParseLogHead("7").ok());
  EXPECT_FALSE(ParseLogHead("x:abab").ok());
  EXPECT_FALSE(ParseLogHead("7:abab").ok());
}

}  // namespace
}  // namespace carehub::audit
