// carehub-audit: verifies the log's hash chain, and shows a patient's history, record as of a
// moment, and the changes to the plan and team between two moments. Works against a running hub
// (--hub=HOST:PORT, gRPC) or a stopped hub's data directory (--data_dir=DIR, opened read-only).
//
//   carehub-audit --data_dir=var/carehub verify
//   carehub-audit --hub=127.0.0.1:50051 verify --from=41:9f86d081...
//   carehub-audit --data_dir=var/carehub history --patient=19121212-1212 [--format=json]
//   carehub-audit --data_dir=var/carehub replay --patient=19121212-1212 --at=2026-03-01T10:00:00Z
//   carehub-audit --data_dir=var/carehub diff --patient=ID --from=T1 --to=T2
//   carehub-audit --data_dir=var/carehub access-log --patient=19121212-1212 [--format=ndjson]
//   carehub-audit --hub=127.0.0.1:50051 verify --log=access
//
// access-log reads the access log: who read the patient's record, oldest first, as a table or as
// FHIR AuditEvent NDJSON (the rendering GET /fhir/AuditEvent serves). From a stopped hub's
// DIR/access-log, or from a running carehubd over gRPC (carehub.audit.v1.AccessLog). With the
// services in processes of their own, the access log is carehub-fhir's (its --grpc_address) and
// patients resolve through the care service:
//   carehub-audit --hub=127.0.0.1:50052 --access_log_hub=127.0.0.1:50053 access-log --patient=...
//
// Exit codes: 0 success; 1 verification found the log altered; 2 bad usage; 3 any other error
// (unknown patient, a moment outside the log, a data directory in use, an unreachable hub).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "carehub/audit/access_log.h"
#include "carehub/audit/access_log_service.h"
#include "carehub/audit/audit.h"
#include "carehub/audit/audit_event.h"
#include "carehub/audit/patient_resolver.h"
#include "carehub/base/status_macros.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/fhir/projection.h"
#include "carehub/services/eventstore_client.h"

ABSL_FLAG(std::string, hub, "", "gRPC address of a running hub (host:port).");
ABSL_FLAG(std::string, access_log_hub, "",
          "access-log and verify --log=access: gRPC address of the process that keeps the access "
          "log, when it is not --hub (carehub-fhir run on its own); default: --hub.");
ABSL_FLAG(std::string, data_dir, "",
          "Data directory of a stopped hub, opened read-only (DIR/eventstore, DIR/care/hub.key).");
ABSL_FLAG(std::string, patient, "", "Patient: personnummer, samordningsnummer or patient id.");
ABSL_FLAG(std::string, at, "", "replay: a log position or an RFC 3339 time.");
ABSL_FLAG(std::string, from, "",
          "verify: a head recorded earlier, POSITION:HASH. diff: the earlier moment.");
ABSL_FLAG(std::string, to, "", "diff: the later moment (default: now).");
ABSL_FLAG(std::string, format, "table",
          "history: table or json (one object per line). access-log: table or ndjson (one FHIR "
          "AuditEvent per line).");
ABSL_FLAG(std::string, log, "care",
          "verify: which log, care (DIR/eventstore) or access (DIR/access-log).");

namespace carehub::audit {
namespace {

constexpr int kOk = 0;
constexpr int kAltered = 1;
constexpr int kUsage = 2;
constexpr int kError = 3;

// The store and resolver of one run: local read-only or remote, chosen once.
struct Hub {
  std::unique_ptr<eventstore::EventStore> store;
  std::unique_ptr<PatientResolver> resolver;
};

absl::StatusOr<Hub> OpenHub() {
  const std::string hub = absl::GetFlag(FLAGS_hub);
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (hub.empty() == data_dir.empty()) {
    return absl::InvalidArgumentError("give exactly one of --hub=HOST:PORT or --data_dir=DIR");
  }
  Hub out;
  if (!hub.empty()) {
    ASSIGN_OR_RETURN(out.store, services::ConnectEventStore(hub, services::ClientOptions()));
    out.resolver = NewRemoteResolver(hub);
    return out;
  }
  const std::filesystem::path log_dir = std::filesystem::path(data_dir) / "eventstore";
  std::error_code error;
  if (!std::filesystem::is_directory(log_dir, error)) {
    return absl::NotFoundError(absl::StrCat("no event log at ", log_dir.string()));
  }
  absl::StatusOr<std::unique_ptr<eventstore::EventStore>> store =
      eventstore::EventStore::Open({.path = log_dir.string(), .read_only = true});
  if (absl::IsUnavailable(store.status())) {
    return absl::UnavailableError(absl::StrCat(
        "the data directory ", data_dir, " is in use by a running hub (", store.status().message(),
        "); audit the running hub with --hub=HOST:PORT instead"));
  }
  if (!store.ok()) return store.status();
  out.store = *std::move(store);
  absl::StatusOr<std::string> key =
      ReadHubKey((std::filesystem::path(data_dir) / "care" / "hub.key").string());
  // Without the key only internal patient ids resolve; a national identifier then fails clearly.
  out.resolver = NewRegistryResolver(out.store.get(), key.ok() ? *key : std::string());
  return out;
}

// The access log of a running process (--access_log_hub, else --hub), or that of --data_dir,
// read-only (Unavailable while a hub has it open).
absl::StatusOr<std::unique_ptr<AccessLogReader>> OpenAccessLog() {
  std::string remote = absl::GetFlag(FLAGS_access_log_hub);
  if (remote.empty()) remote = absl::GetFlag(FLAGS_hub);
  if (!remote.empty()) return ConnectAccessLog(remote);
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const std::filesystem::path dir = std::filesystem::path(data_dir) / "access-log";
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    return absl::NotFoundError(absl::StrCat("no access log at ", dir.string(),
                                            " (the hub ran with --access_log=false, or never served a read)"));
  }
  absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open({.path = dir.string(), .read_only = true});
  if (absl::IsUnavailable(log.status())) {
    return absl::UnavailableError(absl::StrCat("the access log at ", dir.string(), " is in use by a running hub (",
                                               log.status().message(), "); read it with --hub=HOST:PORT instead"));
  }
  if (!log.ok()) return log.status();
  return std::unique_ptr<AccessLogReader>(std::move(*log));
}

absl::StatusOr<int> Verify(Hub& hub) {
  const std::string which = absl::GetFlag(FLAGS_log);
  if (which != "care" && which != "access") return absl::InvalidArgumentError("--log is care or access");
  std::optional<eventstore::LogHead> from;
  if (!absl::GetFlag(FLAGS_from).empty()) {
    ASSIGN_OR_RETURN(from, ParseLogHead(absl::GetFlag(FLAGS_from)));
  }
  std::unique_ptr<AccessLogReader> access_log;
  if (which == "access") {
    ASSIGN_OR_RETURN(access_log, OpenAccessLog());
  }
  const absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(eventstore::VerifyResult result,
                   access_log != nullptr ? access_log->Verify(from) : hub.store->Verify(from));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (!result.ok) {
    std::printf("verify: FAILED at position %s: %s\n",
                result.first_bad_position.has_value()
                    ? absl::StrCat(*result.first_bad_position).c_str()
                    : "?",
                result.problem.c_str());
    std::printf("events verified: %llu\nlast good head: %s\n",
                static_cast<unsigned long long>(result.events_verified),
                FormatLogHead(result.head).c_str());
    return kAltered;
  }
  std::printf("verify: OK%s\n",
              from.has_value() ? absl::StrCat(", extends ", FormatLogHead(*from)).c_str() : "");
  std::printf("events verified: %llu in %.2f s\nhead: %s\n",
              static_cast<unsigned long long>(result.events_verified), seconds,
              FormatLogHead(result.head).c_str());
  return kOk;
}

absl::StatusOr<std::string> Patient(Hub& hub) {
  const std::string patient = absl::GetFlag(FLAGS_patient);
  if (patient.empty()) return absl::InvalidArgumentError("--patient is required");
  return hub.resolver->Resolve(patient);
}

absl::StatusOr<int> History(Hub& hub) {
  const std::string format = absl::GetFlag(FLAGS_format);
  if (format != "table" && format != "json") {
    return absl::InvalidArgumentError("--format is table or json");
  }
  ASSIGN_OR_RETURN(std::string patient_id, Patient(hub));
  ASSIGN_OR_RETURN(std::vector<HistoryEntry> history, PatientHistory(*hub.store, patient_id));
  const std::string out =
      format == "json" ? FormatHistoryJsonLines(history) : FormatHistoryTable(history);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kOk;
}

absl::StatusOr<Moment> MomentFlag(Hub& hub, const std::string& name, const std::string& value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat("--", name, " is required"));
  absl::StatusOr<Moment> moment = ParseMoment(value);
  if (!moment.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, ": ", moment.status().message()));
  }
  RETURN_IF_ERROR(CheckMomentInLog(*hub.store, *moment));
  return moment;
}

absl::StatusOr<int> Replay(Hub& hub) {
  ASSIGN_OR_RETURN(Moment at, MomentFlag(hub, "at", absl::GetFlag(FLAGS_at)));
  ASSIGN_OR_RETURN(std::string patient_id, Patient(hub));
  ASSIGN_OR_RETURN(PatientReplay replay, ReplayPatient(*hub.store, patient_id, at));
  const std::string out = BundleJson(replay) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kOk;
}

absl::StatusOr<int> Diff(Hub& hub) {
  ASSIGN_OR_RETURN(Moment from, MomentFlag(hub, "from", absl::GetFlag(FLAGS_from)));
  std::optional<Moment> to;
  if (!absl::GetFlag(FLAGS_to).empty()) {
    ASSIGN_OR_RETURN(to, MomentFlag(hub, "to", absl::GetFlag(FLAGS_to)));
  }
  ASSIGN_OR_RETURN(std::string patient_id, Patient(hub));
  ASSIGN_OR_RETURN(PatientReplay before,
                   ReplayPatient(*hub.store, patient_id, from, /*allow_empty=*/true));
  ASSIGN_OR_RETURN(PatientReplay after,
                   ReplayPatient(*hub.store, patient_id, to, /*allow_empty=*/true));
  ASSIGN_OR_RETURN(std::vector<std::string> lines, DiffPlanAndTeam(before, after));
  std::printf("from %s (%zu events) to %s (%zu events)\n", FormatMoment(from).c_str(),
              before.events, to.has_value() ? FormatMoment(*to).c_str() : "now", after.events);
  if (lines.empty()) std::printf("no changes\n");
  for (const std::string& line : lines) std::printf("%s\n", line.c_str());
  return kOk;
}

// An access-log time bound: an RFC 3339 time (positions belong to the care log, not this one).
absl::StatusOr<absl::Time> TimeFlag(const std::string& name, const std::string& value, absl::Time unset) {
  if (value.empty()) return unset;
  absl::StatusOr<Moment> moment = ParseMoment(value);
  if (!moment.ok() || moment->position.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, " is an RFC 3339 time, e.g. 2026-03-01T10:00:00Z"));
  }
  return moment->time;
}

std::string AccessTableRow(const AccessEntry& e) {
  auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  std::string what = absl::StrCat(e.interaction == "operation" ? absl::StrCat("$", e.operation) : e.interaction,
                                  " ", e.resource_type, " ", e.status);
  std::vector<std::string> resources;
  for (const AccessedResource& r : e.resources) {
    if (resources.size() == 3) {
      resources.push_back(absl::StrCat("+", e.resources.size() - 3, " more"));
      break;
    }
    resources.push_back(absl::StrCat(r.type, "/", r.id, r.version != 0 ? absl::StrCat("/_history/", r.version) : ""));
  }
  return absl::StrFormat("%-27s  %-24s  %-24s  %-24s  %s%s%s\n", FormatInstant(e.recorded),
                         e.agent.anonymous() ? "anonymous" : or_dash(e.agent.user_hsa_id),
                         or_dash(e.agent.organization_hsa_id), or_dash(e.agent.care_unit_hsa_id), what,
                         resources.empty() ? "" : ": ", absl::StrJoin(resources, ", "));
}

absl::StatusOr<int> AccessLogCommand(Hub& hub) {
  const std::string format = absl::GetFlag(FLAGS_format);
  if (format != "table" && format != "ndjson") return absl::InvalidArgumentError("--format is table or ndjson");
  ASSIGN_OR_RETURN(absl::Time from, TimeFlag("from", absl::GetFlag(FLAGS_from), absl::InfinitePast()));
  ASSIGN_OR_RETURN(absl::Time to, TimeFlag("to", absl::GetFlag(FLAGS_to), absl::InfiniteFuture()));
  if (to <= from) return absl::InvalidArgumentError("--to must be later than --from");
  ASSIGN_OR_RETURN(std::string patient_id, Patient(hub));
  ASSIGN_OR_RETURN(std::unique_ptr<AccessLogReader> log, OpenAccessLog());
  // The access log names patients as the responses did: by their FHIR Patient id. Newest first
  // from the log; the auditor reads oldest first. --to is inclusive here.
  std::vector<AccessEntry> entries;
  AccessQuery query{.patient = fhir::ResourceId("Patient", patient_id), .from = from, .to = to + absl::Microseconds(1), .limit = 1000};
  for (;;) {
    ASSIGN_OR_RETURN(AccessPage page, log->Find(query));
    for (AccessEntry& e : page.entries) entries.push_back(std::move(e));
    if (!page.next_before.has_value()) break;
    query.before = page.next_before;
  }
  std::string out;
  if (format == "table") {
    absl::StrAppend(&out, absl::StrFormat("%-27s  %-24s  %-24s  %-24s  %s\n", "when (UTC)", "user", "organisation",
                                          "care unit", "what"));
  }
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    absl::StrAppend(&out, format == "table" ? AccessTableRow(*it) : AuditEventJson(*it) + "\n");
  }
  if (format == "table") absl::StrAppend(&out, entries.size(), " accesses\n");
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kOk;
}

int Run(const std::vector<char*>& args) {
  if (args.size() != 2) {
    std::fprintf(stderr, "usage: carehub-audit (--hub=HOST:PORT | --data_dir=DIR) "
                         "verify|history|replay|diff|access-log [flags]; see --help\n");
    return kUsage;
  }
  const std::string command = args[1];
  absl::StatusOr<int> (*run)(Hub&) = nullptr;
  if (command == "verify") run = Verify;
  if (command == "history") run = History;
  if (command == "replay") run = Replay;
  if (command == "diff") run = Diff;
  if (command == "access-log") run = AccessLogCommand;
  if (run == nullptr) {
    std::fprintf(stderr,
                 "carehub-audit: unknown command \"%s\" (verify, history, replay, diff, access-log)\n",
                 command.c_str());
    return kUsage;
  }
  absl::StatusOr<Hub> hub = OpenHub();
  absl::StatusOr<int> code = hub.ok() ? run(*hub) : absl::StatusOr<int>(hub.status());
  if (!code.ok()) {
    std::fprintf(stderr, "carehub-audit %s: %s\n", command.c_str(),
                 std::string(code.status().message()).c_str());
    return absl::IsInvalidArgument(code.status()) ? kUsage : kError;
  }
  return *code;
}

}  // namespace
}  // namespace carehub::audit

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "carehub-audit (--hub=HOST:PORT | --data_dir=DIR) COMMAND [flags]\n"
      "  verify [--from=POSITION:HASH] [--log=care|access]   recompute the hash chain; print the head\n"
      "  history --patient=P [--format=table|json]\n"
      "  replay --patient=P --at=TIME|POSITION   the patient's FHIR resources then, as a Bundle\n"
      "  diff --patient=P --from=T1 [--to=T2]     what changed in plan, team and goals\n"
      "  access-log --patient=P [--from=T1] [--to=T2] [--format=table|ndjson]   who read the record\n"
      "Exit codes: 0 ok, 1 log altered, 2 bad usage, 3 other errors.");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  return carehub::audit::Run(args);
}
