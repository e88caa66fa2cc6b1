// Test support for the FHIR projections: care events built with the generated proto, appended to
// a real EventStore, projected into a ReadModel, and (when CAREHUB_FHIR_DUMP_DIR is set) every
// projected resource version written to that directory as <Type>-<id>-v<version>.json for the
// FHIR validator harness.
#ifndef CAREHUB_FHIR_TESTING_CARE_EVENTS_H_
#define CAREHUB_FHIR_TESTING_CARE_EVENTS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/care/v1/events.pb.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/fhir/projection.h"
#include "carehub/fhir/read_model.h"

namespace carehub::fhir::testing {

// The region as data owner (vårdgivare) of what its hospital and primary care record.
inline constexpr char kRegionHsaId[] = "SE2321000131-E000000000000";
inline constexpr char kHospitalHsaId[] = "SE2321000131-E000000000001";
inline constexpr char kVardcentralHsaId[] = "SE2321000131-E000000000002";
inline constexpr char kKommunHslHsaId[] = "SE2120000829-E000000000003";
inline constexpr char kNurseHsaId[] = "SE2120000829-P000000000011";
inline constexpr char kDoctorHsaId[] = "SE2321000131-P000000000012";

// 2026-03-01T02:10:00Z: Märta is admitted at night.
absl::Time ScenarioStart();

// An envelope for `patient_id` with event id "<patient_id>-<seq>", occurred_at = `at`, a source
// system, organisation and author, data owner region. Add the payload to it.
care::v1::CareEvent Envelope(std::string_view patient_id, int seq, absl::Time at);

// The event store type of a care event: its payload's full message name.
std::string EventType(const care::v1::CareEvent& event);

// Märta's story (DOMAIN.md), for one patient: enrolment, consent, team, goals, activities, an
// admission with the discharge workflow, discharge, a revision and more; `at` is the first event's
// time. Ids of plans, teams, activities and stays are derived from the patient id.
std::vector<care::v1::CareEvent> MartaScenario(std::string_view patient_id, absl::Time at);

// An event store in `dir` with a manual clock at ScenarioStart(); each Append moves the clock by
// one second, so recorded_at is deterministic.
class ScenarioLog {
 public:
  static absl::StatusOr<std::unique_ptr<ScenarioLog>> Open(const std::string& dir);

  // Appends `event` to the stream "patient-<patient_id>".
  absl::StatusOr<eventstore::RecordedEvent> Append(const care::v1::CareEvent& event);
  absl::Status AppendAll(const std::vector<care::v1::CareEvent>& events);
  // Appends events of one patient in one Append (one fsync): for building large logs fast.
  absl::Status AppendBatch(const std::vector<care::v1::CareEvent>& events);
  // Appends an event that is not a care event (another module's type).
  absl::StatusOr<eventstore::RecordedEvent> AppendForeign(std::string_view stream_id,
                                                          std::string_view type);

  eventstore::EventStore& store() { return *store_; }

 private:
  ScenarioLog() : clock_(ScenarioStart()) {}
  ManualClock clock_;
  std::unique_ptr<eventstore::EventStore> store_;
  uint64_t foreign_ = 0;
};

// Writes each version of `output` to $CAREHUB_FHIR_DUMP_DIR, if set.
void DumpOutput(const ProjectionOutput& output);

// Projects one event into `model` (Project + Apply at position + 1) and dumps it.
absl::StatusOr<ProjectionOutput> ProjectInto(ReadModel& model,
                                             const eventstore::RecordedEvent& event);

// Projects every event of the log from the model's checkpoint to the head, or up to (not
// including) position `end`.
absl::Status ProjectLog(eventstore::EventStore& store, ReadModel& model, uint64_t end = UINT64_MAX);

// Checks what a read model must satisfy after any prefix of the log: every resource's versions
// are 1..n with meta.versionId = n and the current one the newest, and the Provenance targets
// are exactly the non-Provenance versions, each once. Returns the number of versions checked.
absl::StatusOr<size_t> CheckVersionsAndProvenance(ReadModel& model);

// Every version of every resource in `model` as "<Type>/<id>/<version>" -> JSON, for comparing
// two read models byte for byte.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> AllVersions(ReadModel& model);

// The resource types the projection writes.
const std::vector<std::string>& ResourceTypes();

}  // namespace carehub::fhir::testing

#endif  // CAREHUB_FHIR_TESTING_CARE_EVENTS_H_
