// carehub-audit as an operator runs it: a real data directory written by carehub-synth-region
// (the real care service), altered underneath with RocksDB's own ldb tool as an attacker with
// file access would, and the real binary run as a child process, its exit code and output
// checked. Also against a running carehubd over gRPC.
#include <signal.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "carehub/audit/audit.h"
#include "carehub/audit/patient_resolver.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/fhir/projection.h"
#include "carehub/services/testing/server_process.h"
#include "carehub/services/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/fhir/testing/http_client.h"
#include "tests/region/region.h"

namespace carehub::audit {
namespace {

using services::testing::ProcessRun;
using services::testing::ReadFileOrEmpty;
using services::testing::RunProcess;
using services::testing::ServerProcess;
using services::testing::TempDir;

constexpr char kTolvan[] = "19121212-1212";  // a valid test personnummer, not in the region

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ProcessRun synth = RunProcess(dir_, CAREHUB_SYNTH_REGION_PATH,
                                 {"--data_dir=" + data_dir(), "--patients=4", "--threads=1"});
    ASSERT_EQ(synth.exit_code, 0) << synth.Show();
    absl::StatusOr<std::unique_ptr<eventstore::EventStore>> store =
        eventstore::EventStore::Open({.path = log_dir(), .read_only = true});
    ASSERT_TRUE(store.ok()) << store.status();
    head_ = (*store)->Head().value();
    ASSERT_TRUE(head_.position.has_value());
    ASSERT_GT(*head_.position, 40u);
  }

  std::string data_dir() const { return dir_.File("hub"); }
  std::string log_dir() const { return dir_.File("hub/eventstore"); }

  ProcessRun Audit(std::vector<std::string> args) {
    args.insert(args.begin(), "--data_dir=" + data_dir());
    return RunProcess(dir_, CAREHUB_AUDIT_PATH, args);
  }

  // ldb on the events column family, keys and values in hex.
  ProcessRun Ldb(std::vector<std::string> args) {
    args.insert(args.begin(), {"--db=" + log_dir(), "--column_family=events", "--hex"});
    return RunProcess(dir_, CAREHUB_LDB_PATH, args);
  }
  static std::string Key(uint64_t position) { return absl::StrFormat("0x%016X", position); }
  std::string Get(uint64_t position) {
    const ProcessRun run = Ldb({"get", Key(position)});
    EXPECT_EQ(run.exit_code, 0) << run.Show();
    return std::string(absl::StripAsciiWhitespace(run.out));
  }
  void Put(uint64_t position, const std::string& hex_value) {
    const ProcessRun run = Ldb({"put", Key(position), hex_value});
    ASSERT_EQ(run.exit_code, 0) << run.Show();
  }

  void ExpectVerifyFailsAt(uint64_t position) {
    const ProcessRun run = Audit({"verify"});
    EXPECT_EQ(run.exit_code, 1) << run.Show();
    EXPECT_TRUE(absl::StrContains(run.out, absl::StrCat("FAILED at position ", position, ":")))
        << run.Show();
  }

  TempDir dir_;
  eventstore::LogHead head_;
};

TEST_F(AuditCliTest, VerifyPrintsTheHeadOfAnIntactLog) {
  const ProcessRun run = Audit({"verify"});
  ASSERT_EQ(run.exit_code, 0) << run.Show();
  EXPECT_TRUE(absl::StrContains(run.out, "verify: OK")) << run.Show();
  EXPECT_TRUE(absl::StrContains(run.out, absl::StrCat("head: ", FormatLogHead(head_), "\n")))
      << run.Show();
  EXPECT_TRUE(absl::StrContains(run.out, absl::StrCat("events verified: ", *head_.position + 1)))
      << run.Show();
}

TEST_F(AuditCliTest, AlteredByteIsFoundAtItsPosition) {
  const uint64_t target = *head_.position / 2;
  std::string value = Get(target);
  ASSERT_TRUE(absl::StartsWith(value, "0x")) << value;
  // One byte in the middle of the record (well before the 32-byte hash at the end).
  const size_t digit = 2 + ((value.size() - 2 - 64) / 2) / 2 * 2;
  value[digit] = value[digit] == '4' ? '5' : '4';
  Put(target, value);
  ExpectVerifyFailsAt(target);
}

TEST_F(AuditCliTest, DeletedEventIsFoundAtItsPosition) {
  const uint64_t target = *head_.position / 3;
  const ProcessRun run = Ldb({"delete", Key(target)});
  ASSERT_EQ(run.exit_code, 0) << run.Show();
  ExpectVerifyFailsAt(target);
}

TEST_F(AuditCliTest, SwappedEventsAreFoundAtTheEarlierPosition) {
  const uint64_t first = 10;
  const uint64_t second = *head_.position - 5;
  const std::string a = Get(first);
  const std::string b = Get(second);
  Put(first, b);
  Put(second, a);
  ExpectVerifyFailsAt(first);
}

TEST_F(AuditCliTest, VerifyFromARecordedHeadProvesTheLogExtendsIt) {
  const std::string recorded = FormatLogHead(head_);
  const ProcessRun more = RunProcess(dir_, CAREHUB_SYNTH_REGION_PATH,
                              {"--data_dir=" + data_dir(), "--patients=1", "--first_patient=4",
                               "--threads=1"});
  ASSERT_EQ(more.exit_code, 0) << more.Show();
  const ProcessRun ok = Audit({"verify", "--from=" + recorded});
  EXPECT_EQ(ok.exit_code, 0) << ok.Show();
  EXPECT_TRUE(absl::StrContains(ok.out, "extends " + recorded)) << ok.Show();

  eventstore::LogHead forged = head_;
  forged.hash[0] ^= 1;
  const ProcessRun bad = Audit({"verify", "--from=" + FormatLogHead(forged)});
  EXPECT_EQ(bad.exit_code, 1) << bad.Show();
  EXPECT_TRUE(absl::StrContains(bad.out, absl::StrCat("FAILED at position ", *head_.position)))
      << bad.Show();

  const ProcessRun malformed = Audit({"verify", "--from=12:nothex"});
  EXPECT_EQ(malformed.exit_code, 2) << malformed.Show();
}

TEST_F(AuditCliTest, HistoryAndReplayFindThePatientByPersonnummer) {
  const std::string pnr = region::PatientPersonnummer(2);
  const ProcessRun table = Audit({"history", "--patient=" + pnr});
  ASSERT_EQ(table.exit_code, 0) << table.Show();
  std::vector<std::string> lines = absl::StrSplit(table.out, '\n', absl::SkipEmpty());
  ASSERT_GT(lines.size(), 10u) << table.Show();
  EXPECT_TRUE(absl::StartsWith(lines[0], "RECORDED_AT")) << lines[0];
  EXPECT_TRUE(absl::StrContains(table.out, "PatientEnrolled")) << table.Show();
  const std::string digits = absl::StrReplaceAll(pnr, {{"-", ""}});
  EXPECT_FALSE(absl::StrContains(table.out, digits)) << "history shows the personnummer";

  const ProcessRun json = Audit({"history", "--patient=" + pnr, "--format=json"});
  ASSERT_EQ(json.exit_code, 0) << json.Show();
  EXPECT_EQ(std::count(json.out.begin(), json.out.end(), '\n'), static_cast<long>(lines.size() - 1));

  // The last event's time: the replay then is the patient's whole record.
  const std::string last_time(absl::StripAsciiWhitespace(lines.back().substr(0, 27)));
  const ProcessRun replay = Audit({"replay", "--patient=" + pnr, "--at=" + last_time});
  ASSERT_EQ(replay.exit_code, 0) << replay.Show();
  EXPECT_TRUE(absl::StartsWith(replay.out, R"({"resourceType":"Bundle","type":"collection")"))
      << replay.Show();
  EXPECT_TRUE(absl::StrContains(replay.out, R"("resourceType":"CarePlan")")) << replay.Show();
  EXPECT_TRUE(absl::StrContains(replay.out, R"("resourceType":"CareTeam")")) << replay.Show();

  const std::string first_time(absl::StripAsciiWhitespace(lines[1].substr(0, 27)));
  const ProcessRun diff = Audit({"diff", "--patient=" + pnr, "--from=" + first_time, "--to=" + last_time});
  ASSERT_EQ(diff.exit_code, 0) << diff.Show();
  EXPECT_TRUE(absl::StrContains(diff.out, "CarePlan")) << diff.Show();
  EXPECT_TRUE(absl::StrContains(diff.out, "participant")) << diff.Show();
}

TEST_F(AuditCliTest, ClearErrors) {
  const ProcessRun unknown = Audit({"history", absl::StrCat("--patient=", kTolvan)});
  EXPECT_EQ(unknown.exit_code, 3) << unknown.Show();
  EXPECT_TRUE(absl::StrContains(unknown.err, "unknown patient")) << unknown.Show();
  EXPECT_FALSE(absl::StrContains(unknown.err, "1212")) << "the error repeats the personnummer";

  const ProcessRun invalid = Audit({"history", "--patient=19121212-1213"});  // bad check digit
  EXPECT_EQ(invalid.exit_code, 2) << invalid.Show();
  EXPECT_FALSE(absl::StrContains(invalid.err, "1212")) << invalid.Show();

  const ProcessRun early = Audit({"replay", "--patient=" + region::PatientPersonnummer(0),
                           "--at=2001-01-01T00:00:00Z"});
  EXPECT_EQ(early.exit_code, 3) << early.Show();
  EXPECT_TRUE(absl::StrContains(early.err, "before the log began")) << early.Show();

  const ProcessRun past = Audit({"replay", "--patient=" + region::PatientPersonnummer(0),
                          absl::StrCat("--at=", *head_.position + 100)});
  EXPECT_EQ(past.exit_code, 3) << past.Show();
  EXPECT_TRUE(absl::StrContains(past.err, "past the head")) << past.Show();

  const ProcessRun bad_time = Audit({"replay", "--patient=" + region::PatientPersonnummer(0),
                              "--at=yesterday"});
  EXPECT_EQ(bad_time.exit_code, 2) << bad_time.Show();

  const ProcessRun no_source = RunProcess(dir_, CAREHUB_AUDIT_PATH, {"verify"});
  EXPECT_EQ(no_source.exit_code, 2) << no_source.Show();
  const ProcessRun no_command = Audit({});
  EXPECT_EQ(no_command.exit_code, 2) << no_command.Show();
  const ProcessRun missing = RunProcess(dir_, CAREHUB_AUDIT_PATH,
                                 {"--data_dir=" + dir_.File("nowhere"), "verify"});
  EXPECT_EQ(missing.exit_code, 3) << missing.Show();
  EXPECT_TRUE(absl::StrContains(missing.err, "no event log")) << missing.Show();
}

// A running hub holds the data directory: offline audit refuses it and points to --hub, and
// --hub does the same work over gRPC.
TEST_F(AuditCliTest, RunningHubIsAuditedOverGrpc) {
  const std::string port_file = dir_.File("port");
  absl::StatusOr<std::unique_ptr<ServerProcess>> hub = ServerProcess::Start(
      CAREHUBD_PATH,
      {"--data_dir=" + data_dir(), "--grpc_address=127.0.0.1:0", "--http_address=127.0.0.1:0",
       "--municipal_http_address=127.0.0.1:0", "--port_file=" + port_file},
      dir_.File("carehubd.log"));
  ASSERT_TRUE(hub.ok()) << hub.status();
  absl::StatusOr<int> port = (*hub)->WaitForPortFile(port_file, absl::Seconds(60));
  ASSERT_TRUE(port.ok()) << port.status() << ReadFileOrEmpty(dir_.File("carehubd.log"));

  const ProcessRun in_use = Audit({"verify"});
  EXPECT_EQ(in_use.exit_code, 3) << in_use.Show();
  EXPECT_TRUE(absl::StrContains(in_use.err, "in use by a running hub")) << in_use.Show();
  EXPECT_TRUE(absl::StrContains(in_use.err, "--hub")) << in_use.Show();

  const std::string hub_flag = absl::StrCat("--hub=127.0.0.1:", *port);
  const ProcessRun verify = RunProcess(dir_, CAREHUB_AUDIT_PATH, {hub_flag, "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.Show();
  EXPECT_TRUE(absl::StrContains(verify.out, "verify: OK")) << verify.Show();

  const ProcessRun history = RunProcess(
      dir_, CAREHUB_AUDIT_PATH, {hub_flag, "history", "--patient=" + region::PatientPersonnummer(1)});
  EXPECT_EQ(history.exit_code, 0) << history.Show();
  EXPECT_TRUE(absl::StrContains(history.out, "PatientEnrolled")) << history.Show();

  const ProcessRun unknown = RunProcess(dir_, CAREHUB_AUDIT_PATH,
                                 {hub_flag, "history", absl::StrCat("--patient=", kTolvan)});
  EXPECT_EQ(unknown.exit_code, 3) << unknown.Show();
  EXPECT_TRUE(absl::StrContains(unknown.err, "unknown patient")) << unknown.Show();

  ASSERT_TRUE((*hub)->Signal(SIGTERM).ok());
  EXPECT_TRUE((*hub)->WaitForExit(absl::Seconds(60)).ok());
}

// Who read the record: reads through a running carehubd's FHIR API with and without the agent
// headers; the access log over gRPC from the running hub; then, with the hub stopped, from its
// data directory: the same table, AuditEvent NDJSON, and its hash chain verified.
TEST_F(AuditCliTest, AccessLogShowsWhoReadTheRecord) {
  const std::string pnr = region::PatientPersonnummer(2);
  std::string patient_id;
  {
    absl::StatusOr<std::unique_ptr<eventstore::EventStore>> store =
        eventstore::EventStore::Open({.path = log_dir(), .read_only = true});
    ASSERT_TRUE(store.ok()) << store.status();
    absl::StatusOr<std::string> key = ReadHubKey(dir_.File("hub/care/hub.key"));
    ASSERT_TRUE(key.ok()) << key.status();
    absl::StatusOr<std::string> id = NewRegistryResolver(store->get(), *key)->Resolve(pnr);
    ASSERT_TRUE(id.ok()) << id.status();
    patient_id = fhir::ResourceId("Patient", *id);  // as FHIR names the patient
  }
  const ProcessRun none = Audit({"access-log", "--patient=" + pnr});
  EXPECT_EQ(none.exit_code, 3) << none.Show();
  EXPECT_TRUE(absl::StrContains(none.err, "no access log")) << none.Show();

  const std::string port_file = dir_.File("http-port");
  const std::string grpc_port_file = dir_.File("grpc-port");
  absl::StatusOr<std::unique_ptr<ServerProcess>> hub = ServerProcess::Start(
      CAREHUBD_PATH,
      {"--data_dir=" + data_dir(), "--grpc_address=127.0.0.1:0", "--http_address=127.0.0.1:0",
       "--municipal_http_address=127.0.0.1:0", "--http_port_file=" + port_file,
       "--port_file=" + grpc_port_file},
      dir_.File("carehubd-access.log"));
  ASSERT_TRUE(hub.ok()) << hub.status();
  absl::StatusOr<int> port = (*hub)->WaitForPortFile(port_file, absl::Seconds(60));
  ASSERT_TRUE(port.ok()) << port.status() << ReadFileOrEmpty(dir_.File("carehubd-access.log"));
  absl::StatusOr<int> grpc_port = (*hub)->WaitForPortFile(grpc_port_file, absl::Seconds(60));
  ASSERT_TRUE(grpc_port.ok()) << grpc_port.status();
  {
    services::testing::TestHttpClient http(*port);
    // The reads must find the patient: wait until the projector has caught up with the log.
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (http.Send("GET", "/health").status != 200) {
      ASSERT_LT(absl::Now(), deadline) << "the projector did not catch up";
      absl::SleepFor(absl::Milliseconds(20));
    }
    const std::vector<std::pair<std::string, std::string>> clinician = {
        {"X-Carehub-User", "SE2321000016-U1234"},
        {"X-Carehub-Organization", "SE2321000016"},
        {"X-Carehub-Care-Unit", "SE2321000016-E5678"}};
    EXPECT_EQ(http.Send("GET", "/fhir/Patient/" + patient_id, clinician).status, 200);
    EXPECT_EQ(http.Send("GET", "/fhir/CarePlan?patient=" + patient_id).status, 200);
    EXPECT_EQ(http.Send("GET", "/fhir/Patient/" + patient_id + "/$everything",
                        {{"X-Carehub-User", "SE2120001231-N0042"}, {"X-Carehub-Organization", "SE2120001231"}})
                  .status,
              200);
    // Another patient's read is not this patient's business.
    http.Send("GET", "/fhir/Patient?_count=1", clinician);
  }
  const ProcessRun in_use = Audit({"access-log", "--patient=" + pnr});
  EXPECT_EQ(in_use.exit_code, 3) << in_use.Show();
  EXPECT_TRUE(absl::StrContains(in_use.err, "in use")) << in_use.Show();
  // The running hub's access log, over gRPC.
  const std::string hub_flag = absl::StrCat("--hub=127.0.0.1:", *grpc_port);
  const ProcessRun live = RunProcess(dir_, CAREHUB_AUDIT_PATH, {hub_flag, "access-log", "--patient=" + pnr});
  EXPECT_EQ(live.exit_code, 0) << live.Show();
  const ProcessRun live_verify = RunProcess(dir_, CAREHUB_AUDIT_PATH, {hub_flag, "verify", "--log=access"});
  EXPECT_EQ(live_verify.exit_code, 0) << live_verify.Show();
  EXPECT_TRUE(absl::StrContains(live_verify.out, "events verified: 4")) << live_verify.Show();
  ASSERT_TRUE((*hub)->Signal(SIGTERM).ok());
  ASSERT_TRUE((*hub)->WaitForExit(absl::Seconds(60)).ok());

  const ProcessRun table = Audit({"access-log", "--patient=" + pnr});
  ASSERT_EQ(table.exit_code, 0) << table.Show();
  EXPECT_EQ(table.out, live.out) << "the stopped hub's access log differs from what it served over gRPC";
  std::vector<std::string> lines = absl::StrSplit(absl::StripTrailingAsciiWhitespace(table.out), '\n');
  ASSERT_GE(lines.size(), 5u) << table.out;
  EXPECT_TRUE(absl::StrContains(lines[0], "care unit")) << table.out;
  // Oldest first: the clinician's read, the anonymous search, the nurse's $everything.
  EXPECT_TRUE(absl::StrContains(lines[1], "SE2321000016-U1234")) << table.out;
  EXPECT_TRUE(absl::StrContains(lines[1], "SE2321000016-E5678")) << table.out;
  EXPECT_TRUE(absl::StrContains(lines[1], "read Patient 200")) << table.out;
  EXPECT_TRUE(absl::StrContains(lines[2], "anonymous")) << table.out;
  EXPECT_TRUE(absl::StrContains(lines[2], "search-type CarePlan 200")) << table.out;
  EXPECT_TRUE(absl::StrContains(lines[3], "SE2120001231-N0042")) << table.out;
  EXPECT_TRUE(absl::StrContains(lines[3], "$everything Patient 200")) << table.out;
  EXPECT_FALSE(absl::StrContains(table.out, pnr)) << "the personnummer in the output";

  const ProcessRun ndjson = Audit({"access-log", "--patient=" + pnr, "--format=ndjson"});
  ASSERT_EQ(ndjson.exit_code, 0) << ndjson.Show();
  std::vector<std::string> events = absl::StrSplit(absl::StripTrailingAsciiWhitespace(ndjson.out), '\n');
  ASSERT_EQ(events.size(), lines.size() - 2) << ndjson.out;  // header and count lines
  for (const std::string& line : events) {
    const nlohmann::json ae = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(ae.is_object()) << line;
    EXPECT_EQ(ae["resourceType"], "AuditEvent");
    EXPECT_TRUE(absl::StrContains(line, "\"Patient/" + patient_id + "\"")) << line;
  }
  EXPECT_EQ(nlohmann::json::parse(events[0])["agent"][0]["who"]["identifier"]["value"], "SE2321000016-U1234");

  const ProcessRun later = Audit({"access-log", "--patient=" + pnr, "--from=2999-01-01T00:00:00Z"});
  EXPECT_EQ(later.exit_code, 0) << later.Show();
  EXPECT_TRUE(absl::StrContains(later.out, "0 accesses")) << later.Show();

  const ProcessRun verify = Audit({"verify", "--log=access"});
  EXPECT_EQ(verify.exit_code, 0) << verify.Show();
  EXPECT_TRUE(absl::StrContains(verify.out, "verify: OK")) << verify.Show();
  EXPECT_TRUE(absl::StrContains(verify.out, "events verified: 4")) << verify.Show();

  // Errors: an unknown patient, a bad format or time, a log that is not there over --hub.
  const ProcessRun unknown = Audit({"access-log", absl::StrCat("--patient=", kTolvan)});
  EXPECT_EQ(unknown.exit_code, 3) << unknown.Show();
  EXPECT_TRUE(absl::StrContains(unknown.err, "unknown patient")) << unknown.Show();
  EXPECT_EQ(Audit({"access-log", "--patient=" + pnr, "--format=xml"}).exit_code, 2);
  EXPECT_EQ(Audit({"access-log", "--patient=" + pnr, "--from=12"}).exit_code, 2);
  EXPECT_EQ(Audit({"access-log"}).exit_code, 2);
  EXPECT_EQ(Audit({"verify", "--log=nope"}).exit_code, 2);
}

}  // namespace
}  // namespace carehub::audit
