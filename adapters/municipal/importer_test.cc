// The importer against a real care service over gRPC: per-patient order, idempotent re-import,
// per-line errors from the reader, the mapping and the care service, and an unreachable service.
#include "carehub/municipal/importer.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "adapters/municipal/testing/municipal_fixture.h"
#include "gtest/gtest.h"

namespace carehub::municipal {
namespace {

using testing::JsonRecord;
using testing::kSecond;
using testing::kTolvan;

class ImporterTest : public testing::MunicipalFixture {};

// One patient's activity from planned to completed, a team member, a fast vårdkontakt, an agreed
// time, a home visit and a self-monitoring observation.
std::string TolvanDay(const std::string& prefix, const std::string& personnummer) {
  return absl::StrCat(
      JsonRecord("insats_planerad", prefix + "-1", personnummer),
      R"(,"activity_id":")", prefix, R"(-act","description":"Hemtjänst morgon och kväll","in_home":true})", "\n",
      JsonRecord("insats_paborjad", prefix + "-2", personnummer), R"(,"activity_id":")", prefix, R"(-act"})", "\n",
      JsonRecord("insats_vilande", prefix + "-3", personnummer), R"(,"activity_id":")", prefix, R"(-act","reason":"inlagd"})", "\n",
      JsonRecord("insats_aterupptagen", prefix + "-4", personnummer), R"(,"activity_id":")", prefix, R"(-act"})", "\n",
      JsonRecord("teammedlem_tillagd", prefix + "-5", personnummer, "HSL"),
      R"(,"member_kind":"personal","member_hsa_id":"SE2120001231-P1","member_name":"Anna Sjuksköterska"})", "\n",
      JsonRecord("fast_vardkontakt", prefix + "-6", personnummer, "HSL"), R"(,"member_hsa_id":"SE2120001231-P1"})", "\n",
      JsonRecord("overenskommen_tid", prefix + "-7", personnummer),
      R"(,"appointment_id":")", prefix, R"(-t1","activity_id":")", prefix, R"(-act","start":"2026-11-19 08:00"})", "\n",
      JsonRecord("hembesok_utfort", prefix + "-8", personnummer, "HSL"),
      R"(,"visit_id":")", prefix, R"(-v1","activity_id":")", prefix, R"(-act","visit_reason":"planerat"})", "\n",
      JsonRecord("egenmatning", prefix + "-9", personnummer, "HSL"),
      R"(,"observation_id":")", prefix, R"(-o1","code_system":"http://loinc.org","code":"59408-5","value":93,"unit":"%"})", "\n",
      JsonRecord("insats_avslutad", prefix + "-10", personnummer), R"(,"activity_id":")", prefix, R"(-act"})", "\n",
      JsonRecord("teammedlem_borttagen", prefix + "-11", personnummer, "HSL"),
      R"(,"member_kind":"personal","member_hsa_id":"SE2120001231-P1","reason":"slutat"})", "\n");
}

TEST_F(ImporterTest, EveryRecordTypeReachesThePatientsStreamInFileOrder) {
  const std::string tolvan = Enrol(kTolvan);
  const std::string second = Enrol(kSecond);
  // Two patients interleaved line by line: each patient's lines must still be applied in order.
  const std::string a = TolvanDay("t", kTolvan), b = TolvanDay("s", kSecond);
  std::vector<std::string> la = absl::StrSplit(a, '\n', absl::SkipEmpty());
  std::vector<std::string> lb = absl::StrSplit(b, '\n', absl::SkipEmpty());
  std::string file;
  for (size_t i = 0; i < la.size(); ++i) absl::StrAppend(&file, la[i], "\n", lb[i], "\n");

  const ImportReport report = importer_->Import(file, {.kind = FileKind::kJsonLines});
  for (const LineResult& line : report.lines) {
    EXPECT_EQ(line.status, LineStatus::kAccepted) << line.line << ": " << line.reason;
  }
  EXPECT_EQ(report.accepted, 22);
  EXPECT_TRUE(report.complete());

  const std::vector<std::string> expected = {
      "carehub.care.v1.PatientIdentifierLinked", "carehub.care.v1.PatientEnrolled",
      "carehub.care.v1.ActivityPlanned",         "carehub.care.v1.ActivityStarted",
      "carehub.care.v1.ActivityPaused",          "carehub.care.v1.ActivityResumed",
      "carehub.care.v1.CareTeamMemberAdded",     "carehub.care.v1.PrimaryContactAssigned",
      "carehub.care.v1.AgreedTimeBooked",        "carehub.care.v1.HomeVisitPerformed",
      "carehub.care.v1.SelfMonitoringObservationRecorded",
      "carehub.care.v1.ActivityCompleted",       "carehub.care.v1.CareTeamMemberRemoved"};
  std::vector<std::string> tolvan_types = EventTypes(tolvan);
  // The identifier link may live in the registry rather than the patient's stream.
  if (!tolvan_types.empty() && tolvan_types[0] != expected[0]) {
    EXPECT_EQ(tolvan_types, std::vector<std::string>(expected.begin() + 1, expected.end()));
  } else {
    EXPECT_EQ(tolvan_types, expected);
  }
  EXPECT_EQ(EventTypes(second), tolvan_types);
}

TEST_F(ImporterTest, ReimportingChangesNothing) {
  Enrol(kTolvan);
  const std::string file = TolvanDay("t", kTolvan);
  const ImportReport first = importer_->Import(file, {.kind = FileKind::kJsonLines});
  EXPECT_EQ(first.accepted, 11);
  const uint64_t size = LogSize();

  const ImportReport again = importer_->Import(file, {.kind = FileKind::kJsonLines});
  EXPECT_EQ(again.accepted, 0);
  EXPECT_EQ(again.already_imported, 11);
  EXPECT_EQ(again.rejected, 0);
  EXPECT_EQ(LogSize(), size);
}

TEST_F(ImporterTest, PerLineErrorsNameTheLineAndTheRestIsImported) {
  Enrol(kTolvan);
  const std::string file = absl::StrCat(
      JsonRecord("insats_planerad", "r-1"), R"(,"activity_id":"act"})", "\n",   // 1 ok
      "{not json\n",                                                            // 2 reader
      JsonRecord("insats_paborjad", "r-3"), "}\n",                              // 3 mapping
      JsonRecord("insats_paborjad", "r-4"), R"(,"activity_id":"nope"})", "\n",  // 4 care: NOT_FOUND
      JsonRecord("insats_avslutad", "r-5"), R"(,"activity_id":"act"})", "\n",   // 5 care: illegal
      "\n",
      JsonRecord("insats_paborjad", "r-7"), R"(,"activity_id":"act"})", "\n",   // 7 ok
      JsonRecord("insats_paborjad", "r-8", "19000101-0016"), R"(,"activity_id":"act"})", "\n");  // 8 unknown patient
  const ImportReport report = importer_->Import(file, {.kind = FileKind::kJsonLines});
  ASSERT_EQ(report.lines.size(), 7u);
  EXPECT_EQ(report.accepted, 2);
  EXPECT_EQ(report.rejected, 5);
  EXPECT_TRUE(report.complete());
  EXPECT_EQ(report.lines[0].status, LineStatus::kAccepted);
  EXPECT_EQ(report.lines[1].line, 2);
  EXPECT_NE(report.lines[1].reason.find("malformed JSON"), std::string::npos);
  EXPECT_EQ(report.lines[1].text, "{not json");
  EXPECT_EQ(report.lines[2].reason, "activity_id: required");
  EXPECT_EQ(report.lines[2].record_id, "r-3");
  EXPECT_EQ(report.lines[3].status, LineStatus::kRejected);
  EXPECT_NE(report.lines[3].reason.find("activity_started.activity_id"), std::string::npos)
      << report.lines[3].reason;
  EXPECT_NE(report.lines[4].reason.find("cannot become completed"), std::string::npos)
      << report.lines[4].reason;
  EXPECT_EQ(report.lines[5].line, 7);
  EXPECT_EQ(report.lines[5].status, LineStatus::kAccepted);
  EXPECT_EQ(report.lines[6].status, LineStatus::kRejected);
  EXPECT_EQ(report.lines[6].reason.find("190001010016"), std::string::npos);
}

TEST_F(ImporterTest, Windows1252CsvWithSemicolons) {
  const std::string tolvan = Enrol(kTolvan);
  // As Excel saves "CSV (semikolonavgränsad)" on a Swedish Windows: Windows-1252, ';', CRLF.
  const std::string file =
      "format;record_type;record_id;personnummer;owner;occurred_at;activity_id;description;"
      "frequency;period;period_unit;times_of_day;reason\r\n"
      "carehub-municipal/1;insats_planerad;csv-1;19121212-1212;SoL;2026-11-18 08:00;a1;"
      "Hemtj\xE4nst morgon och kv\xE4ll;2;1;dag;08:00|20:00;\r\n"
      "carehub-municipal/1;insats_paborjad;csv-2;121212+1212;SoL;2026-11-18 09:00;a1;;;;;;\r\n"
      "carehub-municipal/1;insats_vilande;csv-3;19121212-1212;SoL;2026-11-19 07:00;a1;;;;;;"
      "\"Inlagd p\xE5 sjukhus; \xF6vriga insatser vilar\"\r\n";
  const ImportReport report = importer_->Import(file, {.kind = FileKind::kCsv});
  for (const LineResult& line : report.lines) {
    EXPECT_EQ(line.status, LineStatus::kAccepted) << line.line << ": " << line.reason;
  }
  ASSERT_EQ(report.lines.size(), 3u);
  EXPECT_EQ(report.lines[2].line, 4);
  EXPECT_NE(report.lines[2].text.find("Inlagd på sjukhus"), std::string::npos);

  absl::StatusOr<std::vector<eventstore::RecordedEvent>> events =
      store_->ReadStream({.stream_id = "patient-" + tolvan});
  ASSERT_TRUE(events.ok());
  care::v1::CareEvent planned, paused;
  for (const eventstore::RecordedEvent& e : *events) {
    care::v1::CareEvent event;
    ASSERT_TRUE(event.ParseFromString(e.data));
    if (event.has_activity_planned()) planned = event;
    if (event.has_activity_paused()) paused = event;
  }
  EXPECT_EQ(planned.activity_planned().description(), "Hemtjänst morgon och kväll");
  EXPECT_EQ(planned.activity_planned().schedule().times_of_day_size(), 2);
  EXPECT_EQ(paused.activity_paused().reason(), "Inlagd på sjukhus; övriga insatser vilar");
  EXPECT_EQ(planned.source().system(), "lifecare-test");
  EXPECT_EQ(planned.data_owner().kind(), care::v1::DATA_OWNER_KIND_MUNICIPALITY_SOL);
}

TEST_F(ImporterTest, AnUnreachableCareServiceLeavesLinesNotProcessed) {
  Enrol(kTolvan);
  server_->Shutdown(absl::Seconds(1));
  const std::string file = absl::StrCat(
      JsonRecord("insats_planerad", "u-1"), R"(,"activity_id":"act"})", "\n",
      JsonRecord("insats_paborjad", "u-2"), R"(,"activity_id":"act"})", "\n",
      "garbage\n");
  const ImportReport report = importer_->Import(file, {.kind = FileKind::kJsonLines});
  EXPECT_FALSE(report.complete());
  ASSERT_EQ(report.lines.size(), 3u);
  EXPECT_EQ(report.lines[0].status, LineStatus::kNotProcessed);
  EXPECT_NE(report.lines[0].reason.find("UNAVAILABLE"), std::string::npos) << report.lines[0].reason;
  EXPECT_EQ(report.lines[1].status, LineStatus::kNotProcessed);
  EXPECT_EQ(report.lines[1].reason, "an earlier line of this patient (line 1) was not processed");
  EXPECT_EQ(report.lines[2].status, LineStatus::kRejected);
  server_.reset();
}

std::string Testdata(const std::string& name) {
  std::ifstream in(std::string(CAREHUB_MUNICIPAL_TESTDATA) + "/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The sample files for the Märta and Trin scenarios (municipal side) import cleanly once primary
// care has enrolled the patients.
TEST_F(ImporterTest, ScenarioSampleFilesImportCleanly) {
  Enrol(kTolvan);  // Märta's file uses the test identity 19121212-1212
  Enrol(kSecond);  // Trin's 19000101-0008
  for (const auto& [name, kind] : {std::pair{"marta_kommun.csv", FileKind::kCsv},
                                   std::pair{"trin_sabo.jsonl", FileKind::kJsonLines}}) {
    const std::string file = Testdata(name);
    ASSERT_FALSE(file.empty()) << name;
    const ImportReport report = importer_->Import(file, {.kind = kind});
    EXPECT_GT(report.accepted, 5) << name;
    for (const LineResult& line : report.lines) {
      EXPECT_EQ(line.status, LineStatus::kAccepted) << name << ":" << line.line << ": " << line.reason;
    }
  }
}

}  // namespace
}  // namespace carehub::municipal
