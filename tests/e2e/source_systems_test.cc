// Märta and Trin as their source systems send them (DOMAIN.md; issue 5): the hospital EHR's HL7
// v2 ADT over MLLP to carehub-hl7v2, the municipality's files dropped in carehub-municipal's inbox
// and POSTed to /municipal/v1/import, primary care's enrolment over gRPC; carehub-eventstore,
// carehub-care and carehub-fhir each in their own process. Everything is asserted through the FHIR
// REST API, after GET /health says the projector has passed the last event.
//
// And the Encounter as each ADT trigger shapes it: A04 (registration: the Patient, no stay), A06
// (outpatient to inpatient: the stay begins), A02 and A12 (a transfer and its cancellation), A16
// (a changed expected discharge), A07 (inpatient to outpatient: the inpatient stay ends), A03 and
// A13 (a discharge and its cancellation).
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "carehub/hl7v2/mllp_client.h"
#include "gtest/gtest.h"
#include "services/fhir/testing/http_client.h"
#include "tests/e2e/hub_processes.h"

namespace carehub::e2e {
namespace {

namespace fs = std::filesystem;
namespace v1 = care::v1;
using services::testing::ReadFileOrEmpty;
using services::testing::TestHttpClient;

constexpr char kRegionHsa[] = "SE2321000131-E000000000001";
constexpr char kKommunHsl[] = "SE2120000829-E000000000002";
constexpr char kKommunSol[] = "SE2120000829-E000000000003";
constexpr char kExpectedDischarge[] = "https://carehub.se/fhir/StructureDefinition/expected-discharge";

// One ADT message as Cambio Cosmic would send it: local times without an offset (the facility's
// zone, Europe/Stockholm), the personnummer in PID-3 under Skatteverket's OID, not first.
struct Adt {
  std::string trigger;
  std::string control_id;
  std::string personnummer;  // 12 digits
  std::string name;          // XPN: family^given
  std::string visit;         // PV1-19
  std::string patient_class = "I";
  std::string event_time;    // MSH-7 and EVN-6, YYYYMMDDHHMM
  std::string location;      // PV1-3
  std::string prior_location;  // PV1-6
  std::string admitted;      // PV1-44
  std::string discharged;    // PV1-45
  std::string disposition;   // PV1-36
  std::string discharged_to;  // PV1-37
  std::string expected_discharge;  // PV2-9
};

std::string Build(const Adt& a) {
  std::vector<std::string> pv1(46);
  pv1[0] = "PV1";
  pv1[1] = "1";
  pv1[2] = a.patient_class;
  pv1[3] = a.location;
  pv1[6] = a.prior_location;
  pv1[19] = absl::StrCat(a.visit, "^^^COSMIC");
  pv1[36] = a.disposition;
  pv1[37] = a.discharged_to;
  pv1[44] = a.admitted;
  pv1[45] = a.discharged;
  std::string message = absl::StrCat(
      "MSH|^~\\&|COSMIC|SE2321000131|CAREHUB|REGION|", a.event_time, "||ADT^", a.trigger, "|",
      a.control_id, "|P|2.5|||||SE|UNICODE UTF-8\r",
      "EVN|", a.trigger, "|", a.event_time, "||||", a.event_time, "\r",
      "PID|1||4711^^^COSMIC^MR~", a.personnummer, "^^^SKV&1.2.752.129.2.1.3.1&ISO^PN||", a.name,
      "||", a.personnummer.substr(0, 8), "|F\r", absl::StrJoin(pv1, "|"), "\r");
  if (!a.expected_discharge.empty()) {
    absl::StrAppend(&message, "PV2|||||||||", a.expected_discharge, "\r");
  }
  return message;
}

std::string Digits(const std::string& personnummer) {
  std::string out;
  for (char c : personnummer) {
    if (c >= '0' && c <= '9') out += c;
  }
  return out;
}

std::string Statuses(const std::vector<Json>& versions) {
  std::vector<std::string> out;
  for (const Json& v : versions) out.push_back(v.value("status", ""));
  return absl::StrJoin(out, ",");
}

std::string LocationTrail(const Json& encounter) {
  std::vector<std::string> out;
  for (const Json& l : encounter.value("location", Json::array())) {
    out.push_back(absl::StrCat(l["location"].value("display", ""), ":", l.value("status", "")));
  }
  return absl::StrJoin(out, ",");
}

std::string ExpectedDischarge(const Json& encounter) {
  for (const Json& ext : encounter.value("extension", Json::array())) {
    if (ext.value("url", "") == kExpectedDischarge) return ext.value("valueDateTime", "");
  }
  return "";
}

std::string ActivityStatus(const Json& plan, const std::string& description) {
  for (const Json& a : plan.value("activity", Json::array())) {
    Json detail = a.value("detail", Json::object());
    if (detail.value("description", "") == description) return detail.value("status", "");
  }
  return "(none)";
}

// The log, the care service, the FHIR read side, the HL7 v2 adapter and the municipal adapter,
// five processes.
class SourceSystemsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = StartServer(CAREHUB_EVENTSTORE_PATH,
                         {"--data_dir=" + dir_.File("hub/eventstore"), "--grpc_address=127.0.0.1:0"},
                         dir_, "eventstore", &store_port_);
    ASSERT_NE(store_, nullptr);
    const std::string log = absl::StrCat("--eventstore_address=127.0.0.1:", store_port_);
    care_ = StartServer(CAREHUB_CARE_PATH,
                        {"--data_dir=" + dir_.File("hub/care"), "--grpc_address=127.0.0.1:0", log,
                         "--deadline_check_interval=24h"},
                        dir_, "care", &care_port_);
    ASSERT_NE(care_, nullptr);
    fhir_ = StartServer(CAREHUB_FHIR_PATH,
                        {"--data_dir=" + dir_.File("fhir"), "--http_address=127.0.0.1:0",
                         "--grpc_address=127.0.0.1:0", log},
                        dir_, "fhir", &http_port_, "--http_port_file");
    ASSERT_NE(fhir_, nullptr);
    const std::string care = absl::StrCat("--care_address=127.0.0.1:", care_port_);
    hl7v2_ = StartServer(CAREHUB_HL7V2_PATH,
                         {care, "--mllp_address=127.0.0.1:0", "--data_dir=" + dir_.File("hub"),
                          absl::StrCat("--owner_hsa_id=", kRegionHsa)},
                         dir_, "hl7v2", &mllp_port_);
    ASSERT_NE(hl7v2_, nullptr);
    municipal_ = StartServer(CAREHUB_MUNICIPAL_PATH,
                             {care, "--data_dir=" + dir_.File("hub"), "--http_address=127.0.0.1:0",
                              "--poll_interval=50ms", "--source_system=lifecare-test"},
                             dir_, "municipal", &municipal_port_);
    ASSERT_NE(municipal_, nullptr);
    care_client_ = std::make_unique<CareClient>(care_port_);
    fhir_client_ = std::make_unique<FhirClient>(http_port_);
  }

  void TearDown() override {
    // No personnummer in any process's log.
    for (const char* name : {"eventstore", "care", "fhir", "hl7v2", "municipal"}) {
      const std::string log = ReadFileOrEmpty(dir_.File(absl::StrCat(name, ".log")));
      for (const std::string& pnr : personnummer_) {
        EXPECT_FALSE(absl::StrContains(log, pnr.substr(0, 8) + pnr.substr(9)) ||
                     absl::StrContains(log, pnr))
            << name << ".log names a personnummer";
      }
    }
    for (auto* process : {&municipal_, &hl7v2_, &fhir_, &care_, &store_}) {
      if (*process != nullptr) StopCleanly(**process, "server");
    }
  }

  std::string Logs() {
    std::string out;
    for (const char* name : {"care", "fhir", "hl7v2", "municipal"}) {
      const std::string log = ReadFileOrEmpty(dir_.File(absl::StrCat(name, ".log")));
      absl::StrAppend(&out, "--- ", name, ".log (tail)\n",
                      log.size() > 2500 ? log.substr(log.size() - 2500) : log, "\n");
    }
    return out;
  }

  // Sends one ADT message over MLLP; returns the ACK code (MSA-1).
  std::string Send(const Adt& adt) {
    absl::StatusOr<std::unique_ptr<hl7v2::MllpClient>> client =
        hl7v2::MllpClient::Connect(absl::StrCat("127.0.0.1:", mllp_port_));
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return "";
    absl::StatusOr<std::string> ack = (*client)->Send(Build(adt), absl::Seconds(30));
    EXPECT_TRUE(ack.ok()) << ack.status();
    if (!ack.ok()) return "";
    const size_t msa = ack->find("MSA|");
    EXPECT_NE(msa, std::string::npos) << *ack;
    if (msa == std::string::npos) return "";
    const std::string code = ack->substr(msa + 4, 2);
    EXPECT_EQ(code, "AA") << adt.trigger << " " << adt.control_id << ": " << *ack << Logs();
    return code;
  }

  // Primary care enrols the patient (gRPC: no ADT message enrols anyone) with a SIP consent.
  void Enrol(const std::string& personnummer, const std::string& tag, absl::Time at) {
    v1::CommandRequest enrol;
    enrol.set_command_id(tag + "-enrol");
    enrol.mutable_patient()->mutable_identifier()->set_kind(v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
    enrol.mutable_patient()->mutable_identifier()->set_value(personnummer);
    enrol.mutable_source()->set_system("vardcentral-journal");
    enrol.mutable_source()->set_organisation_hsa_id(kRegionHsa);
    enrol.mutable_data_owner()->set_kind(v1::DATA_OWNER_KIND_REGION);
    enrol.mutable_data_owner()->set_organisation_hsa_id(kRegionHsa);
    *enrol.mutable_occurred_at() = Proto(at);
    v1::CommandRequest consent = enrol;
    enrol.mutable_patient_enrolled()->set_target_group(v1::TARGET_GROUP_MOST_ILL);
    absl::StatusOr<v1::CommandResponse> enrolled = care_client_->Execute(enrol);
    ASSERT_TRUE(enrolled.ok()) << enrolled.status();
    consent.set_command_id(tag + "-consent");
    consent.mutable_consent_given()->set_consent_id(tag + "-consent-1");
    consent.mutable_consent_given()->set_scope(v1::CONSENT_SCOPE_SIP);
    consent.mutable_consent_given()->set_given_by(v1::CONSENT_GRANTOR_PATIENT);
    for (const char* hsa : {kRegionHsa, kKommunHsl, kKommunSol}) {
      consent.mutable_consent_given()->add_receiving_organisations()->set_hsa_id(hsa);
    }
    ASSERT_TRUE(care_client_->Execute(consent).ok());
  }

  // Waits until the read model holds everything in the log now.
  void WaitForProjection() {
    const FhirClient::Response health = fhir_client_->Get("/health");
    Json h = Json::parse(health.body, nullptr, false);
    ASSERT_TRUE(h.is_object() && h.contains("log_end")) << health.body;
    const uint64_t log_end = h["log_end"];
    ASSERT_GT(log_end, 0u);
    ASSERT_TRUE(fhir_client_->WaitUntilProjected(log_end - 1).ok()) << Logs();
  }

  // The Encounters of the patient, by visit number.
  std::map<std::string, Json> Encounters(const std::string& patient_id) {
    std::map<std::string, Json> out;
    for (const Json& e : fhir_client_->SearchAll("Encounter?patient=Patient/" + patient_id)) {
      for (const Json& id : e.value("identifier", Json::array())) out[id.value("value", "")] = e;
    }
    return out;
  }

  void DropInInbox(const std::string& name, const std::string& content) {
    const std::string inbox = dir_.File("hub/municipal/inbox");
    {
      std::ofstream out(inbox + "/." + name, std::ios::binary);
      out << content;
    }
    fs::rename(inbox + "/." + name, inbox + "/" + name);
  }

  bool WaitForFile(const std::string& path) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (!fs::exists(path) && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
    return fs::exists(path);
  }

  TempDir dir_;
  std::vector<std::string> personnummer_;
  int store_port_ = 0, care_port_ = 0, http_port_ = 0, mllp_port_ = 0, municipal_port_ = 0;
  std::unique_ptr<ServerProcess> store_, care_, fhir_, hl7v2_, municipal_;
  std::unique_ptr<CareClient> care_client_;
  std::unique_ptr<FhirClient> fhir_client_;
};

// Trin, 91, from the nursing home with a hip fracture: emergency registration (A04), admission
// (A01), no plan existed so primary care enrols her; a changed expected discharge (A16); a
// discharge to the nursing home (A03, PV1-37) sent by mistake and cancelled (A13), then the real
// one; the nursing home's care arrives as a municipal file over HTTP and another in the inbox.
TEST_F(SourceSystemsTest, TrinFromTheEhrAndTheNursingHome) {
  const std::string trin = TestPersonnummer("19340512", "982");
  personnummer_.push_back(trin);
  const std::string pnr = Digits(trin);
  const Adt base{.personnummer = pnr, .name = "Testsson^Trin", .visit = "VT-2001"};

  Adt a04 = base;
  a04.trigger = "A04";
  a04.control_id = "trin-1";
  a04.visit = "AK-2001";
  a04.patient_class = "E";
  a04.event_time = "202611020300";
  a04.location = "AKM^^^SE2321000131";
  a04.admitted = "202611020300";
  ASSERT_EQ(Send(a04), "AA");
  Adt a01 = base;
  a01.trigger = "A01";
  a01.control_id = "trin-2";
  a01.event_time = "202611020400";
  a01.location = "ORT2^3^1";
  a01.admitted = "202611020400";
  ASSERT_EQ(Send(a01), "AA");
  // The interface engine resends the admission (its ACK was lost): AA again, nothing new.
  ASSERT_EQ(Send(a01), "AA");
  ASSERT_NO_FATAL_FAILURE(Enrol(trin, "trin", Stockholm(2026, 11, 2, 10)));
  Adt a16 = base;
  a16.trigger = "A16";
  a16.control_id = "trin-3";
  a16.event_time = "202611050900";
  a16.location = "ORT2^3^1";
  a16.expected_discharge = "202611091000";
  ASSERT_EQ(Send(a16), "AA");
  Adt a03 = base;
  a03.trigger = "A03";
  a03.control_id = "trin-4";
  a03.event_time = "202611091000";
  a03.location = "ORT2^3^1";
  a03.admitted = "202611020400";
  a03.discharged = "202611091000";
  a03.disposition = "01";
  a03.discharged_to = "SABO-ROSEN^Rosengårdens särskilda boende";
  ASSERT_EQ(Send(a03), "AA");
  Adt a13 = base;
  a13.trigger = "A13";
  a13.control_id = "trin-5";
  a13.event_time = "202611091100";
  ASSERT_EQ(Send(a13), "AA");
  Adt again = a03;
  again.control_id = "trin-6";
  again.event_time = "202611101000";
  again.discharged = "202611101000";
  ASSERT_EQ(Send(again), "AA");

  // The nursing home's care and team (JSON Lines over HTTP), then a nurse's visit (CSV, in the
  // inbox, Windows-1252 as a spreadsheet writes it).
  const std::string jsonl = absl::StrCat(
      R"({"format":"carehub-municipal/1","record_type":"insats_planerad","record_id":"sabo-1","personnummer":")",
      trin, R"(","owner":"SoL","owner_hsa_id":")", kKommunSol,
      R"(","occurred_at":"2026-11-10 12:00","activity_id":"trin-sabo","description":"Särskilt boende, omvårdnad dygnet runt","in_home":true})", "\n",
      R"({"format":"carehub-municipal/1","record_type":"insats_paborjad","record_id":"sabo-2","personnummer":")",
      trin, R"(","owner":"SoL","occurred_at":"2026-11-10 12:05","activity_id":"trin-sabo"})", "\n",
      R"({"format":"carehub-municipal/1","record_type":"teammedlem_tillagd","record_id":"sabo-3","personnummer":")",
      trin, R"(","owner":"HSL","occurred_at":"2026-11-10 12:10","member_kind":"personal","member_hsa_id":"SE2120000829-P000000000301","member_name":"Sara Ek","role_display":"Sjuksköterska","member_org_name":"Rosengårdens särskilda boende"})", "\n");
  {
    TestHttpClient client(municipal_port_);
    TestHttpClient::Response r = client.Send("POST", "/municipal/v1/import",
                                             {{"Content-Type", "application/x-ndjson"}}, jsonl);
    ASSERT_EQ(r.status, 200) << r.body;
    Json result = Json::parse(r.body);
    EXPECT_EQ(result["accepted"], 3) << r.body;
  }
  const std::string csv = absl::StrCat(
      "format;record_type;record_id;personnummer;owner;occurred_at;visit_id;visit_reason;"
      "activity_id;outcome\r\n",
      "carehub-municipal/1;hembesok_utfort;sabo-4;", trin,
      ";HSL;2026-11-11 09:00;trin-besok-1;planerat;trin-sabo;M\xE5r bra, s\xE5r l\xE4kt\r\n");
  DropInInbox("sabo-2026-11-11.csv", csv);
  ASSERT_TRUE(WaitForFile(dir_.File("hub/municipal/done/sabo-2026-11-11.csv")))
      << ReadFileOrEmpty(dir_.File("hub/municipal/failed/sabo-2026-11-11.csv.rejects.jsonl"))
      << Logs();

  ASSERT_NO_FATAL_FAILURE(WaitForProjection());
  FhirClient& fhir = *fhir_client_;
  Json patient = fhir.PatientByPersonnummer(trin);
  const std::string patient_id = patient.value("id", "");
  ASSERT_FALSE(patient_id.empty());
  EXPECT_EQ(patient["birthDate"], "1934-05-12");

  // One stay: the A04's emergency visit is a registration, not a hospital stay.
  std::map<std::string, Json> encounters = Encounters(patient_id);
  ASSERT_EQ(encounters.count("VT-2001"), 1u) << fhir.SearchAll("Encounter?patient=Patient/" + patient_id).size();
  EXPECT_EQ(encounters.count("AK-2001"), 0u);
  Json stay = encounters["VT-2001"];
  const std::string stay_id = stay.value("id", "");
  // A01, A16, A03 (by mistake), A13, A03: one version each; the resent A01 added none.
  EXPECT_EQ(Statuses(fhir.History("Encounter", stay_id)),
            "in-progress,in-progress,finished,in-progress,finished");
  EXPECT_EQ(stay["status"], "finished");
  EXPECT_EQ(stay["class"]["code"], "IMP");
  EXPECT_EQ(stay["period"]["start"], "2026-11-02T03:00:00.000Z") << stay.dump();
  EXPECT_EQ(stay["period"]["end"], "2026-11-10T09:00:00.000Z") << stay.dump();
  EXPECT_EQ(stay["hospitalization"]["destination"]["display"], "Rosengårdens särskilda boende")
      << stay.dump();
  EXPECT_EQ(ExpectedDischarge(stay), "2026-11-09T09:00:00.000Z") << stay.dump();

  // The plan primary care created after the admission, with the nursing home's care in it, and
  // the team with the nursing home's nurse.
  const std::vector<Json> plans = fhir.SearchAll("CarePlan?patient=Patient/" + patient_id);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(ActivityStatus(plans[0], "Särskilt boende, omvårdnad dygnet runt"), "in-progress")
      << plans[0].dump();
  const std::vector<Json> teams = fhir.SearchAll("CareTeam?patient=Patient/" + patient_id);
  ASSERT_EQ(teams.size(), 1u);
  EXPECT_TRUE(absl::StrContains(teams[0].dump(), "Sara Ek")) << teams[0].dump();
  // The nurse's visit: a home-care Encounter beside the stay.
  encounters = Encounters(patient_id);
  int home_visits = 0;
  for (const Json& e : fhir.SearchAll("Encounter?patient=Patient/" + patient_id)) {
    if (e["class"].value("code", "") == "HH") ++home_visits;
  }
  EXPECT_EQ(home_visits, 1);
}

// One stay through the triggers that change or cancel: A04 registers (no Encounter), A06 turns
// the emergency visit into an inpatient stay, A02 moves her, A12 cancels the move, A16 changes
// the expected discharge, A07 ends the inpatient stay (she continues as an outpatient), and the
// A03 that ends the outpatient visit changes the stay no more.
TEST_F(SourceSystemsTest, EncounterThroughA06A02A12A16A07) {
  const std::string tolvan = "19121212-1212";
  personnummer_.push_back(tolvan);
  const Adt base{.personnummer = "191212121212", .name = "Tolvansson^Tolvan", .visit = "V-3001"};
  Adt a04 = base;
  a04.trigger = "A04";
  a04.control_id = "tolvan-1";
  a04.patient_class = "E";
  a04.event_time = "202611200800";
  a04.location = "AKUT^1^1";
  a04.admitted = "202611200800";
  ASSERT_EQ(Send(a04), "AA");
  ASSERT_NO_FATAL_FAILURE(WaitForProjection());
  Json patient = fhir_client_->PatientByPersonnummer(tolvan);
  const std::string patient_id = patient.value("id", "");
  ASSERT_FALSE(patient_id.empty());
  EXPECT_EQ(patient["name"][0]["family"], "Tolvansson") << patient.dump();
  EXPECT_TRUE(Encounters(patient_id).empty()) << "A04 registers the patient, it admits no one";

  Adt a06 = base;
  a06.trigger = "A06";
  a06.control_id = "tolvan-2";
  a06.event_time = "202611201000";
  a06.location = "AKUT^1^1";
  a06.admitted = "202611201000";
  ASSERT_EQ(Send(a06), "AA");
  Adt a02 = base;
  a02.trigger = "A02";
  a02.control_id = "tolvan-3";
  a02.event_time = "202611201400";
  a02.location = "MAVA3^12^2";
  a02.prior_location = "AKUT^1^1";
  ASSERT_EQ(Send(a02), "AA");
  Adt a12 = base;
  a12.trigger = "A12";
  a12.control_id = "tolvan-4";
  a12.event_time = "202611201430";
  a12.location = "AKUT^1^1";
  a12.prior_location = "MAVA3^12^2";
  ASSERT_EQ(Send(a12), "AA");
  Adt a16 = base;
  a16.trigger = "A16";
  a16.control_id = "tolvan-5";
  a16.event_time = "202611210900";
  a16.location = "AKUT^1^1";
  a16.expected_discharge = "202611231200";
  ASSERT_EQ(Send(a16), "AA");
  ASSERT_NO_FATAL_FAILURE(WaitForProjection());
  {
    std::map<std::string, Json> encounters = Encounters(patient_id);
    ASSERT_EQ(encounters.size(), 1u);
    Json stay = encounters.begin()->second;
    EXPECT_EQ(encounters.begin()->first, "V-3001");
    EXPECT_EQ(stay["status"], "in-progress");
    EXPECT_EQ(stay["class"]["code"], "IMP");
    EXPECT_EQ(stay["period"]["start"], "2026-11-20T09:00:00.000Z") << stay.dump();
    // The cancelled move stays in the history as a compensating move back.
    EXPECT_EQ(LocationTrail(stay),
              "AKUT sal 1 säng 1:completed,MAVA3 sal 12 säng 2:completed,AKUT sal 1 säng 1:active")
        << stay.dump();
    EXPECT_EQ(ExpectedDischarge(stay), "2026-11-23T11:00:00.000Z") << stay.dump();
  }

  Adt a07 = base;
  a07.trigger = "A07";
  a07.control_id = "tolvan-6";
  a07.patient_class = "O";
  a07.event_time = "202611220900";
  a07.location = "AKUT^1^1";
  a07.admitted = "202611201000";
  ASSERT_EQ(Send(a07), "AA");
  // The outpatient visit the A07 began ends (A03, PV1-2 O): the stay had already ended.
  Adt a03 = base;
  a03.trigger = "A03";
  a03.control_id = "tolvan-7";
  a03.patient_class = "O";
  a03.event_time = "202611221500";
  a03.location = "AKUT^1^1";
  a03.discharged = "202611221500";
  ASSERT_EQ(Send(a03), "AA");
  ASSERT_NO_FATAL_FAILURE(WaitForProjection());
  std::map<std::string, Json> encounters = Encounters(patient_id);
  ASSERT_EQ(encounters.size(), 1u);
  Json stay = encounters.begin()->second;
  EXPECT_EQ(Statuses(fhir_client_->History("Encounter", stay.value("id", ""))),
            "in-progress,in-progress,in-progress,in-progress,finished");
  EXPECT_EQ(stay["status"], "finished");
  EXPECT_EQ(stay["period"]["end"], "2026-11-22T08:00:00.000Z") << stay.dump();
  EXPECT_EQ(LocationTrail(stay),
            "AKUT sal 1 säng 1:completed,MAVA3 sal 12 säng 2:completed,AKUT sal 1 säng 1:completed")
      << stay.dump();
  EXPECT_EQ(stay["hospitalization"]["dischargeDisposition"]["coding"][0]["code"], "A07")
      << stay.dump();
}

}  // namespace
}  // namespace carehub::e2e
