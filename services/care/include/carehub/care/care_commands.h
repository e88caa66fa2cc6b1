// CareCommands: the care service's logic behind carehub.care.v1.CareService, callable in-process
// (carehubd wires the gRPC service onto it; tests call it directly).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<CareCommands> care,
//                    CareCommands::Create(store, {.clock = &clock, .ids = ids.get(),
//                                                 .hub_key = key}));
//   ASSIGN_OR_RETURN(v1::CommandResponse r, care->Execute(command));
//
// Execute: resolves the patient (a new national identifier creates one, see
// internal/patient_registry.h), loads the patient's stream, folds it into the record's state,
// decides (state + command -> events, or an error naming the field), and appends with
// ExpectedVersion::Exact(version) (NoStream for a new stream). On a version conflict it reloads and
// decides again, up to `max_attempts` times, then returns Unavailable. A command already in the
// stream (same source.system and command_id) returns its original result with `replayed` set.
//
// ExecuteAsync: the same, without parking a thread on the append's fsync. It decides on the
// calling thread, appends with EventStore::AppendAsync and runs `done` exactly once: on the
// calling thread if the command fails before its append, otherwise on the event store's
// completion thread. A version conflict is decided again in a task handed to `reschedule`,
// which must run it on a thread that may block (an executor); if `reschedule` returns false the
// command ends Unavailable. Execute is ExecuteAsync with its retries run on the caller's thread.
//
// CheckDeadlines: keeps an index of patients with open Lag (2017:612) tasks, brought up to date
// from the log on each call (so it sees appends by other care-service instances too), and appends
// DeadlineBreached for each task due at or before `now`. Each breach's event id is derived from
// its task, so it is appended once however many checks race.
//
// Error codes: see proto/carehub/care/v1/care_service.proto. Thread-safe.
#ifndef CAREHUB_CARE_CARE_COMMANDS_H_
#define CAREHUB_CARE_CARE_COMMANDS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/care/deadlines.h"
#include "carehub/care/national_id.h"
#include "carehub/care/patient_id.h"
#include "carehub/care/v1/care_service.pb.h"
#include "carehub/eventstore/event_store.h"

namespace carehub::care {

namespace internal {
class PatientRegistry;
class PatientState;
class StateCache;
}  // namespace internal

struct CareCommandsOptions {
  // Recorded-at times and "today" for identifier parsing. Not owned; nullptr: the real clock.
  const Clock* clock = nullptr;
  // Mints new patient ids. Not owned; required.
  PatientIdGenerator* ids = nullptr;
  // The hub's secret key (LoadOrCreateHubKey); required, kHubKeyBytes long.
  std::string hub_key;
  // Accepted identifiers (add reservnummer formats here).
  NationalIdParser parser;
  // Lag (2017:612): payment-responsibility agreements (versioned) and the SIP counting rule.
  std::vector<PaymentAgreement> payment_agreements;
  SipPolicy sip_policy;
  // Decide-and-append attempts per command before Unavailable.
  int max_attempts = 8;
  // Patients whose folded state is kept between commands (least recently used out), so that a
  // command reads only the events appended since the patient's previous one. 0: none.
  size_t state_cache_patients = 4096;
};

class CareCommands {
 public:
  // `store` is not owned and must outlive the result. InvalidArgument for bad options; Internal
  // if the time zone cannot be loaded.
  static absl::StatusOr<std::unique_ptr<CareCommands>> Create(eventstore::EventStore* store,
                                                              CareCommandsOptions options);
  ~CareCommands();

  using ExecuteCallback = std::function<void(absl::StatusOr<v1::CommandResponse>)>;
  using Scheduler = std::function<bool(std::function<void()>)>;

  absl::StatusOr<v1::CommandResponse> Execute(const v1::CommandRequest& command);
  void ExecuteAsync(const v1::CommandRequest& command, Scheduler reschedule, ExecuteCallback done);
  absl::StatusOr<v1::ResolvePatientResponse> ResolvePatient(
      const v1::ResolvePatientRequest& request);
  absl::StatusOr<v1::CheckDeadlinesResponse> CheckDeadlines(absl::Time now);
  // For a prompt shutdown: a CheckDeadlines in progress returns Cancelled at its next step (a
  // start-up catch-up over a large region folds every patient), and every later one at once.
  // What it had not finished, the next process's first check does again.
  void StopDeadlineChecks() { deadlines_stopped_.store(true, std::memory_order_relaxed); }

  const Clock& clock() const { return *clock_; }

 private:
  CareCommands(eventstore::EventStore* store, CareCommandsOptions options,
               DeadlineCalendar calendar);

  struct Run;

  absl::StatusOr<std::string> ResolveCommandPatient(v1::CommandRequest& command, bool* created);
  // Validates the envelope, resolves the patient and normalises identifiers: the run's command,
  // patient and stream.
  absl::StatusOr<std::unique_ptr<Run>> Prepare(const v1::CommandRequest& request);
  // Folds the stream's events after state.version() (every event, for a new state) into `state`.
  absl::Status LoadState(const std::string& stream_id, internal::PatientState& state);
  // One attempt: catch the state up, decide, append; ends the run or reschedules it.
  void Attempt(std::shared_ptr<Run> run);
  void Finish(Run& run, absl::StatusOr<v1::CommandResponse> result);
  // Cancelled once StopDeadlineChecks() was called.
  absl::Status DeadlineChecksGoOn() const;
  absl::Status CatchUpDeadlineIndex() ABSL_EXCLUSIVE_LOCKS_REQUIRED(deadline_mu_);
  absl::StatusOr<std::vector<std::string>> BreachOverdue(const std::string& stream_id,
                                                         absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(deadline_mu_);

  eventstore::EventStore* store_;
  CareCommandsOptions options_;
  const Clock* clock_;
  DeadlineCalendar calendar_;
  std::unique_ptr<internal::PatientRegistry> registry_;
  std::unique_ptr<internal::StateCache> states_;

  // Runs started and not yet finished; the destructor waits for none, since a run's append
  // completes on the event store's thread and calls back into this object.
  absl::Mutex runs_mu_;
  int runs_in_flight_ ABSL_GUARDED_BY(runs_mu_) = 0;

  // One deadline check at a time.
  absl::Mutex deadline_mu_;
  std::atomic<bool> deadlines_stopped_{false};
  // The next global-log position the deadline index has not seen.
  uint64_t deadline_cursor_ ABSL_GUARDED_BY(deadline_mu_) = 0;
  // Patient stream -> earliest due time of an open task.
  absl::flat_hash_map<std::string, absl::Time> earliest_due_ ABSL_GUARDED_BY(deadline_mu_);
};

}  // namespace carehub::care

#endif  // CAREHUB_CARE_CARE_COMMANDS_H_
