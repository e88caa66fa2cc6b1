// Märta's discharge (DOMAIN.md; Lag (2017:612)) end to end across real processes:
// carehub-eventstore, carehub-care and carehub-fhir each in its own process on 127.0.0.1:0, data
// in a temp dir, the journey driven over gRPC (carehub.care.v1.CareService) and everything
// asserted through the FHIR REST API over HTTP, waiting for the projector through GET /health.
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/hub_processes.h"
#include "tests/e2e/marta_journey.h"

namespace carehub::e2e {
namespace {

using services::testing::ReadFileOrEmpty;

constexpr char kHub[] = "https://carehub.se/fhir/CodeSystem/carehub";

std::vector<std::string> Statuses(const std::vector<Json>& versions) {
  std::vector<std::string> out;
  for (const Json& v : versions) out.push_back(v.value("status", ""));
  return out;
}

// status of each CarePlan.activity by its description.
// The plan's own activities (those with a detail), by description.
std::map<std::string, std::string> ActivityStatuses(const Json& plan) {
  std::map<std::string, std::string> out;
  for (const Json& a : plan.value("activity", Json::array())) {
    if (!a.contains("detail")) continue;
    Json detail = a.value("detail", Json::object());
    out[detail.value("description", "?")] = detail.value("status", "");
  }
  return out;
}

bool HasHubCoding(const Json& concepts, const std::string& code) {
  for (const Json& codeable : concepts) {
    for (const Json& coding : codeable.value("coding", Json::array())) {
      if (coding.value("system", "") == kHub && coding.value("code", "") == code) return true;
    }
  }
  return false;
}

const Json& OnlyOne(const std::vector<Json>& resources, const std::string& what) {
  static const Json kEmpty = Json::object();
  EXPECT_EQ(resources.size(), 1u) << what;
  return resources.empty() ? kEmpty : resources.front();
}

std::string DueOf(const Json& task) {
  return task.value("restriction", Json::object())
      .value("period", Json::object())
      .value("end", "");
}

std::string BusinessStatus(const Json& task) {
  for (const Json& coding :
       task.value("businessStatus", Json::object()).value("coding", Json::array())) {
    return coding.value("code", "");
  }
  return "";
}

// Three processes: the log, the care service over it, the FHIR read side over it.
class MartaDischargeTest : public ::testing::Test {
 protected:
  void StartHub() {
    {
      std::ofstream agreements(dir_.File("agreements.txt"));
      agreements << kPaymentAgreement;
    }
    store_ = StartServer(CAREHUB_EVENTSTORE_PATH,
                         {"--data_dir=" + dir_.File("hub/eventstore"), "--grpc_address=127.0.0.1:0"},
                         dir_, "eventstore", &store_port_);
    ASSERT_NE(store_, nullptr);
    const std::string log = absl::StrCat("--eventstore_address=127.0.0.1:", store_port_);
    care_ = StartServer(CAREHUB_CARE_PATH,
                        {"--data_dir=" + dir_.File("hub/care"), "--grpc_address=127.0.0.1:0", log,
                         "--payment_agreements=" + dir_.File("agreements.txt"),
                         // Deadlines are checked by this test, at the moments it chooses.
                         "--deadline_check_interval=24h"},
                        dir_, "care", &care_port_);
    ASSERT_NE(care_, nullptr);
    fhir_ = StartServer(CAREHUB_FHIR_PATH,
                        {"--data_dir=" + dir_.File("fhir"), "--http_address=127.0.0.1:0", log},
                        dir_, "fhir", &http_port_, "--http_port_file");
    ASSERT_NE(fhir_, nullptr);
  }

  std::string Logs() {
    std::string out;
    for (const char* name : {"eventstore", "care", "fhir"}) {
      absl::StrAppend(&out, "--- ", name, ".log (tail)\n");
      const std::string log = ReadFileOrEmpty(dir_.File(absl::StrCat(name, ".log")));
      absl::StrAppend(&out, log.size() > 3000 ? log.substr(log.size() - 3000) : log, "\n");
    }
    return out;
  }

  TempDir dir_;
  int store_port_ = 0, care_port_ = 0, http_port_ = 0;
  std::unique_ptr<ServerProcess> store_, care_, fhir_;
};

TEST_F(MartaDischargeTest, PlanTeamStayAndDeadlinesThroughFhirAcrossProcesses) {
  ASSERT_NO_FATAL_FAILURE(StartHub());
  CareClient care(care_port_);
  FhirClient fhir(http_port_);
  MartaJourney marta(&care);

  // 2 November: the plan agreed, the team from region and municipality.
  const uint64_t agreed = marta.EnrolAndAgreePlan();
  ASSERT_FALSE(HasFailure()) << Logs();
  ASSERT_TRUE(fhir.WaitUntilProjected(agreed).ok()) << Logs();
  Json patient = fhir.PatientByPersonnummer(marta.personnummer());
  const std::string patient_id = patient.value("id", "");
  ASSERT_FALSE(patient_id.empty()) << Logs();
  const std::string patient_ref = "Patient/" + patient_id;
  EXPECT_EQ(patient["birthDate"], "1947-03-01");
  EXPECT_EQ(patient["gender"], "female");  // the second-to-last digit is even

  Json plan = OnlyOne(fhir.SearchAll("CarePlan?patient=" + patient_ref), "CarePlan");
  EXPECT_EQ(plan["status"], "active");
  EXPECT_EQ(plan["intent"], "plan");
  EXPECT_EQ(plan["subject"]["reference"], patient_ref);
  EXPECT_TRUE(HasHubCoding(plan.value("category", Json::array()), "mest-sjuka")) << plan.dump();
  EXPECT_TRUE(HasHubCoding(plan.value("category", Json::array()), "sip")) << plan.dump();
  EXPECT_EQ(plan.value("goal", Json::array()).size(), 2u) << plan.dump();
  EXPECT_EQ(ActivityStatuses(plan),
            (std::map<std::string, std::string>{{"Läkemedelsgenomgång", "in-progress"},
                                                {"Hemsjukvård en gång i veckan", "in-progress"},
                                                {"Hemtjänst morgon och kväll", "in-progress"}}))
      << plan.dump();
  // Draft under planning, active once agreed: the history keeps both.
  const std::string plan_id = plan["id"];
  const std::vector<std::string> plan_statuses = Statuses(fhir.History("CarePlan", plan_id));
  ASSERT_FALSE(plan_statuses.empty());
  EXPECT_EQ(plan_statuses.front(), "draft");
  EXPECT_EQ(plan_statuses.back(), "active");

  Json team = OnlyOne(fhir.SearchAll("CareTeam?patient=" + patient_ref), "CareTeam");
  ASSERT_EQ(plan.value("careTeam", Json::array()).size(), 1u) << plan.dump();
  EXPECT_EQ(plan["careTeam"][0]["reference"], "CareTeam/" + team.value("id", ""));
  EXPECT_EQ(team["subject"]["reference"], patient_ref);
  // The fast vårdkontakt and members from the region and both municipal data owners.
  int primary_contacts = 0;
  for (const Json& p : team.value("participant", Json::array())) {
    if (HasHubCoding(p.value("role", Json::array()), "fast-vardkontakt")) {
      ++primary_contacts;
      EXPECT_TRUE(p.contains("period") && p["period"].contains("start")) << p.dump();
    }
  }
  EXPECT_EQ(primary_contacts, 1) << team.dump();
  EXPECT_GE(team.value("participant", Json::array()).size(), 3u) << team.dump();
  EXPECT_EQ(fhir.SearchAll("Goal?patient=" + patient_ref).size(), 2u);
  EXPECT_EQ(OfType(fhir.SearchAll("Consent?patient=" + patient_ref), "Consent").size(), 1u);

  // Monday 16 November 02:30, admitted at night: an inpatient Encounter, the home activities on
  // hold, the admission notice Task due 24 hours after the needs assessment.
  const uint64_t admitted = marta.AdmitAtNight();
  ASSERT_FALSE(HasFailure()) << Logs();
  ASSERT_TRUE(fhir.WaitUntilProjected(admitted).ok()) << Logs();
  {
    Json stay = OnlyOne(fhir.SearchAll("Encounter?patient=" + patient_ref), "Encounter");
    EXPECT_EQ(stay["status"], "in-progress");
    EXPECT_EQ(stay["class"]["code"], "IMP");
    EXPECT_EQ(stay["period"]["start"], Rfc3339(MartaJourney::Admitted()).substr(0, 19) + ".000Z")
        << stay.dump();
    EXPECT_EQ(ActivityStatuses(fhir.Read("CarePlan", plan_id)),
              (std::map<std::string, std::string>{{"Läkemedelsgenomgång", "in-progress"},
                                                  {"Hemsjukvård en gång i veckan", "on-hold"},
                                                  {"Hemtjänst morgon och kväll", "on-hold"}}));
    Json notice_task = OnlyOne(
        WithHubCode(fhir.SearchAll("Task?patient=" + patient_ref), "inskrivningsmeddelande"),
        "inskrivningsmeddelande Task");
    EXPECT_EQ(notice_task["status"], "requested");
    EXPECT_EQ(notice_task["encounter"]["reference"], "Encounter/" + stay.value("id", ""));
    // Needs assessed at 08:00 after the 02:30 admission: due 24 hours after the later of the two.
    EXPECT_EQ(DueOf(notice_task), "2026-11-17T07:00:00.000Z") << notice_task.dump();
  }

  // The notice, the transfer and ready-for-discharge.
  const uint64_t ready = marta.NoticeTransferAndReady();
  ASSERT_FALSE(HasFailure()) << Logs();
  ASSERT_TRUE(fhir.WaitUntilProjected(ready).ok()) << Logs();
  std::string stay_id;
  {
    Json stay = OnlyOne(fhir.SearchAll("Encounter?patient=" + patient_ref), "Encounter");
    stay_id = stay.value("id", "");
    Json locations = stay["location"];
    ASSERT_EQ(locations.size(), 2u) << stay.dump();
    EXPECT_EQ(locations[0]["status"], "completed");
    EXPECT_EQ(locations[0]["location"]["display"], "Medicinavdelning 3");
    EXPECT_EQ(locations[1]["status"], "active");
    EXPECT_EQ(locations[1]["location"]["display"], "Geriatrisk avdelning 5");
    const std::vector<Json> tasks = fhir.SearchAll("Task?patient=" + patient_ref);
    Json notice_task = OnlyOne(WithHubCode(tasks, "inskrivningsmeddelande"), "notice Task");
    EXPECT_EQ(notice_task["status"], "completed");
    EXPECT_EQ(BusinessStatus(notice_task), "tidsfrist-uppfylld") << notice_task.dump();
    // Ready Tuesday 17 November: the SIP invitation is due by the end of Friday 20 November,
    // Stockholm time (CET, UTC+1).
    Json sip_task = OnlyOne(WithHubCode(tasks, "kallelse-sip"), "kallelse-sip Task");
    EXPECT_EQ(sip_task["status"], "requested");
    EXPECT_EQ(DueOf(sip_task), "2026-11-20T23:00:00.000Z") << sip_task.dump();
    const std::vector<Json> communications = fhir.SearchAll("Communication?patient=" + patient_ref);
    EXPECT_EQ(WithHubCode(communications, "inskrivningsmeddelande").size(), 1u);
    EXPECT_EQ(WithHubCode(communications, "kvittens-inskrivningsmeddelande").size(), 1u);
    EXPECT_EQ(WithHubCode(communications, "utskrivningsklar").size(), 1u);
  }

  // SIP invitation within 3 days, discharge home, information the same day, the meeting.
  const uint64_t home = marta.InviteDischargeAndMeet();
  ASSERT_FALSE(HasFailure()) << Logs();
  // Nothing is breached when the deadlines of the stay are long past.
  absl::StatusOr<care::v1::CheckDeadlinesResponse> checked =
      care.CheckDeadlines(Stockholm(2026, 11, 30, 9));
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->event_ids_size(), 0);
  ASSERT_TRUE(fhir.WaitUntilProjected(home).ok()) << Logs();
  {
    Json stay = fhir.Read("Encounter", stay_id);
    EXPECT_EQ(stay["status"], "finished");
    EXPECT_EQ(stay["period"]["end"], "2026-11-19T12:00:00.000Z") << stay.dump();
    EXPECT_EQ(stay["hospitalization"]["dischargeDisposition"]["coding"][0]["code"], "home");
    EXPECT_EQ(Statuses(fhir.History("Encounter", stay_id)).front(), "in-progress");
    EXPECT_EQ(ActivityStatuses(fhir.Read("CarePlan", plan_id)),
              (std::map<std::string, std::string>{{"Läkemedelsgenomgång", "in-progress"},
                                                  {"Hemsjukvård en gång i veckan", "in-progress"},
                                                  {"Hemtjänst morgon och kväll", "in-progress"}}));
    const std::vector<Json> tasks = fhir.SearchAll("Task?patient=" + patient_ref);
    Json sip_task = OnlyOne(WithHubCode(tasks, "kallelse-sip"), "kallelse-sip Task");
    EXPECT_EQ(sip_task["status"], "completed");
    EXPECT_EQ(BusinessStatus(sip_task), "tidsfrist-uppfylld") << sip_task.dump();
    for (const Json& task : tasks) {
      EXPECT_NE(BusinessStatus(task), "tidsfrist-overskriden") << task.dump();
    }
    Json meeting = OnlyOne(fhir.SearchAll("Appointment?patient=" + patient_ref), "SIP meeting");
    EXPECT_EQ(meeting["status"], "fulfilled") << meeting.dump();
    // The meeting is an activity of the plan (the invitation named no plan: the open one).
    std::vector<std::string> referenced;
    for (const Json& a : fhir.Read("CarePlan", plan_id).value("activity", Json::array())) {
      if (a.contains("reference")) referenced.push_back(a["reference"].value("reference", ""));
    }
    EXPECT_EQ(referenced, std::vector<std::string>{"Appointment/" + meeting.value("id", "")});
    const std::vector<Json> communications = fhir.SearchAll("Communication?patient=" + patient_ref);
    Json info = OnlyOne(WithHubCode(communications, "information-vid-utskrivning"),
                              "discharge information");
    EXPECT_EQ(info["sent"], "2026-11-19T15:00:00.000Z");
  }

  StopCleanly(*fhir_, "fhir");
  StopCleanly(*care_, "care");
  StopCleanly(*store_, "eventstore");
  ASSERT_FALSE(HasFailure()) << Logs();
}

}  // namespace
}  // namespace carehub::e2e
