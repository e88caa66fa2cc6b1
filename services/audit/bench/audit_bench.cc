// carehub-audit-bench: what an auditor waits for on a region-sized log. Opens a stopped hub's
// data directory read-only (never writes into it) and measures
//   - verify: the whole hash chain recomputed, in events per second;
//   - replay: one patient's FHIR resources as of a past time (the recorded-at time of the middle
//     event of the patient's stream), p50/p99/max over patients spread through the log, timed
//     as carehub-audit replay does it: the moment checked against the log, the stream read and
//     projected, the Bundle built.
//
//   carehub-audit-bench --data_dir=/work/data/region100k [--patients=200] [--skip_verify]
//
// Prints one `bench name=... value=...` line per figure.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "carehub/audit/audit.h"
#include "carehub/base/status_macros.h"
#include "carehub/eventstore/event_store.h"

ABSL_FLAG(std::string, data_dir, "", "Data directory of a stopped hub (read-only).");
ABSL_FLAG(int, patients, 200, "Patients to replay, spread through the log.");
ABSL_FLAG(bool, skip_verify, false, "Measure replay only.");

namespace carehub::audit {
namespace {

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const size_t i = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[i];
}

absl::Status Bench() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) return absl::InvalidArgumentError("--data_dir is required");
  ASSIGN_OR_RETURN(std::unique_ptr<eventstore::EventStore> store,
                   eventstore::EventStore::Open({.path = data_dir + "/eventstore",
                                                 .read_only = true}));
  ASSIGN_OR_RETURN(const eventstore::LogHead head, store->Head());
  if (!head.position.has_value()) return absl::FailedPreconditionError("the log is empty");
  const uint64_t events = *head.position + 1;
  std::printf("log: %llu events\n", static_cast<unsigned long long>(events));

  if (!absl::GetFlag(FLAGS_skip_verify)) {
    const absl::Time start = absl::Now();
    ASSIGN_OR_RETURN(eventstore::VerifyResult result, store->Verify(std::nullopt));
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    if (!result.ok) return absl::DataLossError(result.problem);
    std::printf("verify: %llu events in %.2f s, head %s\n",
                static_cast<unsigned long long>(result.events_verified), seconds,
                FormatLogHead(result.head).c_str());
    std::printf("bench name=audit_verify_events_per_s value=%.0f\n",
                result.events_verified / seconds);
  }

  const int patients = std::max(1, absl::GetFlag(FLAGS_patients));
  std::vector<double> ms;
  size_t resources = 0;
  for (int i = 0; i < patients; ++i) {
    // The first patient stream found from a point spread through the log.
    ASSIGN_OR_RETURN(eventstore::ReadAllResult found,
                     store->ReadAll({.from_position = events * i / patients,
                                     .limit = 1,
                                     .stream_prefix = "patient-"}));
    if (found.events.empty()) continue;
    const std::string patient_id(absl::StripPrefix(found.events[0].stream_id, "patient-"));
    ASSIGN_OR_RETURN(std::vector<eventstore::RecordedEvent> stream,
                     ReadPatientStream(*store, patient_id));
    const Moment at{.time = stream[stream.size() / 2].recorded_at};

    const absl::Time start = absl::Now();
    RETURN_IF_ERROR(CheckMomentInLog(*store, at));
    ASSIGN_OR_RETURN(PatientReplay replay, ReplayPatient(*store, patient_id, at));
    const std::string bundle = BundleJson(replay);
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    resources += PatientResources(replay).size();
  }
  if (ms.empty()) return absl::FailedPreconditionError("no patient streams in the log");
  std::printf("replay: %zu patients, %.1f resources each; ms p50 %.2f p99 %.2f max %.2f\n",
              ms.size(), static_cast<double>(resources) / ms.size(), Percentile(ms, 0.5),
              Percentile(ms, 0.99), *std::max_element(ms.begin(), ms.end()));
  std::printf("bench name=audit_replay_ms_p50 value=%.2f\n", Percentile(ms, 0.5));
  std::printf("bench name=audit_replay_ms_p99 value=%.2f\n", Percentile(ms, 0.99));
  return absl::OkStatus();
}

}  // namespace
}  // namespace carehub::audit

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Times carehub-audit's verify and replay over a stopped hub's data directory.");
  absl::ParseCommandLine(argc, argv);
  // As the servers run (services::RunServerProcess): no lock-order graph on every lock.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const absl::Status status = carehub::audit::Bench();
  if (!status.ok()) {
    std::fprintf(stderr, "carehub-audit-bench: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
