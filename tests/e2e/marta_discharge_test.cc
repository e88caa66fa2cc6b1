// Märta's discharge (DOMAIN.md; Lag (2017:612)) end to end across real processes:
// carehub-eventstore, carehub-care and carehub-fhir each in its own process on 127.0.0.1:0, data
// in a temp dir, the journey driven over gRPC (carehub.care.v1.CareService) and everything
// asserted through the FHIR REST API over HTTP, waiting for the projector through GET /health.
//
// Also what the record said at each moment: the FHIR resources served during the journey are
// recorded with the log position (or time) of each moment, and `carehub-audit replay --at` must
// reproduce every one of them exactly, both on the stopped hub's data directory and over gRPC
// against a running carehubd.
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/hub_processes.h"
#include "tests/e2e/marta_journey.h"

namespace carehub::e2e {
namespace {

using services::testing::ReadFileOrEmpty;

constexpr char kHub[] = "https://carehub.se/fhir/CodeSystem/carehub";

// The resources of Märta's record as the API served them at one moment of the journey.
struct Served {
  std::string label;
  uint64_t position = 0;       // the last event of the moment
  absl::Time after;            // a time after that event was recorded and before the next
  std::map<std::string, Json> resources;  // "Type/id" -> the body GET /fhir/Type/id answered
};

// Types that `replay` leaves out by design (audit.h): shared across patients, or Provenance.
bool SharedType(const std::string& type) {
  return type == "Organization" || type == "Practitioner" || type == "PractitionerRole" ||
         type == "Provenance";
}

Served Capture(const FhirClient& fhir, const std::string& patient_id, const std::string& label,
               uint64_t position) {
  Served served{.label = label, .position = position, .after = absl::Now()};
  for (const Json& r : fhir.SearchAll(absl::StrCat("Patient/", patient_id, "/$everything?_count=500"))) {
    const std::string type = r.value("resourceType", "");
    if (SharedType(type)) continue;
    const std::string id = r.value("id", "");
    served.resources[absl::StrCat(type, "/", id)] = fhir.Read(type, id);
  }
  return served;
}

std::string Keys(const std::map<std::string, Json>& m) {
  std::string out;
  for (const auto& [key, unused] : m) absl::StrAppend(&out, key, " ");
  return out;
}

// The replay's Bundle, unwrapped, must hold exactly the resources served at the moment, each
// equal as a JSON document (meta included: the replay promises the server's bytes).
void ExpectReplayReproduces(const ProcessRun& run, const Served& served, const std::string& how) {
  SCOPED_TRACE(absl::StrCat(served.label, " via ", how));
  ASSERT_EQ(run.exit_code, 0) << run.Show();
  Json bundle = Json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(bundle.is_object()) << run.Show();
  EXPECT_EQ(bundle.value("resourceType", ""), "Bundle");
  std::map<std::string, Json> replayed;
  for (const Json& entry : bundle.value("entry", Json::array())) {
    Json r = entry["resource"];
    replayed[absl::StrCat(r.value("resourceType", ""), "/", r.value("id", ""))] = r;
  }
  EXPECT_EQ(Keys(replayed), Keys(served.resources));
  for (const auto& [key, resource] : served.resources) {
    auto it = replayed.find(key);
    if (it == replayed.end()) continue;
    EXPECT_EQ(it->second, resource) << key << "\n replayed: " << it->second.dump()
                                    << "\n served:   " << resource.dump();
  }
}

// Replays every moment by its log position, and moments[by_time] also by a time, through
// `source` (--hub=... or --data_dir=...).
void ExpectReplaysReproduce(const TempDir& dir, const std::string& source, const std::string& personnummer,
                            const std::vector<Served>& moments, size_t by_time) {
  const std::string how = source.substr(0, source.find('='));
  for (const Served& served : moments) {
    ExpectReplayReproduces(RunProcess(dir, CAREHUB_AUDIT_PATH,
                                  {source, "replay", "--patient=" + personnummer,
                                   absl::StrCat("--at=", served.position)}),
                           served, how + " --at=position");
  }
  ExpectReplayReproduces(RunProcess(dir, CAREHUB_AUDIT_PATH,
                                {source, "replay", "--patient=" + personnummer,
                                 "--at=" + Rfc3339(moments[by_time].after)}),
                         moments[by_time], how + " --at=time");
}

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
    // Its gRPC port (the access log) is written once the HTTP port is.
    fhir_ = StartServer(CAREHUB_FHIR_PATH,
                        {"--data_dir=" + dir_.File("fhir"), "--http_address=127.0.0.1:0",
                         "--http_port_file=" + dir_.File("fhir-http.port"), "--grpc_address=127.0.0.1:0", log},
                        dir_, "fhir", &fhir_grpc_port_);
    ASSERT_NE(fhir_, nullptr);
    absl::StatusOr<int> http = fhir_->WaitForPortFile(dir_.File("fhir-http.port"), absl::Seconds(60));
    ASSERT_TRUE(http.ok()) << http.status() << Logs();
    http_port_ = *http;
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
  int store_port_ = 0, care_port_ = 0, http_port_ = 0, fhir_grpc_port_ = 0;
  std::unique_ptr<ServerProcess> store_, care_, fhir_;
};

TEST_F(MartaDischargeTest, PlanTeamStayAndDeadlinesThroughFhirAcrossProcesses) {
  ASSERT_NO_FATAL_FAILURE(StartHub());
  CareClient care(care_port_);
  FhirClient fhir(http_port_);
  MartaJourney marta(&care);
  std::vector<Served> moments;

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
  moments.push_back(Capture(fhir, patient_id, "plan agreed", agreed));

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
  moments.push_back(Capture(fhir, patient_id, "admitted at night", admitted));
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
  moments.push_back(Capture(fhir, patient_id, "ready for discharge", ready));
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
  moments.push_back(Capture(fhir, patient_id, "back home", home));
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

  // Every read above is in carehub-fhir's access log, which auditors read from it while it runs;
  // the patient is named by personnummer and resolved by the care service.
  {
    const std::vector<std::string> where = {absl::StrCat("--hub=127.0.0.1:", care_port_),
                                            absl::StrCat("--access_log_hub=127.0.0.1:", fhir_grpc_port_)};
    std::vector<std::string> args = where;
    for (const char* arg : {"access-log", "--format=ndjson"}) args.push_back(arg);
    args.push_back("--patient=" + marta.personnummer());
    const ProcessRun accesses = RunProcess(dir_, CAREHUB_AUDIT_PATH, args);
    ASSERT_EQ(accesses.exit_code, 0) << accesses.Show();
    size_t reads = 0;
    for (const std::string& line : std::vector<std::string>(absl::StrSplit(accesses.out, '\n', absl::SkipEmpty()))) {
      const Json event = Json::parse(line, nullptr, /*allow_exceptions=*/false);
      EXPECT_EQ(event.value("resourceType", ""), "AuditEvent") << line;
      EXPECT_NE(event.dump().find(patient_ref), std::string::npos) << line;
      ++reads;
    }
    // The reads and searches of this test that named her: at least one per FHIR call above that
    // returned her resources (the Patient search, plan, team, histories, Encounters, Tasks...).
    EXPECT_GE(reads, 20u) << accesses.out;
    args = where;
    for (const char* arg : {"verify", "--log=access"}) args.push_back(arg);
    const ProcessRun verified = RunProcess(dir_, CAREHUB_AUDIT_PATH, args);
    EXPECT_EQ(verified.exit_code, 0) << verified.Show();
  }

  StopCleanly(*fhir_, "fhir");
  StopCleanly(*care_, "care");
  StopCleanly(*store_, "eventstore");
  ASSERT_FALSE(HasFailure()) << Logs();

  // What was served at each moment, replayed from the stopped hub's data directory: by the log
  // position of the moment, and for the night of the admission also by a time.
  ExpectReplaysReproduce(dir_, "--data_dir=" + dir_.File("hub"), marta.personnummer(), moments, 1);
}

// carehubd, one process: the replay over gRPC (--hub) of the running hub, then on its data
// directory once stopped, against what its FHIR API served.
TEST(MartaReplayTest, ReplayAtEachMomentIsWhatTheHubServed) {
  TempDir dir;
  int grpc_port = 0, http_port = 0;
  std::unique_ptr<ServerProcess> hub = StartServer(
      CAREHUBD_PATH,
      {"--data_dir=" + dir.File("hub"), "--grpc_address=127.0.0.1:0",
       "--http_address=127.0.0.1:0", "--http_port_file=" + dir.File("http.port"),
       "--municipal_http_address=", "--deadline_check_interval=24h"},
      dir, "carehubd", &grpc_port);
  ASSERT_NE(hub, nullptr);
  absl::StatusOr<int> bound = hub->WaitForPortFile(dir.File("http.port"), absl::Seconds(60));
  ASSERT_TRUE(bound.ok()) << bound.status() << ReadFileOrEmpty(dir.File("carehubd.log"));
  http_port = *bound;

  CareClient care(grpc_port);
  FhirClient fhir(http_port);
  MartaJourney marta(&care);
  std::vector<Served> moments;
  std::string patient_id;
  for (int step = 0; step < 4; ++step) {
    uint64_t position = 0;
    switch (step) {
      case 0: position = marta.EnrolAndAgreePlan(); break;
      case 1: position = marta.AdmitAtNight(); break;
      case 2: position = marta.NoticeTransferAndReady(); break;
      case 3: position = marta.InviteDischargeAndMeet(); break;
    }
    ASSERT_FALSE(HasFailure()) << ReadFileOrEmpty(dir.File("carehubd.log"));
    ASSERT_TRUE(fhir.WaitUntilProjected(position).ok())
        << ReadFileOrEmpty(dir.File("carehubd.log"));
    if (patient_id.empty()) {
      patient_id = fhir.PatientByPersonnummer(marta.personnummer()).value("id", "");
      ASSERT_FALSE(patient_id.empty());
    }
    moments.push_back(Capture(fhir, patient_id, absl::StrCat("step ", step), position));
  }

  ExpectReplaysReproduce(dir, absl::StrCat("--hub=127.0.0.1:", grpc_port), marta.personnummer(),
                         moments, 2);
  StopCleanly(*hub, "carehubd");
  ExpectReplaysReproduce(dir, "--data_dir=" + dir.File("hub"), marta.personnummer(), moments, 2);
}

}  // namespace
}  // namespace carehub::e2e
