// The municipal drop directory survives a crash (FORMAT.md, "Guarantees"): carehub-municipal is
// killed with SIGKILL in the middle of a large file, restarted, and every line of the file ends up
// in the log exactly once, because record ids are the commands' idempotency keys.
// carehub-eventstore, carehub-care and carehub-municipal each in their own process; the log is
// counted over gRPC while it runs and with carehub-audit on its data directory afterwards.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "carehub/services/eventstore_client.h"
#include "gtest/gtest.h"
#include "tests/e2e/hub_processes.h"

namespace carehub::e2e {
namespace {

namespace fs = std::filesystem;
namespace v1 = care::v1;
using services::testing::ReadFileOrEmpty;

constexpr int kPatients = 4;
constexpr int kLinesPerPatient = 400;

TEST(MunicipalCrashTest, KilledMidFileEveryLineLandsExactlyOnce) {
  TempDir dir;
  int store_port = 0, care_port = 0, http_port = 0;
  std::unique_ptr<ServerProcess> store =
      StartServer(CAREHUB_EVENTSTORE_PATH,
                  {"--data_dir=" + dir.File("hub/eventstore"), "--grpc_address=127.0.0.1:0"}, dir,
                  "eventstore", &store_port);
  ASSERT_NE(store, nullptr);
  std::unique_ptr<ServerProcess> care = StartServer(
      CAREHUB_CARE_PATH,
      {"--data_dir=" + dir.File("hub/care"), "--grpc_address=127.0.0.1:0",
       absl::StrCat("--eventstore_address=127.0.0.1:", store_port), "--deadline_check_interval=24h"},
      dir, "care", &care_port);
  ASSERT_NE(care, nullptr);
  absl::StatusOr<std::unique_ptr<eventstore::EventStore>> log =
      services::ConnectEventStore(absl::StrCat("127.0.0.1:", store_port), {});
  ASSERT_TRUE(log.ok()) << log.status();

  // Patients known to the hub (municipal records never create one).
  std::vector<std::string> patients;
  CareClient client(care_port);
  for (int p = 0; p < kPatients; ++p) {
    patients.push_back(TestPersonnummer(absl::StrCat("19400", 101 + p), absl::StrCat("98", p)));
    v1::CommandRequest enrol;
    enrol.set_command_id(absl::StrCat("enrol-", p));
    enrol.mutable_patient()->mutable_identifier()->set_kind(v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
    enrol.mutable_patient()->mutable_identifier()->set_value(patients.back());
    enrol.mutable_source()->set_system("vardcentral-journal");
    enrol.mutable_data_owner()->set_kind(v1::DATA_OWNER_KIND_REGION);
    *enrol.mutable_occurred_at() = Proto(Stockholm(2026, 11, 2, 9));
    enrol.mutable_patient_enrolled()->set_target_group(v1::TARGET_GROUP_MOST_ILL);
    ASSERT_TRUE(client.Execute(enrol).ok());
  }
  const uint64_t before = eventstore::LogEnd(**log).value();

  // One agreed time per line, the patients interleaved as a municipal export lists them.
  std::string csv = "format;record_type;record_id;personnummer;owner;occurred_at;appointment_id;start\n";
  for (int i = 0; i < kLinesPerPatient; ++i) {
    for (int p = 0; p < kPatients; ++p) {
      absl::StrAppend(&csv, "carehub-municipal/1;overenskommen_tid;tid-", p, "-", i, ";",
                      patients[p], ";HSL;2026-11-18 08:00;appt-", p, "-", i, ";2026-12-01 10:00\n");
    }
  }
  const int lines = kPatients * kLinesPerPatient;
  const std::string inbox = dir.File("hub/municipal/inbox");
  fs::create_directories(inbox);
  {
    std::ofstream out(inbox + "/.export.part", std::ios::binary);
    out << csv;
  }

  const std::vector<std::string> args = {
      absl::StrCat("--care_address=127.0.0.1:", care_port), "--data_dir=" + dir.File("hub"),
      "--http_address=127.0.0.1:0", "--poll_interval=50ms", "--source_system=lifecare-test"};
  std::unique_ptr<ServerProcess> adapter =
      StartServer(CAREHUB_MUNICIPAL_PATH, args, dir, "municipal", &http_port);
  ASSERT_NE(adapter, nullptr);
  fs::rename(inbox + "/.export.part", inbox + "/hemsjukvard-export.csv");

  // Kill it once a fair part of the file, but not all of it, is in the log.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (eventstore::LogEnd(**log).value() < before + lines / 10 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE(adapter->Signal(SIGKILL).ok());
  absl::StatusOr<int> killed = adapter->WaitForExit(absl::Seconds(30));
  ASSERT_TRUE(killed.ok());
  EXPECT_TRUE(WIFSIGNALED(*killed));
  const uint64_t at_kill = eventstore::LogEnd(**log).value();
  ASSERT_GT(at_kill, before) << ReadFileOrEmpty(dir.File("municipal.log"));
  ASSERT_LT(at_kill, before + lines) << "the whole file was in before the kill; make it larger";
  EXPECT_TRUE(fs::exists(inbox + "/hemsjukvard-export.csv")) << "the file left the inbox half-done";

  // Restarted: the file is read again from the top and finishes.
  adapter = StartServer(CAREHUB_MUNICIPAL_PATH, args, dir, "municipal-2", &http_port);
  ASSERT_NE(adapter, nullptr);
  const std::string done = dir.File("hub/municipal/done/hemsjukvard-export.csv");
  const absl::Time done_deadline = absl::Now() + absl::Seconds(120);
  while (!fs::exists(done) && absl::Now() < done_deadline) absl::SleepFor(absl::Milliseconds(20));
  ASSERT_TRUE(fs::exists(done)) << ReadFileOrEmpty(dir.File("municipal-2.log"));
  EXPECT_FALSE(fs::exists(dir.File("hub/municipal/failed/hemsjukvard-export.csv")));
  // Every line is in the log once: exactly one event per line was appended in all.
  EXPECT_EQ(eventstore::LogEnd(**log).value(), before + lines);

  StopCleanly(*adapter, "municipal");
  log->reset();
  StopCleanly(*care, "care");
  StopCleanly(*store, "eventstore");

  // Per patient, each appointment once, read back from the stopped hub's log.
  for (int p = 0; p < kPatients; ++p) {
    const ProcessRun history = RunProcess(dir, CAREHUB_AUDIT_PATH,
                                  {"--data_dir=" + dir.File("hub"), "history",
                                   "--patient=" + patients[p], "--format=json"});
    ASSERT_EQ(history.exit_code, 0) << history.Show();
    int booked = 0;
    const std::vector<std::string> history_lines =
        absl::StrSplit(history.out, '\n', absl::SkipEmpty());
    for (const std::string& line : history_lines) {
      const Json entry = Json::parse(line);
      if (entry.value("event_type", "") == "AgreedTimeBooked") ++booked;
    }
    EXPECT_EQ(booked, kLinesPerPatient) << "patient " << p;
  }
}

}  // namespace
}  // namespace carehub::e2e
