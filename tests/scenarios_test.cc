// DOMAIN.md's persona scenarios end to end: commands through the CareService gRPC API (a real
// server on 127.0.0.1:0, data in a temp dir, a ManualClock for time), then the log projected with
// the real FHIR projection into a real ReadModel, and the FHIR resources asserted.
//   - Trin, 91: emergency admission with no plan; enrolment creates the plan; ready for discharge
//     declared, revoked (pneumonia), declared again; discharge to the nursing home; a discharge
//     sent by mistake and cancelled (A13).
//   - Arne and Svea: two plans, two teams, two consents; Svea is a related person on Arne's team;
//     her admission must not show in Arne's record.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "carehub/care/hub_key.h"
#include "carehub/fhir/projection.h"
#include "carehub/fhir/read_model.h"
#include "carehub/services/care_service.h"
#include "carehub/services/common/grpc_server.h"
#include "carehub/services/testing/temp_dir.h"
#include "fhir/testing/care_events.h"
#include "gtest/gtest.h"
#include "services/care/testing/care_service_fixture.h"
#include "nlohmann/json.hpp"

namespace carehub::services {
namespace {

namespace v1 = ::carehub::care::v1;
namespace es = ::carehub::eventstore;
using Json = nlohmann::json;
using ::carehub::fhir::ResourceId;

constexpr char kRegion[] = "SE2321000131-E000000000001";     // vårdcentralen
constexpr char kHospital[] = "SE2321000131-E000000000010";   // the hospital
constexpr char kKommunHsl[] = "SE2120000829-E000000000002";  // hemsjukvård / mobile team
constexpr char kNursingHome[] = "SE2120000829-E000000000007";
constexpr char kNursingHomeName[] = "Rosengårdens särskilda boende";

// The Luhn check digit over the 9 digits YYMMDDNNN, computed here independently of the hub's
// own validation so that a wrong test number cannot pass because both sides share a bug.
char LuhnDigit(const std::string& nine) {
  int sum = 0;
  for (size_t i = 0; i < nine.size(); ++i) {
    int d = (nine[i] - '0') * (i % 2 == 0 ? 2 : 1);
    sum += d > 9 ? d - 9 : d;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

// A personnummer in Skatteverket's test series (serial 98x): "YYYYMMDD-NNNC".
std::string TestPersonnummer(const std::string& yyyymmdd, const std::string& serial) {
  return absl::StrCat(yyyymmdd, "-", serial,
                      std::string(1, LuhnDigit(yyyymmdd.substr(2) + serial)));
}

absl::Time Local(int month, int day, int hour) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &zone));
  return absl::FromCivil(absl::CivilSecond(2026, month, day, hour, 0, 0), zone);
}

google::protobuf::Timestamp Proto(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

v1::HospitalStay Stay(const std::string& visit_number) {
  v1::HospitalStay stay;
  stay.set_visit_number(visit_number);
  stay.set_patient_class(v1::PATIENT_CLASS_INPATIENT);
  return stay;
}

// A care service on real gRPC over an in-process store, patients addressed by personnummer
// until the hub has given them a patient id.
class ScenarioTest : public testing::CareServiceFixture {
 protected:
  ScenarioTest() : CareServiceFixture(Local(11, 2, 9), /*seed=*/11) {}

  // A command for the person with `personnummer`, from `owner_hsa` (region data), now.
  v1::CommandRequest Command(const std::string& personnummer, const std::string& id,
                             const std::string& owner_hsa = kHospital) {
    v1::CommandRequest command;
    command.set_command_id(id);
    auto known = patient_ids_.find(personnummer);
    if (known == patient_ids_.end()) {
      command.mutable_patient()->mutable_identifier()->set_kind(
          v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
      command.mutable_patient()->mutable_identifier()->set_value(personnummer);
    } else {
      command.mutable_patient()->set_patient_id(known->second);
    }
    command.mutable_source()->set_system(owner_hsa == kHospital ? "cosmic-test" : "vc-journal");
    command.mutable_source()->set_organisation_hsa_id(owner_hsa);
    command.mutable_data_owner()->set_kind(v1::DATA_OWNER_KIND_REGION);
    command.mutable_data_owner()->set_organisation_hsa_id(owner_hsa);
    *command.mutable_occurred_at() = Proto(clock_.Now());
    command.set_source_message_id(absl::StrCat("msg-", id));
    return command;
  }

  v1::CommandResponse Execute(const std::string& personnummer, const v1::CommandRequest& command) {
    grpc::ClientContext context;
    v1::CommandResponse response;
    const grpc::Status status = stub_->Execute(&context, command, &response);
    EXPECT_TRUE(status.ok()) << command.command_id() << ": " << status.error_message();
    patient_ids_.emplace(personnummer, response.patient_id());
    return response;
  }

  // Emergency registration (the A04 equivalent): the hub resolves the personnummer to a new
  // patient id; no plan, team or consent exists yet.
  std::string Register(const std::string& personnummer) {
    grpc::ClientContext context;
    v1::ResolvePatientRequest request;
    request.mutable_identifier()->set_kind(v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
    request.mutable_identifier()->set_value(personnummer);
    request.set_create_if_missing(true);
    v1::ResolvePatientResponse response;
    const grpc::Status status = stub_->ResolvePatient(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(response.created());
    patient_ids_[personnummer] = response.patient_id();
    return response.patient_id();
  }

  // Enrolment plus a SIP consent naming `receivers`. Returns the enrolment event (plan, team ids).
  v1::PatientEnrolled EnrolWithConsent(const std::string& pnr, const std::string& tag,
                                       const std::vector<std::string>& receivers) {
    v1::CommandRequest enrol = Command(pnr, tag + "-enrol", kRegion);
    enrol.mutable_patient_enrolled()->set_target_group(v1::TARGET_GROUP_MOST_ILL);
    Execute(pnr, enrol);
    v1::CommandRequest consent = Command(pnr, tag + "-consent", kRegion);
    consent.mutable_consent_given()->set_consent_id(tag + "-consent-1");
    consent.mutable_consent_given()->set_scope(v1::CONSENT_SCOPE_SIP);
    consent.mutable_consent_given()->set_given_by(v1::CONSENT_GRANTOR_PATIENT);
    for (const std::string& hsa : receivers) {
      consent.mutable_consent_given()->add_receiving_organisations()->set_hsa_id(hsa);
    }
    Execute(pnr, consent);
    for (const v1::CareEvent& event : Events(pnr)) {
      if (event.has_patient_enrolled()) return event.patient_enrolled();
    }
    ADD_FAILURE() << "no PatientEnrolled for " << tag;
    return {};
  }

  std::vector<v1::CareEvent> Events(const std::string& pnr) {
    std::vector<v1::CareEvent> events;
    absl::StatusOr<std::vector<es::RecordedEvent>> stream =
        store_->ReadStream({.stream_id = "patient-" + patient_ids_[pnr]});
    EXPECT_TRUE(stream.ok()) << stream.status();
    if (!stream.ok()) return events;
    for (const es::RecordedEvent& recorded : *stream)
      events.emplace_back().ParseFromString(recorded.data);
    return events;
  }

  std::vector<std::string> CheckDeadlines() {
    grpc::ClientContext context;
    v1::CheckDeadlinesResponse response;
    EXPECT_TRUE(stub_->CheckDeadlines(&context, {}, &response).ok());
    return {response.event_ids().begin(), response.event_ids().end()};
  }

  // Projects the whole log with the real projection into a fresh ReadModel.
  std::unique_ptr<fhir::ReadModel> Project() {
    auto model = fhir::ReadModel::Open({.path = dir_.File(absl::StrCat("fhir-", ++models_))});
    EXPECT_TRUE(model.ok()) << model.status();
    const absl::Status status = fhir::testing::ProjectLog(*store_, **model);
    EXPECT_TRUE(status.ok()) << status;
    return *std::move(model);
  }

  std::map<std::string, std::string> patient_ids_;  // personnummer -> hub patient id
  int models_ = 0;
};

Json Read(const fhir::ReadModel& model, const std::string& type, const std::string& id) {
  absl::StatusOr<std::string> json = model.Read(type, id);
  EXPECT_TRUE(json.ok()) << type << "/" << id << ": " << json.status();
  return json.ok() ? Json::parse(*json) : Json::object();
}

// A resource's status in each version, oldest first (History is newest first).
std::vector<std::string> StatusHistory(const fhir::ReadModel& model, const std::string& type,
                                       const std::string& id) {
  std::vector<std::string> statuses;
  absl::StatusOr<std::vector<std::string>> history = model.History(type, id);
  EXPECT_TRUE(history.ok()) << type << "/" << id << ": " << history.status();
  if (!history.ok()) return statuses;
  for (auto it = history->rbegin(); it != history->rend(); ++it) {
    statuses.push_back(Json::parse(*it).value("status", ""));
  }
  return statuses;
}

// The projected ids, computed as the projection documents them (projection.h: ResourceId over
// the hub's internal ids; a stay is patient | visit-number assigner | visit number).
std::string PatientRef(const std::string& patient_id) {
  return "Patient/" + ResourceId("Patient", patient_id);
}
std::string EncounterId(const std::string& patient_id, const std::string& visit_number) {
  return ResourceId("stay", absl::StrCat(patient_id, "||", visit_number));
}
std::string SipTaskId(const std::string& encounter_id) {
  return ResourceId("Task", encounter_id + "|kallelse-sip");
}

TEST_F(ScenarioTest, TrinHipFractureWithRevokedReadinessAndCancelledDischarge) {
  const std::string trin = TestPersonnummer("19340512", "982");
  ASSERT_EQ(trin.size(), 13u);

  // Emergency registration at 03:00 on Monday 2 November, then the admission (A01) at 04:00:
  // Trin has no plan, so the admission stands alone.
  clock_.Set(Local(11, 2, 3));
  const std::string trin_id = Register(trin);
  clock_.Set(Local(11, 2, 4));
  v1::CommandRequest a01 = Command(trin, "trin-A01");
  *a01.mutable_inpatient_admitted()->mutable_stay() = Stay("VT-2001");
  a01.mutable_inpatient_admitted()->set_admission_type("E");
  Execute(trin, a01);
  const std::string encounter = EncounterId(trin_id, "VT-2001");
  {
    auto model = Project();
    const absl::StatusOr<std::vector<std::string>> plans = model->ListByType("CarePlan");
    ASSERT_TRUE(plans.ok()) << plans.status();
    EXPECT_TRUE(plans->empty());  // no plan existed before the admission
  }

  // Primary care enrols her the same day: the enrolment creates the plan and the team.
  clock_.Set(Local(11, 2, 10));
  const v1::PatientEnrolled enrolled =
      EnrolWithConsent(trin, "trin", {kRegion, kHospital, kKommunHsl, kNursingHome});

  // Ready for discharge Tuesday 11:00; revoked Wednesday 09:00 (pneumonia).
  clock_.Set(Local(11, 3, 11));
  v1::CommandRequest ready = Command(trin, "trin-ready-1");
  *ready.mutable_discharge_ready_declared()->mutable_stay() = Stay("VT-2001");
  Execute(trin, ready);
  clock_.Set(Local(11, 4, 9));
  v1::CommandRequest revoke = Command(trin, "trin-revoke-1");
  *revoke.mutable_discharge_ready_revoked()->mutable_stay() = Stay("VT-2001");
  revoke.mutable_discharge_ready_revoked()->set_reason("Pneumoni");
  Execute(trin, revoke);
  {
    auto model = Project();
    EXPECT_EQ(Read(*model, "Task", SipTaskId(encounter))["status"], "cancelled");
  }

  // Past the end of the revoked declaration's 3 days (it would have been due by Friday 6
  // November): nothing may be reported breached for it.
  clock_.Set(Local(11, 7, 9));
  EXPECT_TRUE(CheckDeadlines().empty());

  // Declared again Saturday 7 November 10:00; discharged to the nursing home Monday 9 at 10:00,
  // within 3 days and before payment responsibility (5 days) would start.
  clock_.Set(Local(11, 7, 10));
  v1::CommandRequest again = Command(trin, "trin-ready-2");
  *again.mutable_discharge_ready_declared()->mutable_stay() = Stay("VT-2001");
  Execute(trin, again);
  clock_.Set(Local(11, 9, 10));
  v1::CommandRequest a03 = Command(trin, "trin-A03");
  v1::InpatientDischarged* discharged = a03.mutable_inpatient_discharged();
  *discharged->mutable_stay() = Stay("VT-2001");
  discharged->mutable_disposition()->set_code("SÄBO");
  discharged->set_discharged_to_code("SABO-ROSEN");
  discharged->mutable_discharged_to()->set_hsa_id(kNursingHome);
  discharged->mutable_discharged_to()->set_name(kNursingHomeName);
  Execute(trin, a03);

  // The A03 was sent by mistake (she is not leaving yet): the hospital cancels it (A13) at 11:00.
  clock_.Set(Local(11, 9, 11));
  v1::CommandRequest a13 = Command(trin, "trin-A13");
  *a13.mutable_discharge_cancelled()->mutable_stay() = Stay("VT-2001");
  a13.mutable_discharge_cancelled()->set_reason("Utskrivning skickad av misstag");
  Execute(trin, a13);

  auto model = Project();
  // The plan and team were created by the enrolment, after the admission, for Trin.
  const Json plan = Read(*model, "CarePlan", ResourceId("CarePlan", enrolled.care_plan_id()));
  EXPECT_EQ(plan["status"], "draft");
  EXPECT_EQ(plan["subject"]["reference"], PatientRef(trin_id));
  EXPECT_EQ(Read(*model, "CareTeam", ResourceId("CareTeam", enrolled.care_team_id()))["status"],
            "proposed");

  // Encounter: one version per stay event — admitted, finished by the A03 (to the nursing home),
  // back in progress after the A13 (a compensating version, never a deletion).
  EXPECT_EQ(StatusHistory(*model, "Encounter", encounter),
            (std::vector<std::string>{"in-progress", "finished", "in-progress"}));
  absl::StatusOr<std::string> finished = model->VRead("Encounter", encounter, 2);
  ASSERT_TRUE(finished.ok()) << finished.status();
  EXPECT_EQ(Json::parse(*finished)["hospitalization"]["destination"]["display"], kNursingHomeName);
  const Json enc = Read(*model, "Encounter", encounter);
  EXPECT_EQ(enc["status"], "in-progress");
  EXPECT_EQ(enc["subject"]["reference"], PatientRef(trin_id));
  EXPECT_FALSE(enc["period"].contains("end")) << enc.dump();
  EXPECT_FALSE(enc["hospitalization"].contains("destination")) << enc.dump();

  // The SIP Task: requested, cancelled by the revocation, requested again by the new declaration
  // (the same Task, a new version: the projection keeps one SIP task per stay, projection.cc).
  EXPECT_EQ(StatusHistory(*model, "Task", SipTaskId(encounter)),
            (std::vector<std::string>{"requested", "cancelled", "requested"}));

  // No deadline of Trin's was reported breached, in the log or by a later check; the only
  // outcome is payment responsibility met (discharged within 5 days of the second declaration).
  clock_.Set(Local(11, 9, 12));
  EXPECT_TRUE(CheckDeadlines().empty());
  std::vector<v1::DeadlineKind> met;
  for (const v1::CareEvent& event : Events(trin)) {
    EXPECT_FALSE(event.has_deadline_breached()) << event.ShortDebugString();
    if (event.has_deadline_met()) met.push_back(event.deadline_met().kind());
  }
  EXPECT_EQ(met, std::vector<v1::DeadlineKind>{v1::DEADLINE_KIND_PAYMENT_RESPONSIBILITY});
}

TEST_F(ScenarioTest, SveasAdmissionStaysOutOfArnesRecord) {
  const std::string arne = TestPersonnummer("19480214", "983");
  const std::string svea = TestPersonnummer("19500907", "984");

  // Two patients, two plans, two teams, each with its own consent.
  const v1::PatientEnrolled arnes = EnrolWithConsent(arne, "arne", {kRegion, kKommunHsl});
  const v1::PatientEnrolled sveas = EnrolWithConsent(svea, "svea", {kRegion, kKommunHsl});
  ASSERT_NE(arnes.care_plan_id(), sveas.care_plan_id());
  ASSERT_NE(arnes.care_team_id(), sveas.care_team_id());

  // Svea is a related person (his wife) on Arne's team.
  v1::CommandRequest add = Command(arne, "arne-svea-member", kRegion);
  add.mutable_care_team_member_added()->set_care_team_id(arnes.care_team_id());
  v1::CareTeamMember* member = add.mutable_care_team_member_added()->mutable_member();
  member->set_kind(v1::MEMBER_KIND_RELATED_PERSON);
  member->set_name("Svea");
  member->mutable_role()->set_code("maka");
  Execute(arne, add);

  // Svea is admitted (A01) a week later.
  clock_.Set(Local(11, 9, 22));
  v1::CommandRequest a01 = Command(svea, "svea-A01");
  *a01.mutable_inpatient_admitted()->mutable_stay() = Stay("VT-3001");
  Execute(svea, a01);

  auto model = Project();
  const std::string arne_ref = PatientRef(patient_ids_[arne]);
  const std::string svea_ref = PatientRef(patient_ids_[svea]);

  // Her admission is hers: an in-progress Encounter with her as subject.
  const Json sveas_stay = Read(*model, "Encounter", EncounterId(patient_ids_[svea], "VT-3001"));
  EXPECT_EQ(sveas_stay["status"], "in-progress");
  EXPECT_EQ(sveas_stay["subject"]["reference"], svea_ref);

  // Arne's record: his plan and team are his, and the team names Svea only as a related person
  // (by name, no reference to her Patient or her stay).
  const Json plan = Read(*model, "CarePlan", ResourceId("CarePlan", arnes.care_plan_id()));
  EXPECT_EQ(plan["subject"]["reference"], arne_ref);
  const Json team = Read(*model, "CareTeam", ResourceId("CareTeam", arnes.care_team_id()));
  EXPECT_EQ(team["subject"]["reference"], arne_ref);
  const std::string team_text = team.dump();
  EXPECT_NE(team_text.find("Svea"), std::string::npos) << team_text;
  for (const std::string& leaked :
       {svea_ref, std::string("VT-3001"), EncounterId(patient_ids_[svea], "VT-3001")}) {
    EXPECT_EQ(plan.dump().find(leaked), std::string::npos) << leaked;
    EXPECT_EQ(team_text.find(leaked), std::string::npos) << leaked;
  }

  // Arne has no Encounter at all, and every Encounter there is belongs to Svea.
  int sveas_encounters = 0;
  const absl::StatusOr<std::vector<std::string>> encounters = model->ListByType("Encounter");
  ASSERT_TRUE(encounters.ok()) << encounters.status();
  for (const std::string& json : *encounters) {
    const Json encounter = Json::parse(json);
    EXPECT_NE(encounter["subject"]["reference"], arne_ref) << json;
    if (encounter["subject"]["reference"] == svea_ref) ++sveas_encounters;
  }
  EXPECT_EQ(sveas_encounters, 1);

  // Nothing of hers in his event stream either: the record is built from per-patient streams.
  for (const v1::CareEvent& event : Events(arne)) {
    EXPECT_FALSE(event.has_inpatient_admitted()) << event.ShortDebugString();
    EXPECT_EQ(event.patient_id(), patient_ids_[arne]);
  }
}

// Arne's daily self-monitoring crosses the plan's threshold: the alert puts a Flag on his record
// and an urgent Task on the mobile team, and the same-day home visit answers both.
TEST_F(ScenarioTest, ArnesDeteriorationFlagsHisRecordUntilTheSameDayVisit) {
  const std::string arne = TestPersonnummer("19480214", "983");
  EnrolWithConsent(arne, "arne", {kRegion, kKommunHsl});

  clock_.Set(Local(11, 10, 7));
  v1::CommandRequest spo2 = Command(arne, "arne-spo2", kKommunHsl);
  v1::SelfMonitoringObservationRecorded* obs = spo2.mutable_self_monitoring_observation_recorded();
  obs->set_observation_id("arne-spo2-1110");
  obs->mutable_code()->set_system("http://loinc.org");
  obs->mutable_code()->set_code("59408-5");
  obs->set_value(88);
  obs->set_unit("%");
  *obs->mutable_measured_at() = Proto(clock_.Now());
  Execute(arne, spo2);

  v1::CommandRequest alert = Command(arne, "arne-alert", kKommunHsl);
  v1::DeteriorationAlertRaised* raised = alert.mutable_deterioration_alert_raised();
  raised->set_alert_id("arne-alert-1");
  raised->set_severity(v1::ALERT_SEVERITY_HIGH);
  raised->add_observation_ids("arne-spo2-1110");
  raised->set_rule("SpO2 < 92 %");
  raised->mutable_assigned_to()->set_hsa_id(kKommunHsl);
  *raised->mutable_respond_by() = Proto(Local(11, 10, 18));
  Execute(arne, alert);

  const std::string flag_id = ResourceId("Flag", "alert|arne-alert-1");
  const std::string task_id = ResourceId("Task", "alert|arne-alert-1");
  {
    auto model = Project();
    const Json flag = Read(*model, "Flag", flag_id);
    EXPECT_EQ(flag["status"], "active");
    EXPECT_EQ(flag["subject"]["reference"], PatientRef(patient_ids_[arne]));
    EXPECT_EQ(flag["code"]["text"], "Försämringslarm: SpO2 < 92 %") << flag.dump();
    EXPECT_EQ(flag["author"]["identifier"]["value"], kKommunHsl);
    EXPECT_EQ(flag["period"]["start"], "2026-11-10T06:00:00.000Z");
    const Json task = Read(*model, "Task", task_id);
    EXPECT_EQ(task["status"], "requested");
    EXPECT_EQ(task["priority"], "asap");
  }

  // The mobile team visits him at noon.
  clock_.Set(Local(11, 10, 13));
  v1::CommandRequest visit = Command(arne, "arne-visit", kKommunHsl);
  v1::HomeVisitPerformed* performed = visit.mutable_home_visit_performed();
  performed->set_visit_id("arne-visit-1");
  performed->set_reason(v1::HOME_VISIT_REASON_ALERT);
  performed->set_alert_id("arne-alert-1");
  *performed->mutable_started_at() = Proto(Local(11, 10, 12));
  *performed->mutable_ended_at() = Proto(Local(11, 10, 13));
  performed->mutable_performing_organisation()->set_hsa_id(kKommunHsl);
  Execute(arne, visit);

  auto model = Project();
  const Json flag = Read(*model, "Flag", flag_id);
  EXPECT_EQ(flag["status"], "inactive");
  EXPECT_EQ(flag["period"]["end"], "2026-11-10T12:00:00.000Z") << flag.dump();
  EXPECT_EQ(flag["meta"]["versionId"], "2");
  EXPECT_EQ(Read(*model, "Task", task_id)["status"], "completed");
}

}  // namespace
}  // namespace carehub::services
