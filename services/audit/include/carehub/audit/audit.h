// The audit library behind carehub-audit: verification of the log's hash chain, a patient's
// history of changes, the replay of a patient's FHIR resources "as of" a moment, and a readable
// diff of the care plan and team between two moments. Everything works on an
// eventstore::EventStore, so the same code runs on a stopped hub's data directory (opened
// read-only) and on a running hub (the gRPC client of services/eventstore/client).
//
//   ASSIGN_OR_RETURN(Moment at, ParseMoment("2026-03-01T10:00:00+01:00"));
//   ASSIGN_OR_RETURN(PatientReplay replay, ReplayPatient(store, patient_id, at));
//   std::cout << BundleJson(replay) << "\n";
//   ASSIGN_OR_RETURN(std::vector<HistoryEntry> history, PatientHistory(store, patient_id));
//
// Replay projects the patient's own stream ("patient-<id>") with fhir::Project, the code the
// projector runs, into an fhir::InMemoryProjectionState. The patient's resources are therefore
// byte-identical to the server's read model after the same events. Left out of the Bundle are
// the resources that are shared across patients or that record which shared resources were new:
// Organization, Practitioner, PractitionerRole (a per-patient replay would number their versions
// differently) and Provenance (its targets list the Organization/Practitioner versions an event
// created, which depends on every other patient's events before it). `history` shows what
// Provenance would: when, which event, which source system, organisation and author.
//
// A moment is a log position (every event at or before it) or an RFC 3339 time (every event
// recorded at or before it). A patient's events are appended in position order with the store's
// clock, so both select a prefix of the patient's stream.
//
// Errors (absl::StatusCode):
//   InvalidArgument  a malformed moment, head or identifier
//   NotFound         an unknown patient (the message never repeats the identifier)
//   OutOfRange       a moment before the log began or a position past its head
//   FailedPrecondition  the patient's record had not begun at the moment
//   DataLoss         a stored event that does not parse (run verify)
//   others           from the store (Unavailable when a remote hub cannot be reached)
//
// Thread-safety: the functions are thread-safe if the store is; the values are plain data.
#ifndef CAREHUB_AUDIT_AUDIT_H_
#define CAREHUB_AUDIT_AUDIT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/fhir/projection.h"

namespace carehub::audit {

// A moment in the log: a position, or else a time.
struct Moment {
  std::optional<uint64_t> position;
  absl::Time time = absl::InfinitePast();
};

// "12345" (a position) or an RFC 3339 time ("2026-03-01T10:00:00Z", "...+01:00", fractional
// seconds allowed). InvalidArgument otherwise.
absl::StatusOr<Moment> ParseMoment(std::string_view text);
std::string FormatMoment(const Moment& moment);

// Checks that `moment` lies within the log: OutOfRange for a time before the first event was
// recorded or a position past the head; also for any moment when the log is empty.
absl::Status CheckMomentInLog(eventstore::EventStore& store, const Moment& moment);

// "POSITION:HASH" (64 hex digits), as FormatLogHead prints it. InvalidArgument otherwise.
absl::StatusOr<eventstore::LogHead> ParseLogHead(std::string_view text);
// "POSITION:HASH", or "empty" for an empty log.
std::string FormatLogHead(const eventstore::LogHead& head);

// RFC 3339 in UTC with microseconds, the precision of recorded-at times.
std::string FormatInstant(absl::Time t);

// "patient-<id>".
std::string PatientStreamId(std::string_view patient_id);

// Every event of the patient's stream in version order, or, with `moment`, those up to it.
// NotFound ("unknown patient") if the stream does not exist.
absl::StatusOr<std::vector<eventstore::RecordedEvent>> ReadPatientStream(
    eventstore::EventStore& store, std::string_view patient_id,
    const std::optional<Moment>& moment = std::nullopt);

// One change to a patient's record, from the event and its CareEvent envelope.
struct HistoryEntry {
  absl::Time recorded_at;
  uint64_t position = 0;
  uint64_t version = 0;  // in the patient's stream
  std::string event_id;
  std::string event_type;  // the payload's name, e.g. "CarePlanAgreed"
  std::string source_system;
  std::string organisation_hsa_id;
  std::string author_hsa_id;  // empty for a device, a system, the patient or a relative
};

// The patient's history, oldest first. NotFound for an unknown patient; DataLoss if an event of
// the stream is not a CareEvent.
absl::StatusOr<std::vector<HistoryEntry>> PatientHistory(eventstore::EventStore& store,
                                                         std::string_view patient_id);
// A table with a header line, one line per entry.
std::string FormatHistoryTable(const std::vector<HistoryEntry>& history);
// One JSON object per line.
std::string FormatHistoryJsonLines(const std::vector<HistoryEntry>& history);

// The patient's resources as the projection had them at a moment.
struct PatientReplay {
  std::string patient_id;
  size_t events = 0;                          // of the patient's stream, projected
  std::optional<uint64_t> last_position;      // of the last projected event
  std::optional<absl::Time> last_recorded_at;
  fhir::InMemoryProjectionState state;
};

// Projects the patient's events up to `moment` (nullopt: all). NotFound for an unknown patient;
// FailedPrecondition if the record had not begun at the moment, unless `allow_empty`.
absl::StatusOr<PatientReplay> ReplayPatient(eventstore::EventStore& store,
                                            std::string_view patient_id,
                                            const std::optional<Moment>& moment,
                                            bool allow_empty = false);

// The current version of each of the patient's resources in the replay, sorted by (type, id),
// without the shared and Provenance resources the header names.
std::vector<fhir::ResourceVersion> PatientResources(const PatientReplay& replay);

// A FHIR Bundle (type collection) of PatientResources(replay), compact JSON; each resource's
// JSON is embedded byte for byte as the projection wrote it.
std::string BundleJson(const PatientReplay& replay);

// What changed between two replays of one patient in the care plans, care teams and goals
// (status, activities, participants), and which other resources got new versions, as lines a
// person can read. Empty when nothing changed. DataLoss if a resource does not parse.
absl::StatusOr<std::vector<std::string>> DiffPlanAndTeam(const PatientReplay& before,
                                                         const PatientReplay& after);

}  // namespace carehub::audit

#endif  // CAREHUB_AUDIT_AUDIT_H_
