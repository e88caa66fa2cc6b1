// carehub-municipal-bench: municipal file import, in rows per second, beside the baselines that
// bound it, all measured in the same run on the same machine:
//
//   read_map   the reader and the mapping alone (no care service): what parsing costs;
//   execute    the care service's own rate over gRPC for the same commands already mapped, sent
//              as the importer sends them (Importer::Send: ExecuteBatch calls, the same
//              concurrency): what the care service and the log can take;
//   import     a whole file (CSV, Windows-1252, ';') through Importer::Import: read, map, send.
//
// The care service runs in this process on a real gRPC server (127.0.0.1:0) over an event log in
// a fresh temp directory with synced appends (group commit), as in carehubd. The importer reaches
// it over gRPC's in-process transport, as carehubd wires its adapters (--channel=inprocess), or
// over TCP, as the standalone adapter daemon does (--channel=tcp). Each figure uses fresh
// patients, so no run meets the replays of another.
//
//   carehub-municipal-bench                       # 1000 patients x 40 rows per figure
//   carehub-municipal-bench --patients=200 --rows_per_patient=20   # a smoke run
//   carehub-municipal-bench --care_worker_threads=64  # more appends per group commit
//   carehub-municipal-bench --channel=tcp         # as the standalone adapter daemon
//
// Prints one `bench name=... value=... unit=rows/s` line per figure, and the import's ratio to
// the execute baseline.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/base/log.h"
#include "carehub/care/care_commands.h"
#include "carehub/care/hub_key.h"
#include "carehub/care/patient_id.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/municipal/importer.h"
#include "carehub/municipal/record_mapping.h"
#include "carehub/services/care_service.h"
#include "carehub/services/common/grpc_server.h"

ABSL_FLAG(int, patients, 1000, "Patients per figure.");
ABSL_FLAG(int, rows_per_patient, 40, "Municipal rows per patient.");
ABSL_FLAG(int, max_in_flight, 256, "Commands in flight (Importer option).");
ABSL_FLAG(int, care_worker_threads, 8,
          "The care service's worker threads (CareServiceOptions; 8 is its default). Each waits "
          "on a synced append, so this bounds how many appends share one group commit.");
ABSL_FLAG(std::string, channel, "inprocess",
          "How the importer reaches the care service: inprocess (as inside carehubd) or tcp.");
ABSL_FLAG(std::string, dir, "", "Scratch directory (default: a new one under /tmp).");

namespace carehub::municipal {
namespace {

namespace v1 = care::v1;

// A valid personnummer (Luhn) for patient `i` of batch `batch`: a distinct birth date per
// patient, born 1920 onwards.
std::string Personnummer(int batch, int i) {
  const absl::CivilDay day = absl::CivilDay(1920, 1, 1) + (batch * 20000 + i);
  const std::string digits = absl::StrFormat("%02d%02d%02d%03d", day.year() % 100, day.month(),
                                             day.day(), 123 + (batch % 5));
  int sum = 0;
  for (size_t k = 0; k < digits.size(); ++k) {
    int d = (digits[k] - '0') * (k % 2 == 0 ? 2 : 1);
    sum += d > 9 ? d - 9 : d;
  }
  return absl::StrFormat("%04d%02d%02d-%s%d", day.year(), day.month(), day.day(),
                         digits.substr(6), (10 - sum % 10) % 10);
}

// A day of home care for `patients` patients, CSV as a Swedish spreadsheet saves it: per patient
// an insats planned and started, then home visits and SpO2 readings. Rows are interleaved across
// patients, as a municipal export sorted by time would be.
std::string MunicipalCsv(int batch, int patients, int rows_per_patient) {
  std::string csv =
      "format;record_type;record_id;personnummer;owner;occurred_at;activity_id;description;"
      "visit_id;visit_reason;observation_id;code_system;code;value;unit\r\n";
  for (int row = 0; row < rows_per_patient; ++row) {
    for (int p = 0; p < patients; ++p) {
      const std::string pn = Personnummer(batch, p);
      const std::string id = absl::StrCat("b", batch, "-p", p, "-r", row);
      const std::string act = absl::StrCat("act-", p);
      const std::string time = absl::StrFormat("%02d:%02d", 6 + row / 60 % 12, row % 60);
      const auto head = [&](const char* type) {
        return absl::StrCat("carehub-municipal/1;", type, ";", id, ";", pn, ";SoL;2026-11-18 ",
                            time, ";", act, ";");
      };
      if (row == 0) {
        absl::StrAppend(&csv, head("insats_planerad"),
                        "Hemtj\xE4nst morgon och kv\xE4ll;;;;;;;\r\n");
      } else if (row == 1) {
        absl::StrAppend(&csv, head("insats_paborjad"), ";;;;;;;\r\n");
      } else if (row % 2 == 0) {
        absl::StrAppend(&csv, head("hembesok_utfort"), ";v-", id,
                        ";planerat;;;;;\r\n");
      } else {
        absl::StrAppend(&csv, head("egenmatning"), ";;;o-", id,
                        ";http://loinc.org;59408-5;9", row % 10, ",5;%\r\n");
      }
    }
  }
  return csv;
}

// CPU seconds (user + system) this process has used: the importer, the care service and the
// event log all run in it, so rows per CPU-second is a figure that a busy machine does not skew
// the way wall-clock rows/s is.
double ProcessCpuSeconds() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double RowsPerSecond(size_t rows, absl::Duration elapsed) {
  return static_cast<double>(rows) / absl::ToDoubleSeconds(elapsed);
}

void Report(const std::string& name, double value, const std::string& note) {
  std::printf("bench name=%s value=%.0f unit=rows/s %s\n", name.c_str(), value, note.c_str());
  std::fflush(stdout);
}

// Enrols the batch's patients concurrently (primary care opens their plans).
bool Enrol(const Importer& importer, int batch, int patients) {
  std::vector<MappedRecord> records(patients);
  std::vector<LineResult> results(patients);
  std::vector<const MappedRecord*> record_ptrs;
  std::vector<LineResult*> result_ptrs;
  for (int p = 0; p < patients; ++p) {
    v1::CommandRequest& c = records[p].command;
    c.set_command_id(absl::StrCat("enrol-", batch, "-", p));
    c.mutable_patient()->mutable_identifier()->set_kind(v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
    c.mutable_patient()->mutable_identifier()->set_value(Personnummer(batch, p));
    c.mutable_source()->set_system("vardcentral-bench");
    c.mutable_data_owner()->set_kind(v1::DATA_OWNER_KIND_REGION);
    c.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(absl::Now()));
    c.mutable_patient_enrolled()->set_target_group(v1::TARGET_GROUP_MOST_ILL);
    records[p].order_key = c.command_id();
    record_ptrs.push_back(&records[p]);
    result_ptrs.push_back(&results[p]);
  }
  importer.Send(record_ptrs, result_ptrs);
  for (const LineResult& r : results) {
    if (r.status != LineStatus::kAccepted) {
      std::fprintf(stderr, "enrolment failed: %s\n", r.reason.c_str());
      return false;
    }
  }
  return true;
}

int Run() {
  log::SetMinLevel(log::Level::kWarning);
  const int patients = absl::GetFlag(FLAGS_patients);
  const int rows_per_patient = absl::GetFlag(FLAGS_rows_per_patient);
  const size_t rows = static_cast<size_t>(patients) * rows_per_patient;
  std::string dir = absl::GetFlag(FLAGS_dir);
  if (dir.empty()) {
    char tmpl[] = "/tmp/carehub-municipal-bench-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 1;
    dir = tmpl;
  }
  std::filesystem::create_directories(dir);

  absl::StatusOr<std::unique_ptr<eventstore::EventStore>> store =
      eventstore::EventStore::Open({.path = dir + "/log"});
  if (!store.ok()) return std::fprintf(stderr, "%s\n", store.status().ToString().c_str()), 1;
  std::unique_ptr<care::PatientIdGenerator> ids = care::NewUrandomPatientIdGenerator();
  absl::StatusOr<std::string> key = care::LoadOrCreateHubKey(dir + "/hub.key");
  absl::StatusOr<std::unique_ptr<care::CareCommands>> commands = care::CareCommands::Create(
      store->get(), {.clock = Clock::Real(), .ids = ids.get(), .hub_key = *key});
  if (!commands.ok()) return std::fprintf(stderr, "%s\n", commands.status().ToString().c_str()), 1;
  services::CareService service(
      commands->get(),
      {.worker_threads = static_cast<size_t>(absl::GetFlag(FLAGS_care_worker_threads))});
  services::GrpcServer server({.address = "127.0.0.1:0"});
  server.AddService(&service, v1::CareService::service_full_name());
  absl::StatusOr<int> port = server.Start();
  if (!port.ok()) return std::fprintf(stderr, "%s\n", port.status().ToString().c_str()), 1;

  const std::string channel_kind = absl::GetFlag(FLAGS_channel);
  std::shared_ptr<grpc::Channel> channel;
  if (channel_kind == "inprocess") {
    channel = server.InProcessChannel();
  } else if (channel_kind == "tcp") {
    channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", *port), grpc::InsecureChannelCredentials());
  } else {
    return std::fprintf(stderr, "--channel: inprocess or tcp\n"), 1;
  }
  const ImporterOptions options{.max_in_flight = absl::GetFlag(FLAGS_max_in_flight)};
  Importer importer(channel, *RecordMapper::Create({.source_system = "lifecare-bench"}), options);
  RecordMapper mapper = *RecordMapper::Create({.source_system = "lifecare-bench"});

  std::printf(
      "# %d patients x %d rows = %zu rows per figure, %d in flight, %d care workers, %s channel\n",
      patients, rows_per_patient, rows, options.max_in_flight,
      absl::GetFlag(FLAGS_care_worker_threads), channel_kind.c_str());

  // 1. Read + map only.
  const std::string csv0 = MunicipalCsv(0, patients, rows_per_patient);
  absl::Time start = absl::Now();
  double cpu = ProcessCpuSeconds();
  ReadResult file = ReadMunicipalFile(csv0, {.kind = FileKind::kCsv});
  std::vector<MappedRecord> mapped;
  mapped.reserve(file.lines.size());
  for (const SourceLine& line : file.lines) {
    absl::StatusOr<MappedRecord> m = mapper.Map(line.fields);
    if (!m.ok()) return std::fprintf(stderr, "line %d: %s\n", line.line, std::string(m.status().message()).c_str()), 1;
    mapped.push_back(*std::move(m));
  }
  const double read_map = RowsPerSecond(mapped.size(), absl::Now() - start);
  Report("municipal_read_map_csv", read_map,
         absl::StrFormat("rows_per_cpu_s=%.0f (reader + mapping, one thread, no care service)",
                         mapped.size() / (ProcessCpuSeconds() - cpu)));

  // 2. Baseline: the care service over gRPC for the same commands, already mapped (batch 0).
  if (!Enrol(importer, 0, patients)) return 1;
  std::vector<LineResult> results(mapped.size());
  std::vector<const MappedRecord*> record_ptrs;
  std::vector<LineResult*> result_ptrs;
  for (size_t i = 0; i < mapped.size(); ++i) {
    record_ptrs.push_back(&mapped[i]);
    result_ptrs.push_back(&results[i]);
  }
  start = absl::Now();
  cpu = ProcessCpuSeconds();
  importer.Send(record_ptrs, result_ptrs);
  const double execute_cpu = mapped.size() / (ProcessCpuSeconds() - cpu);
  const double execute = RowsPerSecond(mapped.size(), absl::Now() - start);
  for (const LineResult& r : results) {
    if (r.status != LineStatus::kAccepted) {
      return std::fprintf(stderr, "execute baseline: %s\n", r.reason.c_str()), 1;
    }
  }
  Report("care_execute_grpc", execute,
         absl::StrFormat("rows_per_cpu_s=%.0f (baseline: care service ExecuteBatch over gRPC, "
                         "the same commands premapped)",
                         execute_cpu));

  // 3. The whole import of a file (batch 1: fresh patients and record ids).
  if (!Enrol(importer, 1, patients)) return 1;
  const std::string csv1 = MunicipalCsv(1, patients, rows_per_patient);
  start = absl::Now();
  cpu = ProcessCpuSeconds();
  const ImportReport report = importer.Import(csv1, {.kind = FileKind::kCsv});
  const double import = RowsPerSecond(report.lines.size(), absl::Now() - start);
  const double import_cpu = report.lines.size() / (ProcessCpuSeconds() - cpu);
  if (report.accepted != static_cast<int>(rows)) {
    std::fprintf(stderr, "import: %d of %zu accepted; first problem: %s\n", report.accepted, rows,
                 report.lines.empty() ? "" : report.lines[0].reason.c_str());
    return 1;
  }
  Report("municipal_import_csv", import,
         absl::StrFormat("rows_per_cpu_s=%.0f ratio_to_execute=%.2f cpu_ratio_to_execute=%.2f "
                         "(file bytes=%zu)",
                         import_cpu, import / execute, import_cpu / execute_cpu, csv1.size()));

  // 4. Re-import of the same file: every row a replay.
  start = absl::Now();
  cpu = ProcessCpuSeconds();
  const ImportReport again = importer.Import(csv1, {.kind = FileKind::kCsv});
  const double replay = RowsPerSecond(again.lines.size(), absl::Now() - start);
  Report("municipal_reimport_csv", replay,
         absl::StrFormat("rows_per_cpu_s=%.0f (all already-imported: %s)",
                         again.lines.size() / (ProcessCpuSeconds() - cpu),
                         again.already_imported == static_cast<int>(rows) ? "yes" : "NO"));

  server.Shutdown(absl::Seconds(5));
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace carehub::municipal

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // As the servers run (services::RunServerProcess): no lock-order graph on every lock.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return carehub::municipal::Run();
}
