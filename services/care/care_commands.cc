#include "carehub/care/care_commands.h"

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/log.h"
#include "carehub/base/status_macros.h"
#include "carehub/care/hub_key.h"
#include "services/care/internal/decide.h"
#include "services/care/internal/patient_registry.h"
#include "services/care/internal/patient_state.h"
#include "services/care/internal/state_cache.h"

namespace carehub::care {
namespace {

using internal::PatientState;
namespace es = ::carehub::eventstore;

constexpr char kPatientStreamPrefix[] = "patient-";

// Commands that may meet a person the hub has never seen: they create the patient.
bool MayCreatePatient(const v1::CommandRequest& command) {
  return command.has_patient_enrolled() || command.has_inpatient_admitted() ||
         command.has_demographics_updated() || command.has_consent_given();
}

bool IsRetryable(const absl::Status& status) {
  return es::AppendConflict(status).has_value() || absl::IsAlreadyExists(status);
}

v1::CommandResponse ResponseFor(const std::string& patient_id, const std::string& stream_id,
                                const internal::CommandRecord& record, bool replayed) {
  v1::CommandResponse response;
  response.set_patient_id(patient_id);
  for (const std::string& id : record.event_ids) response.add_event_ids(id);
  response.set_stream_id(stream_id);
  response.set_first_version(record.first_version);
  response.set_last_version(record.last_version);
  response.set_first_position(record.first_position);
  response.set_last_position(record.last_position);
  response.set_replayed(replayed);
  return response;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CareCommands>> CareCommands::Create(es::EventStore* store,
                                                                   CareCommandsOptions options) {
  if (store == nullptr) return absl::InvalidArgumentError("store: required");
  if (options.ids == nullptr) return absl::InvalidArgumentError("options.ids: required");
  if (options.hub_key.size() != kHubKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("options.hub_key: must be ", kHubKeyBytes,
                                                   " bytes"));
  }
  if (options.max_attempts < 1) return absl::InvalidArgumentError("options.max_attempts: >= 1");
  ASSIGN_OR_RETURN(DeadlineCalendar calendar,
                   DeadlineCalendar::Create(options.payment_agreements, options.sip_policy));
  return std::unique_ptr<CareCommands>(
      new CareCommands(store, std::move(options), std::move(calendar)));
}

CareCommands::CareCommands(es::EventStore* store, CareCommandsOptions options,
                           DeadlineCalendar calendar)
    : store_(store),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()),
      calendar_(std::move(calendar)),
      registry_(std::make_unique<internal::PatientRegistry>(
          store, options_.hub_key, options_.ids, &options_.parser, &calendar_, clock_)),
      states_(std::make_unique<internal::StateCache>(options_.state_cache_patients)) {}

CareCommands::~CareCommands() {
  absl::MutexLock lock(&runs_mu_);
  runs_mu_.Await(absl::Condition(
      +[](int* n) { return *n == 0; }, &runs_in_flight_));
}

absl::Status CareCommands::LoadState(const std::string& stream_id, PatientState& state) {
  uint64_t from = state.version().has_value() ? *state.version() + 1 : 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<es::RecordedEvent> events,
                     store_->ReadStream({.stream_id = stream_id, .from_version = from}));
    for (const es::RecordedEvent& event : events) RETURN_IF_ERROR(state.Apply(event));
    if (events.empty()) return absl::OkStatus();
    from = events.back().version + 1;
  }
}

absl::StatusOr<std::string> CareCommands::ResolveCommandPatient(v1::CommandRequest& command,
                                                                bool* created) {
  if (command.patient().has_identifier()) {
    ASSIGN_OR_RETURN(v1::PatientIdentifier normalized,
                     registry_->Normalize(command.patient().identifier(), "patient.identifier"));
    absl::StatusOr<internal::PatientRegistry::Resolution> resolution =
        registry_->Resolve(normalized, /*create_if_missing=*/false);
    if (absl::IsNotFound(resolution.status()) && MayCreatePatient(command)) {
      // A new person's record is empty: decide against an empty state first, so that a refused
      // command creates no patient either.
      PatientState empty(&calendar_);
      RETURN_IF_ERROR(internal::Decide(empty, command, "", clock_->Now()).status());
      resolution = registry_->Resolve(normalized, /*create_if_missing=*/true);
    }
    RETURN_IF_ERROR(resolution.status());
    *created = resolution->created;
    return resolution->patient_id;
  }
  const std::string& patient_id = command.patient().patient_id();
  if (!IsPatientId(patient_id)) {
    return absl::InvalidArgumentError("patient.patient_id: not a patient id (a UUID)");
  }
  absl::StatusOr<uint64_t> version = store_->StreamVersion(internal::PatientStreamId(patient_id));
  if (absl::IsNotFound(version.status())) {
    return absl::NotFoundError("patient.patient_id: no such patient");
  }
  RETURN_IF_ERROR(version.status());
  return patient_id;
}

// One command on its way through decide-and-append. Shared by the append's callback and, after a
// conflict, by the rescheduled attempt; only one of them touches it at a time.
struct CareCommands::Run {
  v1::CommandRequest command;
  std::string patient_id;
  std::string stream_id;
  std::string key;  // the command's idempotency key in the patient's state
  bool created = false;
  // The patient's state folded by an earlier command, caught up by each attempt; it stays a fold
  // of a prefix of the stream, so it goes back into the cache at the end unless a fold failed.
  std::unique_ptr<PatientState> state;
  // The state came from the cache and has not been caught up from the stream in this command.
  bool unread = false;
  int attempts = 0;
  Scheduler reschedule;
  ExecuteCallback done;
};

absl::StatusOr<std::unique_ptr<CareCommands::Run>> CareCommands::Prepare(
    const v1::CommandRequest& request) {
  RETURN_IF_ERROR(internal::ValidateEnvelope(request));
  auto run = std::make_unique<Run>();
  run->command = request;
  v1::CommandRequest& command = run->command;
  ASSIGN_OR_RETURN(run->patient_id, ResolveCommandPatient(command, &run->created));
  if (command.has_link_identifier()) {
    v1::LinkIdentifier* link = command.mutable_link_identifier();
    ASSIGN_OR_RETURN(*link->mutable_identifier(),
                     registry_->Normalize(link->identifier(), "link_identifier.identifier"));
    if (link->has_supersedes()) {
      ASSIGN_OR_RETURN(*link->mutable_supersedes(),
                       registry_->Normalize(link->supersedes(), "link_identifier.supersedes"));
      ASSIGN_OR_RETURN(internal::PatientRegistry::Resolution old,
                       registry_->Resolve(link->supersedes(), false));
      if (old.patient_id != run->patient_id) {
        return absl::FailedPreconditionError(
            "link_identifier.supersedes: denotes another patient");
      }
    }
  }
  run->stream_id = internal::PatientStreamId(run->patient_id);
  run->key = internal::CommandKey(command.source().system(), command.command_id());
  return run;
}

absl::StatusOr<v1::CommandResponse> CareCommands::Execute(const v1::CommandRequest& request) {
  // The asynchronous path; its retries come back to this thread through `mailbox`, which is
  // shared because the last callback may still be unwinding when this call returns.
  struct Mailbox {
    absl::Mutex mu;
    std::deque<std::function<void()>> tasks ABSL_GUARDED_BY(mu);
    std::optional<absl::StatusOr<v1::CommandResponse>> result ABSL_GUARDED_BY(mu);
  };
  auto mailbox = std::make_shared<Mailbox>();
  ExecuteAsync(
      request,
      [mailbox](std::function<void()> task) {
        absl::MutexLock lock(&mailbox->mu);
        mailbox->tasks.push_back(std::move(task));
        return true;
      },
      [mailbox](absl::StatusOr<v1::CommandResponse> result) {
        absl::MutexLock lock(&mailbox->mu);
        mailbox->result = std::move(result);
      });
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mailbox->mu);
      mailbox->mu.Await(absl::Condition(
          +[](Mailbox* m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(m->mu) {
            return m->result.has_value() || !m->tasks.empty();
          },
          mailbox.get()));
      if (mailbox->result.has_value()) return *std::move(mailbox->result);
      task = std::move(mailbox->tasks.front());
      mailbox->tasks.pop_front();
    }
    task();
  }
}

void CareCommands::ExecuteAsync(const v1::CommandRequest& request, Scheduler reschedule,
                                ExecuteCallback done) {
  absl::StatusOr<std::unique_ptr<Run>> prepared = Prepare(request);
  if (!prepared.ok()) return done(prepared.status());
  std::shared_ptr<Run> run = *std::move(prepared);
  run->reschedule = std::move(reschedule);
  run->done = std::move(done);
  run->state = states_->Take(run->stream_id);
  run->unread = run->state != nullptr;
  if (run->state == nullptr) run->state = std::make_unique<PatientState>(&calendar_);
  {
    absl::MutexLock lock(&runs_mu_);
    ++runs_in_flight_;
  }
  Attempt(std::move(run));
}

void CareCommands::Attempt(std::shared_ptr<Run> run) {
  PatientState& state = *run->state;
  // A cached state is where this process's last command for the patient left it, which is
  // normally the stream's head: the first attempt decides on it without reading the stream. The
  // append's exact expected version catches a state that was behind (another process or the
  // deadline check appended since): the conflict sends the command round again, reading first.
  // A refusal is never answered from an unread state: it is decided again after a read.
  const bool unread = std::exchange(run->unread, false);
  if (!unread) {
    if (absl::Status loaded = LoadState(run->stream_id, state); !loaded.ok()) {
      run->state.reset();  // a partial fold must not be cached
      return Finish(*run, loaded);
    }
  }
  if (const internal::CommandRecord* done = state.FindCommand(run->key)) {
    return Finish(*run, ResponseFor(run->patient_id, run->stream_id, *done, /*replayed=*/true));
  }
  absl::StatusOr<std::vector<v1::CareEvent>> events =
      internal::Decide(state, run->command, run->patient_id, clock_->Now());
  if (!events.ok()) {
    if (unread) return Attempt(std::move(run));
    return Finish(*run, events.status());
  }
  if (run->command.has_link_identifier()) {
    // The registry first: if the identifier denotes another patient, nothing is appended.
    v1::CareEvent registry_copy = events->front();
    registry_copy.set_event_id(absl::StrCat(registry_copy.event_id(), "-registry"));
    if (absl::Status linked = registry_->Link(registry_copy).status(); !linked.ok()) {
      return Finish(*run, linked);
    }
  }
  std::vector<es::ProposedEvent> proposed;
  for (const v1::CareEvent& event : *events) proposed.push_back(internal::ToProposed(event));
  const es::ExpectedVersion expected = state.version().has_value()
                                           ? es::ExpectedVersion::Exact(*state.version())
                                           : es::ExpectedVersion::NoStream();
  const std::string stream_id = run->stream_id;
  store_->AppendAsync(
      stream_id, expected, std::move(proposed),
      [this, run = std::move(run),
       events = *std::move(events)](absl::StatusOr<es::AppendResult> appended) mutable {
        if (appended.ok()) {
          if (!appended->idempotent_replay) {
            // Appended at the exact version the state is at: the cached state moves to the head
            // with these events, so that the patient's next command need not read them back.
            for (size_t i = 0; i < events.size(); ++i) {
              run->state->Apply(events[i], appended->first_version + i,
                                appended->first_position + i);
            }
          } else {
            // The events were stored before, elsewhere in the stream: this state is behind.
            run->state.reset();
          }
          internal::CommandRecord record{.first_version = appended->first_version,
                                         .last_version = appended->last_version,
                                         .first_position = appended->first_position,
                                         .last_position = appended->last_position};
          for (const v1::CareEvent& event : events) record.event_ids.push_back(event.event_id());
          return Finish(*run, ResponseFor(run->patient_id, run->stream_id, record,
                                          appended->idempotent_replay));
        }
        if (!IsRetryable(appended.status())) return Finish(*run, appended.status());
        if (++run->attempts >= options_.max_attempts) {
          LOG_WARNING("care.command.contention")
              .Kv("stream", run->stream_id)
              .Kv("attempts", run->attempts);
          return Finish(*run, absl::UnavailableError(absl::StrCat(
                                  "the patient's record kept changing; retry (",
                                  appended.status().message(), ")")));
        }
        // Another command for this patient got there first: decide again off this thread.
        Run& retried = *run;
        if (!retried.reschedule([this, run] { Attempt(run); })) {
          Finish(retried, absl::UnavailableError("the care service is shutting down"));
        }
      });
}

void CareCommands::Finish(Run& run, absl::StatusOr<v1::CommandResponse> result) {
  if (run.state != nullptr) states_->Put(run.stream_id, std::move(run.state));
  if (result.ok()) result->set_patient_created(run.created);
  {
    // Destroyed before the count drops: whatever the callback holds must not outlive this.
    ExecuteCallback done = std::move(run.done);
    done(std::move(result));
  }
  absl::MutexLock lock(&runs_mu_);
  --runs_in_flight_;
}

absl::StatusOr<v1::ResolvePatientResponse> CareCommands::ResolvePatient(
    const v1::ResolvePatientRequest& request) {
  ASSIGN_OR_RETURN(v1::PatientIdentifier normalized,
                   registry_->Normalize(request.identifier(), "identifier"));
  ASSIGN_OR_RETURN(internal::PatientRegistry::Resolution resolution,
                   registry_->Resolve(normalized, request.create_if_missing()));
  v1::ResolvePatientResponse response;
  response.set_patient_id(resolution.patient_id);
  response.set_created(resolution.created);
  return response;
}

absl::Status CareCommands::DeadlineChecksGoOn() const {
  if (!deadlines_stopped_.load(std::memory_order_relaxed)) return absl::OkStatus();
  return absl::CancelledError("deadline checks are stopping (the care service is shutting down)");
}

absl::Status CareCommands::CatchUpDeadlineIndex() {
  // The cursor moves only once every stream touched before it is folded into the index: a fold
  // that fails (the store unavailable) leaves it where it was, so the next check reads those
  // patients again instead of losing their deadlines for good.
  std::set<std::string> touched;
  uint64_t cursor = deadline_cursor_;
  for (;;) {
    RETURN_IF_ERROR(DeadlineChecksGoOn());
    ASSIGN_OR_RETURN(es::ReadAllResult result,
                     store_->ReadAll({.from_position = cursor,
                                      .limit = 1000,
                                      .stream_prefix = kPatientStreamPrefix,
                                      .max_scan = 100000}));
    for (const es::RecordedEvent& event : result.events) {
      touched.insert(event.stream_id);
      cursor = event.position + 1;
    }
    if (!result.next_position.has_value()) break;
    cursor = *result.next_position;
  }
  for (const std::string& stream_id : touched) {
    RETURN_IF_ERROR(DeadlineChecksGoOn());
    PatientState state(&calendar_);
    RETURN_IF_ERROR(LoadState(stream_id, state));
    const absl::Time due = state.EarliestDue();
    if (due == absl::InfiniteFuture()) {
      earliest_due_.erase(stream_id);
    } else {
      earliest_due_[stream_id] = due;
    }
  }
  deadline_cursor_ = cursor;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> CareCommands::BreachOverdue(const std::string& stream_id,
                                                                     absl::Time now) {
  const std::string patient_id = stream_id.substr(sizeof(kPatientStreamPrefix) - 1);
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    PatientState state(&calendar_);
    RETURN_IF_ERROR(LoadState(stream_id, state));
    std::vector<v1::CareEvent> events = internal::DecideBreaches(state, patient_id, now);
    std::vector<std::string> ids;
    std::vector<es::ProposedEvent> proposed;
    for (const v1::CareEvent& event : events) {
      ids.push_back(event.event_id());
      proposed.push_back(internal::ToProposed(event));
    }
    if (proposed.empty()) return ids;
    absl::StatusOr<es::AppendResult> appended = store_->Append(
        stream_id, es::ExpectedVersion::Exact(*state.version()), std::move(proposed));
    if (appended.ok()) return ids;
    if (!IsRetryable(appended.status())) return appended.status();
  }
  return absl::UnavailableError("deadline check: the patient's record kept changing; retry");
}

absl::StatusOr<v1::CheckDeadlinesResponse> CareCommands::CheckDeadlines(absl::Time now) {
  absl::MutexLock lock(&deadline_mu_);
  RETURN_IF_ERROR(CatchUpDeadlineIndex());
  v1::CheckDeadlinesResponse response;
  std::vector<std::string> overdue;
  for (const auto& [stream_id, due] : earliest_due_) {
    if (due <= now) overdue.push_back(stream_id);
  }
  for (const std::string& stream_id : overdue) {
    RETURN_IF_ERROR(DeadlineChecksGoOn());
    ASSIGN_OR_RETURN(std::vector<std::string> ids, BreachOverdue(stream_id, now));
    for (std::string& id : ids) response.add_event_ids(std::move(id));
  }
  // The breaches just appended are seen (and the index updated) by this catch-up.
  RETURN_IF_ERROR(CatchUpDeadlineIndex());
  response.set_patients_checked(overdue.size());
  if (response.event_ids_size() > 0) {
    LOG_INFO("care.deadlines.breached").Kv("events", response.event_ids_size());
  }
  return response;
}

}  // namespace carehub::care
