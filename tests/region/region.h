// A synthetic region: a deterministic population of patients whose care records go through the
// real care service (CareCommands in-process), for the FHIR API's tests and for the benchmarks
// that need a region's worth of data (100,000 patients, about 3 million events).
//
//   ThreadClock clock;
//   ASSIGN_OR_RETURN(auto care, care::CareCommands::Create(store, {.clock = &clock, ...}));
//   ASSIGN_OR_RETURN(RegionStats stats,
//                    GenerateRegion(*care, clock, {.patients = 1000, .threads = 16}));
//
// Patient i's journey is a pure function of (seed, i): enrolment in primary care, SIP consent,
// the fixed care contact and team, goals, activities and the agreed plan; most patients then
// have a hospital stay with the whole discharge workflow of Lag (2017:612) (some never get a SIP
// invitation, so that CheckDeadlines at the end records breaches), self-monitoring, home
// visits, agreed times and a revision. Names, dates and identifiers are synthetic: personnummer
// in the test series (serial 98x, valid check digit), never a real person's.
//
// Patients run in parallel on `threads` workers, each patient's commands in order on one worker,
// so the commands and each patient's events are deterministic; the interleaving of patients in
// the global log is not (use threads = 1 for a byte-identical log).
//
// Errors: the first command the care service rejects (with the command id and patient index).
// Thread-safety: GenerateRegion may be called once at a time per CareCommands.
#ifndef CAREHUB_TESTS_REGION_REGION_H_
#define CAREHUB_TESTS_REGION_REGION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/care/care_commands.h"
#include "carehub/care/v1/care_service.pb.h"

namespace carehub::region {

// A clock whose "now" is set per thread, so that parallel workers each record their patient's
// simulated time. A thread that never set it reads `fallback`.
class ThreadClock : public Clock {
 public:
  explicit ThreadClock(absl::Time fallback = absl::UnixEpoch()) : fallback_(fallback) {}
  absl::Time Now() const override;
  static void SetForThisThread(absl::Time t);

 private:
  const absl::Time fallback_;
};

struct RegionOptions {
  int patients = 100;
  // Index of the first patient: a second run with first_patient = N adds patients N.. to a region.
  int first_patient = 0;
  uint64_t seed = 1;
  int threads = 16;
  // Journeys start spread over `span` from `start` (Europe/Stockholm working hours).
  absl::Time start = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z
  absl::Duration span = absl::Hours(24 * 300);
  // Finally run CheckDeadlines at the end of the span (breaches for journeys without SIP).
  bool check_deadlines = true;
  // Called after each patient's journey (from worker threads), for progress reports.
  std::function<void(int done)> on_patient;
};

struct RegionStats {
  uint64_t patients = 0;
  uint64_t commands = 0;
  uint64_t events = 0;
  absl::Duration elapsed;
};

// A timed command of a journey. `command.patient` names the person by personnummer for the first
// command and is replaced by the hub's patient id once known.
struct JourneyStep {
  absl::Time at;
  care::v1::CommandRequest command;
};

// The personnummer of patient `index` (test series: serial 980-989, valid Luhn digit), 12 digits
// with '-' ("YYYYMMDD-NNNC"). Distinct for index < 113,150.
std::string PatientPersonnummer(int index);

// Patient `index`'s journey, in time order.
std::vector<JourneyStep> Journey(int index, const RegionOptions& options);

absl::StatusOr<RegionStats> GenerateRegion(care::CareCommands& care, const RegionOptions& options);

}  // namespace carehub::region

#endif  // CAREHUB_TESTS_REGION_REGION_H_
