// Projection tests: care events appended to a real EventStore, projected into a real ReadModel,
// asserting exact FHIR fields per event kind, versions, Provenance, determinism and privacy.
#include "carehub/fhir/projection.h"

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/base/strings.h"
#include "carehub/care/v1/events.pb.h"
#include "carehub/fhir/read_model.h"
#include "carehub/fhir/resource_facts.h"
#include "carehub/services/testing/temp_dir.h"
#include "fhir/internal/fhir_json.h"
#include "fhir/internal/resource_cache.h"
#include "fhir/testing/care_events.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace carehub::fhir {
namespace {

using care::v1::CareEvent;
using Json = nlohmann::json;
using services::testing::TempDir;
using testing::ScenarioStart;

constexpr char kPatient[] = "3f2c9a52-7d1e-4c1b-9a0e-5b8f0c6d2e11";
constexpr char kHub[] = "https://carehub.se/fhir/CodeSystem/carehub";

class ProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = testing::ScenarioLog::Open(dir_.File("log"));
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    auto model = ReadModel::Open({.path = dir_.File("fhir")});
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *std::move(model);
  }

  ProjectionOutput Run(const CareEvent& event) {
    auto recorded = log_->Append(event);
    EXPECT_TRUE(recorded.ok()) << recorded.status();
    if (!recorded.ok()) return {};
    auto out = testing::ProjectInto(*model_, *recorded);
    EXPECT_TRUE(out.ok()) << out.status();
    if (out.ok()) ExpectTextIsTheDocument(*out);
    return out.ok() ? *out : ProjectionOutput{};
  }

  // The stored text of each version is its document serialised (the projection derives it from
  // the body it compared, without serialising again).
  static void ExpectTextIsTheDocument(const ProjectionOutput& out) {
    for (const ResourceVersion& v : out.resources) {
      ASSERT_NE(v.parsed, nullptr) << v.type;
      EXPECT_EQ(v.json, v.parsed->json.dump()) << v.type;
    }
  }

  Json Read(std::string_view type, std::string_view id) {
    return Json::parse(ReadText(type, id), nullptr, false);
  }
  // The stored bytes.
  std::string ReadText(std::string_view type, std::string_view id) {
    absl::StatusOr<std::string> json = model_->Read(type, id);
    EXPECT_TRUE(json.ok()) << json.status();
    return json.ok() ? *std::move(json) : "";
  }

  static std::string PlanId() { return ResourceId("CarePlan", absl::StrCat(kPatient, "-plan")); }
  static std::string TeamId() { return ResourceId("CareTeam", absl::StrCat(kPatient, "-team")); }
  static std::string StayId() {
    return ResourceId("stay", absl::StrCat(kPatient, "|1.2.752.97.3.1.1|V-", kPatient));
  }
  static std::string HubCode(const Json& concept_json) {
    for (const Json& c : concept_json["coding"]) {
      if (c["system"] == kHub) return c["code"];
    }
    return "";
  }
  // detail.status of the activity with the internal id suffix.
  Json ActivityStatus(const Json& plan, std::string_view suffix) {
    const std::string element = ResourceId("activity", absl::StrCat(kPatient, Sv(suffix)));
    for (const Json& a : plan["activity"]) {
      if (a.value("id", "") == element) return a["detail"]["status"];
    }
    return Json();
  }

  TempDir dir_;
  std::unique_ptr<testing::ScenarioLog> log_;
  std::unique_ptr<ReadModel> model_;
};

TEST_F(ProjectionTest, EnrolmentOpensDraftPlanAndProposedTeamWithProvenance) {
  std::vector<CareEvent> events = testing::MartaScenario(kPatient, ScenarioStart());
  ProjectionOutput first = Run(events[0]);
  // The Patient, and the Organization and Practitioner of the source and author.
  ASSERT_EQ(first.resources.size(), 4u);
  EXPECT_EQ(first.resources[0].type, "Organization");
  EXPECT_EQ(first.resources[1].type, "Patient");
  EXPECT_EQ(first.resources[2].type, "Practitioner");
  EXPECT_EQ(first.resources[3].type, "Provenance");
  // CarePlan, CareTeam, the enrolling unit's Organization, Provenance (Patient unchanged).
  ProjectionOutput out = Run(events[1]);
  ASSERT_EQ(out.resources.size(), 4u);
  const std::string unit_id =
      ResourceId("Organization", absl::StrCat("hsa|", testing::kVardcentralHsaId));
  Json unit = Read("Organization", unit_id);
  EXPECT_EQ(unit["identifier"][0]["system"], "urn:oid:1.2.752.29.4.19");
  EXPECT_EQ(unit["identifier"][0]["value"], testing::kVardcentralHsaId);
  EXPECT_EQ(unit["name"], "Vårdcentralen Bäckby");

  Json plan = Read("CarePlan", PlanId());
  EXPECT_EQ(plan["resourceType"], "CarePlan");
  EXPECT_EQ(plan["status"], "draft");
  EXPECT_EQ(plan["intent"], "plan");
  EXPECT_EQ(plan["subject"]["reference"],
            absl::StrCat("Patient/", ResourceId("Patient", kPatient)));
  EXPECT_EQ(HubCode(plan["category"][0]), "mest-sjuka");
  EXPECT_EQ(plan["category"][0]["coding"][0]["display"], "Mest sjuka");
  EXPECT_EQ(plan["careTeam"][0]["reference"], absl::StrCat("CareTeam/", TeamId()));
  EXPECT_EQ(plan["meta"]["versionId"], "1");
  EXPECT_EQ(plan["meta"]["lastUpdated"], "2026-03-01T02:10:02.000Z");  // the store's clock
  EXPECT_EQ(plan["meta"]["source"], "urn:carehub:source:COSMIC%5ESE2321000131#MSG1");
  EXPECT_EQ(plan["created"], "2026-02-19T02:11:00.000Z");

  Json team = Read("CareTeam", TeamId());
  EXPECT_EQ(team["status"], "proposed");
  EXPECT_EQ(team["managingOrganization"][0]["identifier"]["system"], "urn:oid:1.2.752.29.4.19");
  EXPECT_EQ(team["managingOrganization"][0]["identifier"]["value"], testing::kVardcentralHsaId);
  EXPECT_EQ(team["managingOrganization"][0]["reference"], absl::StrCat("Organization/", unit_id));

  Json patient = Read("Patient", ResourceId("Patient", kPatient));
  EXPECT_EQ(patient["identifier"][1]["system"],
            "http://electronichealth.se/identifier/personnummer");
  EXPECT_EQ(patient["identifier"][1]["value"], "191212121212");

  Json prov = Read("Provenance", ResourceId("Provenance", events[1].event_id()));
  ASSERT_EQ(prov["target"].size(), 3u);
  EXPECT_EQ(prov["target"][0]["reference"], absl::StrCat("CarePlan/", PlanId(), "/_history/1"));
  EXPECT_EQ(prov["target"][1]["reference"], absl::StrCat("CareTeam/", TeamId(), "/_history/1"));
  EXPECT_EQ(prov["target"][2]["reference"], absl::StrCat("Organization/", unit_id, "/_history/1"));
  EXPECT_EQ(prov["recorded"], "2026-03-01T02:10:02.000Z");
  EXPECT_EQ(prov["agent"][0]["who"]["identifier"]["value"], testing::kDoctorHsaId);
  EXPECT_EQ(prov["agent"][0]["onBehalfOf"]["identifier"]["value"], testing::kHospitalHsaId);
  EXPECT_EQ(prov["agent"][1]["who"]["identifier"]["value"], "COSMIC^SE2321000131");
  EXPECT_EQ(prov["entity"][0]["what"]["identifier"]["value"], "COSMIC^SE2321000131|MSG1");
  EXPECT_EQ(prov["entity"][1]["what"]["identifier"]["value"], events[1].event_id());
}

TEST_F(ProjectionTest, MartaScenarioStatusTransitions) {
  const std::string plan_id = PlanId();
  const std::string notice_task =
      ResourceId("Task", absl::StrCat(StayId(), "|inskrivningsmeddelande"));
  const std::string sip_task = ResourceId("Task", absl::StrCat(StayId(), "|kallelse-sip"));
  for (const CareEvent& e : testing::MartaScenario(kPatient, ScenarioStart())) {
    SCOPED_TRACE(testing::EventType(e));
    Run(e);
    switch (e.payload_case()) {
      case CareEvent::kCarePlanAgreed: {
        Json plan = Read("CarePlan", plan_id);
        EXPECT_EQ(plan["status"], "active");
        EXPECT_EQ(HubCode(plan["category"][1]), "sip");
        EXPECT_EQ(plan["author"]["identifier"]["value"], testing::kVardcentralHsaId);
        EXPECT_EQ(Read("CareTeam", TeamId())["status"], "active");
        break;
      }
      case CareEvent::kInpatientAdmitted: {
        Json enc = Read("Encounter", StayId());
        EXPECT_EQ(enc["status"], "in-progress");
        EXPECT_EQ(enc["class"]["system"], "http://terminology.hl7.org/CodeSystem/v3-ActCode");
        EXPECT_EQ(enc["class"]["code"], "IMP");
        EXPECT_EQ(enc["period"]["start"], "2026-03-01T02:10:00.000Z");
        EXPECT_EQ(enc["identifier"][0]["system"], "urn:oid:1.2.752.97.3.1.1");
        EXPECT_EQ(enc["location"][0]["status"], "active");
        // The stay is the region's record, kept by its hospital; the shared plan names no owner.
        const std::string stay_text = ReadText("Encounter", StayId());
        const DataOwner stay_owner = DataOwnerOf(stay_text);  // views into the text
        EXPECT_EQ(stay_owner.organization, testing::kRegionHsaId);
        EXPECT_EQ(stay_owner.unit, testing::kHospitalHsaId);
        const std::string region_org =
            ResourceId("Organization", absl::StrCat("hsa|", testing::kRegionHsaId));
        EXPECT_EQ(enc["extension"][0]["valueReference"]["reference"],
                  absl::StrCat("Organization/", region_org));
        EXPECT_EQ(DataOwnerOf(ReadText("CarePlan", plan_id)).organization, "");
        Json plan = Read("CarePlan", plan_id);
        EXPECT_EQ(ActivityStatus(plan, "-act-nursing"), "on-hold");
        EXPECT_EQ(ActivityStatus(plan, "-act-homehelp"), "on-hold");
        EXPECT_EQ(ActivityStatus(plan, "-act-medreview"), "not-started");  // not in the home
        break;
      }
      case CareEvent::kPostDischargeNeedsAssessed: {
        Json task = Read("Task", notice_task);
        EXPECT_EQ(task["status"], "requested");
        EXPECT_EQ(task["intent"], "order");
        EXPECT_EQ(HubCode(task["code"]), "inskrivningsmeddelande");
        // 24 h after the assessment, which came 6 h after the admission.
        EXPECT_EQ(task["restriction"]["period"]["end"], "2026-03-02T08:10:00.000Z");
        EXPECT_EQ(task["encounter"]["reference"], absl::StrCat("Encounter/", StayId()));
        break;
      }
      case CareEvent::kAdmissionNoticeSent: {
        Json task = Read("Task", notice_task);
        EXPECT_EQ(task["status"], "completed");
        Json c = Read("Communication", ResourceId("Communication", e.event_id()));
        EXPECT_EQ(c["status"], "completed");
        EXPECT_EQ(HubCode(c["category"][0]), "inskrivningsmeddelande");
        EXPECT_EQ(c["basedOn"][0]["reference"], absl::StrCat("Task/", notice_task));
        break;
      }
      case CareEvent::kInpatientTransferred: {
        Json enc = Read("Encounter", StayId());
        ASSERT_EQ(enc["location"].size(), 2u);
        EXPECT_EQ(enc["location"][0]["status"], "completed");
        EXPECT_EQ(enc["location"][0]["period"]["end"], "2026-03-01T22:10:00.000Z");
        EXPECT_EQ(enc["location"][1]["status"], "active");
        EXPECT_EQ(enc["location"][1]["location"]["display"], "Geriatrisk avdelning 5");
        break;
      }
      case CareEvent::kDischargeReadyDeclared: {
        Json task = Read("Task", sip_task);
        EXPECT_EQ(task["status"], "requested");
        EXPECT_EQ(HubCode(task["code"]), "kallelse-sip");
        // Declared 3 March (local); due at the end of 6 March, Europe/Stockholm (UTC+1).
        EXPECT_EQ(task["restriction"]["period"]["end"], "2026-03-06T23:00:00.000Z");
        break;
      }
      case CareEvent::kSipMeetingInvited: {
        Json appt = Read("Appointment", ResourceId("Appointment", absl::StrCat(kPatient, "-sip")));
        EXPECT_EQ(appt["status"], "proposed");
        EXPECT_EQ(Read("Task", sip_task)["status"], "completed");
        break;
      }
      case CareEvent::kDeadlineMet:
        EXPECT_EQ(HubCode(Read("Task", sip_task)["businessStatus"]), "tidsfrist-uppfylld");
        break;
      case CareEvent::kInpatientDischarged: {
        Json enc = Read("Encounter", StayId());
        EXPECT_EQ(enc["status"], "finished");
        EXPECT_EQ(enc["period"]["end"], "2026-03-05T02:10:00.000Z");
        Json plan = Read("CarePlan", plan_id);
        EXPECT_EQ(ActivityStatus(plan, "-act-nursing"), "in-progress");
        EXPECT_EQ(ActivityStatus(plan, "-act-homehelp"), "in-progress");
        break;
      }
      case CareEvent::kSipMeetingHeld:
        EXPECT_EQ(Read("Appointment",
                       ResourceId("Appointment", absl::StrCat(kPatient, "-sip")))["status"],
                  "fulfilled");
        break;
      case CareEvent::kCareTeamMemberAdded: {
        if (e.care_team_member_added().member().hsa_id().empty()) break;
        Json role = Read("PractitionerRole",
                         ResourceId("PractitionerRole", absl::StrCat(testing::kNurseHsaId, "|",
                                                                     testing::kKommunHslHsaId)));
        EXPECT_EQ(role["practitioner"]["identifier"]["value"], testing::kNurseHsaId);
        EXPECT_EQ(role["organization"]["identifier"]["value"], testing::kKommunHslHsaId);
        EXPECT_EQ(role["code"][0]["coding"][0]["code"], "224535009");
        break;
      }
      case CareEvent::kCareTeamMemberRemoved: {
        Json team = Read("CareTeam", TeamId());
        ASSERT_EQ(team["participant"].size(), 3u);  // never deleted
        EXPECT_EQ(team["participant"][1]["member"]["display"], "Anna (dotter)");
        EXPECT_EQ(team["participant"][1]["period"]["end"], "2026-03-06T02:10:00.000Z");
        EXPECT_FALSE(team["participant"][0]["period"].contains("end"));
        EXPECT_EQ(HubCode(team["participant"][2]["role"][0]), "fast-vardkontakt");
        break;
      }
      case CareEvent::kGoalStatusChanged: {
        Json goal = Read("Goal", ResourceId("Goal", absl::StrCat(kPatient, "-goal-days")));
        EXPECT_EQ(goal["lifecycleStatus"], "active");
        EXPECT_EQ(goal["achievementStatus"]["coding"][0]["code"], "in-progress");
        EXPECT_EQ(goal["meta"]["versionId"], "2");
        break;
      }
      case CareEvent::kDeteriorationAlertRaised: {
        Json task = Read("Task", ResourceId("Task", absl::StrCat("alert|", kPatient, "-alert-1")));
        EXPECT_EQ(task["priority"], "asap");
        EXPECT_EQ(task["status"], "requested");
        // The record carries the warning until a visit answers it.
        Json flag = Read("Flag", ResourceId("Flag", absl::StrCat("alert|", kPatient, "-alert-1")));
        EXPECT_EQ(flag["status"], "active");
        EXPECT_EQ(flag["category"][0]["coding"][0]["code"], "clinical");
        EXPECT_EQ(HubCode(flag["code"]), "forsamringslarm");
        EXPECT_EQ(flag["subject"]["reference"], absl::StrCat("Patient/", ResourceId("Patient", kPatient)));
        EXPECT_EQ(flag["period"]["start"], task["authoredOn"]);
        EXPECT_FALSE(flag["period"].contains("end")) << flag.dump();
        break;
      }
      case CareEvent::kHomeVisitPerformed: {
        Json enc = Read("Encounter", ResourceId("home-visit", absl::StrCat(kPatient, "-visit-1")));
        EXPECT_EQ(enc["class"]["code"], "HH");
        EXPECT_EQ(enc["status"], "finished");
        // The municipal nurse's visit is the municipality's record, the alert's Flag the region's.
        const std::string visit_text =
            ReadText("Encounter", ResourceId("home-visit", absl::StrCat(kPatient, "-visit-1")));
        const DataOwner visit_owner = DataOwnerOf(visit_text);
        EXPECT_EQ(visit_owner.organization, testing::kKommunHslHsaId);
        EXPECT_EQ(visit_owner.unit, "") << "sent by the owner itself";
        EXPECT_EQ(DataOwnerOf(ReadText("Flag", ResourceId("Flag", absl::StrCat("alert|", kPatient,
                                                                               "-alert-1"))))
                      .organization,
                  testing::kRegionHsaId);
        Json task = Read("Task", ResourceId("Task", absl::StrCat("alert|", kPatient, "-alert-1")));
        EXPECT_EQ(task["status"], "completed");
        Json flag = Read("Flag", ResourceId("Flag", absl::StrCat("alert|", kPatient, "-alert-1")));
        EXPECT_EQ(flag["status"], "inactive");
        EXPECT_EQ(flag["period"]["end"], enc["period"].value("end", "")) << flag.dump();
        EXPECT_EQ(flag["meta"]["versionId"], "2");
        break;
      }
      case CareEvent::kActivityCompleted:
        EXPECT_EQ(ActivityStatus(Read("CarePlan", plan_id), "-act-medreview"), "completed");
        break;
      default:
        break;
    }
  }
  // Every version of the plan is kept, numbered 1..n without gaps, newest first.
  auto history = model_->History("CarePlan", plan_id);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_GT(history->size(), 10u);
  for (size_t i = 0; i < history->size(); ++i) {
    EXPECT_EQ(Json::parse((*history)[i])["meta"]["versionId"], absl::StrCat(history->size() - i));
  }
}

TEST_F(ProjectionTest, EveryVersionHasExactlyOneProvenance) {
  ASSERT_TRUE(log_->AppendAll(testing::MartaScenario(kPatient, ScenarioStart())).ok());
  ASSERT_TRUE(testing::ProjectLog(log_->store(), *model_).ok());
  auto all = testing::AllVersions(*model_);
  ASSERT_TRUE(all.ok()) << all.status();
  std::multiset<std::string> targets;
  std::set<std::string> versions;
  for (const auto& [key, json] : *all) {
    Json r = Json::parse(json);
    if (r["resourceType"] == "Provenance") {
      for (const Json& t : r["target"]) targets.insert(t["reference"].get<std::string>());
    } else {
      versions.insert(absl::StrCat(r["resourceType"].get<std::string>(), "/",
                                   r["id"].get<std::string>(), "/_history/",
                                   r["meta"]["versionId"].get<std::string>()));
    }
  }
  EXPECT_EQ(std::set<std::string>(targets.begin(), targets.end()), versions);
  EXPECT_EQ(targets.size(), versions.size());  // no version claimed twice
}

TEST_F(ProjectionTest, EventThatChangesNothingWritesNoVersion) {
  std::vector<CareEvent> events = testing::MartaScenario(kPatient, ScenarioStart());
  for (int i = 0; i <= 3; ++i) Run(events[i]);  // up to the nurse joining
  CareEvent again = events[3];
  again.set_event_id("again");
  ProjectionOutput out = Run(again);
  EXPECT_TRUE(out.resources.empty());
  EXPECT_EQ(Read("CareTeam", TeamId())["meta"]["versionId"], "2");
}

TEST_F(ProjectionTest, UnknownEventTypesAreSkippedAndPassed) {
  auto foreign = log_->AppendForeign("billing-1", "carehub.billing.v1.InvoiceSent");
  ASSERT_TRUE(foreign.ok());
  auto out = testing::ProjectInto(*model_, *foreign);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FALSE(out->skipped_reason.empty());
  EXPECT_TRUE(out->resources.empty());
  EXPECT_EQ(*model_->Checkpoint(), foreign->position + 1);
}

TEST_F(ProjectionTest, CancelledAdmissionAndCancelledDischarge) {
  std::vector<CareEvent> events = testing::MartaScenario(kPatient, ScenarioStart());
  size_t admitted = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].has_inpatient_admitted()) admitted = i;
  }
  for (size_t i = 0; i <= admitted + 1; ++i) Run(events[i]);  // admitted and assessed
  CareEvent cancel = testing::Envelope(kPatient, 900, ScenarioStart() + absl::Hours(7));
  *cancel.mutable_admission_cancelled()->mutable_stay() =
      events[admitted].inpatient_admitted().stay();
  Run(cancel);
  EXPECT_EQ(Read("Encounter", StayId())["status"], "entered-in-error");
  EXPECT_EQ(
      Read("Task", ResourceId("Task", absl::StrCat(StayId(), "|inskrivningsmeddelande")))["status"],
      "cancelled");
  EXPECT_EQ(ActivityStatus(Read("CarePlan", PlanId()), "-act-nursing"), "in-progress");

  // A second stay: discharged, then the discharge is cancelled (A13): back in hospital.
  CareEvent admit = events[admitted];
  admit.set_event_id("admit-2");
  admit.mutable_inpatient_admitted()->mutable_stay()->set_visit_number("V-2");
  Run(admit);
  CareEvent discharge = testing::Envelope(kPatient, 901, ScenarioStart() + absl::Hours(30));
  *discharge.mutable_inpatient_discharged()->mutable_stay() = admit.inpatient_admitted().stay();
  Run(discharge);
  const std::string stay2 = ResourceId("stay", absl::StrCat(kPatient, "|1.2.752.97.3.1.1|V-2"));
  EXPECT_EQ(Read("Encounter", stay2)["status"], "finished");
  EXPECT_EQ(ActivityStatus(Read("CarePlan", PlanId()), "-act-nursing"), "in-progress");
  CareEvent undo = testing::Envelope(kPatient, 902, ScenarioStart() + absl::Hours(31));
  *undo.mutable_discharge_cancelled()->mutable_stay() = admit.inpatient_admitted().stay();
  Run(undo);
  Json enc = Read("Encounter", stay2);
  EXPECT_EQ(enc["status"], "in-progress");
  EXPECT_FALSE(enc["period"].contains("end"));
  EXPECT_EQ(enc["meta"]["versionId"], "3");
  // The A13 names no new place: the ward the discharge closed is the patient's again.
  ASSERT_EQ(enc["location"].size(), 1u) << enc.dump();
  EXPECT_EQ(enc["location"][0]["status"], "active");
  EXPECT_FALSE(enc["location"][0]["period"].contains("end")) << enc.dump();
  EXPECT_EQ(ActivityStatus(Read("CarePlan", PlanId()), "-act-nursing"), "on-hold");
}

TEST_F(ProjectionTest, ClosedPlanCompletesAndTeamBecomesInactive) {
  std::vector<CareEvent> events = testing::MartaScenario(kPatient, ScenarioStart());
  for (int i = 0; i <= 1; ++i) Run(events[i]);
  CareEvent close = testing::Envelope(kPatient, 903, ScenarioStart());
  close.mutable_care_plan_closed()->set_care_plan_id(absl::StrCat(kPatient, "-plan"));
  close.mutable_care_plan_closed()->set_closure(care::v1::CARE_PLAN_CLOSURE_COMPLETED);
  Run(close);
  Json plan = Read("CarePlan", PlanId());
  EXPECT_EQ(plan["status"], "completed");
  EXPECT_EQ(plan["period"]["end"], "2026-03-01T02:10:00.000Z");
  EXPECT_EQ(Read("CareTeam", TeamId())["status"], "inactive");
}

TEST_F(ProjectionTest, NoNationalIdentifierInAnyIdOrStateKey) {
  for (const CareEvent& e : testing::MartaScenario(kPatient, ScenarioStart())) {
    ProjectionOutput out = Run(e);
    for (const ResourceVersion& v : out.resources) {
      EXPECT_EQ(v.id.size(), 32u);
      EXPECT_EQ(v.id.find_first_not_of("0123456789abcdef"), std::string::npos);
    }
    for (const auto& [key, value] : out.state) {
      EXPECT_EQ(key.find("191212121212"), std::string::npos);
      EXPECT_EQ(value.find("191212121212"), std::string::npos);
    }
  }
}

TEST_F(ProjectionTest, RebuildIsByteIdentical) {
  ASSERT_TRUE(log_->AppendAll(testing::MartaScenario(kPatient, ScenarioStart())).ok());
  ASSERT_TRUE(log_->AppendAll(testing::MartaScenario("7a1b", ScenarioStart())).ok());
  ASSERT_TRUE(testing::ProjectLog(log_->store(), *model_).ok());
  auto second = ReadModel::Open({.path = dir_.File("fhir-2")});
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(testing::ProjectLog(log_->store(), **second).ok());
  auto a = testing::AllVersions(*model_);
  auto b = testing::AllVersions(**second);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_GT(a->size(), 100u);
  EXPECT_EQ(*a, *b);

  // The replay code path (in memory, as the audit CLI will use it) gives the same bytes.
  InMemoryProjectionState memory;
  auto read = log_->store().ReadAll({.from_position = 0, .limit = 10000});
  ASSERT_TRUE(read.ok());
  for (const eventstore::RecordedEvent& e : read->events) {
    auto out = Project(memory, e);
    ASSERT_TRUE(out.ok()) << out.status();
    ExpectTextIsTheDocument(*out);
    memory.Apply(*out);
  }
  size_t count = 0;
  for (const auto& [key, versions] : memory.versions()) {
    for (size_t i = 0; i < versions.size(); ++i) {
      auto stored = model_->VRead(key.first, key.second, i + 1);
      ASSERT_TRUE(stored.ok());
      EXPECT_EQ(*stored, versions[i]);
      ++count;
    }
  }
  EXPECT_EQ(count, a->size());
}

TEST_F(ProjectionTest, ConsentWithdrawnAndBlockLifted) {
  std::vector<CareEvent> events = testing::MartaScenario(kPatient, ScenarioStart());
  for (int i = 0; i <= 2; ++i) Run(events[i]);  // up to the consent
  const std::string consent_id = ResourceId("Consent", absl::StrCat(kPatient, "-consent"));
  Json consent = Read("Consent", consent_id);
  EXPECT_EQ(consent["status"], "active");
  EXPECT_EQ(consent["provision"]["type"], "permit");
  EXPECT_EQ(consent["provision"]["actor"][0]["reference"]["identifier"]["value"],
            testing::kKommunHslHsaId);
  EXPECT_EQ(consent["provision"]["actor"][0]["role"]["coding"][0]["code"], "IRCP");

  CareEvent withdrawn = testing::Envelope(kPatient, 910, ScenarioStart());
  withdrawn.mutable_consent_withdrawn()->set_consent_id(absl::StrCat(kPatient, "-consent"));
  Run(withdrawn);
  consent = Read("Consent", consent_id);
  EXPECT_EQ(consent["status"], "inactive");
  EXPECT_EQ(consent["provision"]["period"]["end"], "2026-03-01T02:10:00.000Z");
  EXPECT_EQ(consent["meta"]["versionId"], "2");

  CareEvent blocked = testing::Envelope(kPatient, 911, ScenarioStart() + absl::Hours(1));
  blocked.mutable_record_blocked()->set_block_id("block-1");
  blocked.mutable_record_blocked()->mutable_blocked_owner()->set_organisation_hsa_id(
      testing::kKommunHslHsaId);
  Run(blocked);
  const std::string block_id = ResourceId("Block", "block-1");
  Json block = Read("Consent", block_id);
  EXPECT_EQ(block["status"], "active");
  EXPECT_EQ(block["provision"]["type"], "deny");
  EXPECT_FALSE(block["provision"].contains("actor"));  // yttre spärr: every other provider
  EXPECT_EQ(block["organization"][0]["identifier"]["value"], testing::kKommunHslHsaId);
  CareEvent unblocked = testing::Envelope(kPatient, 912, ScenarioStart() + absl::Hours(2));
  unblocked.mutable_record_unblocked()->set_block_id("block-1");
  Run(unblocked);
  EXPECT_EQ(Read("Consent", block_id)["status"], "inactive");
}

TEST_F(ProjectionTest, DemographicsKeepAProtectedAddressOut) {
  CareEvent update = testing::Envelope(kPatient, 920, ScenarioStart());
  auto* d = update.mutable_demographics_updated();
  d->set_family_name("Andersson");
  d->add_given_names("Märta");
  d->add_address_lines("Storgatan 1");
  d->set_city("Västerås");
  d->set_postal_code("72211");
  Run(update);
  const std::string patient_id = ResourceId("Patient", kPatient);
  Json patient = Read("Patient", patient_id);
  EXPECT_EQ(patient["name"][0]["family"], "Andersson");
  EXPECT_EQ(patient["address"][0]["city"], "Västerås");

  update.set_event_id("protected");
  update.mutable_demographics_updated()->set_protected_identity(true);
  Run(update);
  patient = Read("Patient", patient_id);
  EXPECT_FALSE(patient.contains("address"));
  EXPECT_EQ(patient["meta"]["security"][0]["code"], "R");
  EXPECT_EQ(patient["meta"]["versionId"], "2");
  // The earlier version still holds the address: history is never rewritten.
  EXPECT_EQ(Json::parse(*model_->VRead("Patient", patient_id, 1))["address"][0]["city"],
            "Västerås");
}

TEST(HubCodeSystemTest, EveryCodeTheProjectionUsesIsPublished) {
  std::ifstream in(CAREHUB_FHIR_CODESYSTEM_PATH);
  Json cs = Json::parse(in, nullptr, false);
  ASSERT_FALSE(cs.is_discarded());
  EXPECT_EQ(cs["url"], kHub);
  std::map<std::string, std::string> published;
  for (const Json& c : cs["concept"]) published[c["code"]] = c["display"];
  namespace hub = internal::hub;
  for (const char* code :
       {hub::kMostIll, hub::kPeriodicallyFailing, hub::kAtRisk, hub::kPrimaryContact, hub::kSip,
        hub::kSipInvitation, hub::kAdmissionNotice, hub::kAdmissionNoticeAck, hub::kDischargeReady,
        hub::kDischargeReadyRevoked, hub::kExpectedDischargeChanged, hub::kDischargeInformation,
        hub::kDeteriorationAlert, hub::kDeadlineMet, hub::kDeadlineBreached,
        hub::kCarePlanOverallResponsibility}) {
    ASSERT_TRUE(published.count(code)) << code;
    internal::Json concept_json = internal::HubConcept(code);
    EXPECT_EQ(concept_json["coding"][0]["display"], published[code]) << code;
  }
  EXPECT_EQ(published.size(), 16u);
}

TEST(FhirJsonTest, ACodeWithoutASystemHasNoEmptySystem) {
  care::v1::Coding coding;
  coding.set_code("01");
  coding.set_display("Hem");
  internal::Json concept_json = internal::ConceptOf(coding);
  EXPECT_FALSE(concept_json["coding"][0].contains("system")) << concept_json.dump();
  EXPECT_EQ(concept_json["coding"][0]["code"], "01");
}

}  // namespace
}  // namespace carehub::fhir
