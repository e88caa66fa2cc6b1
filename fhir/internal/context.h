// ProjectionContext: the working set of one event's projection. Loads resources through the
// lookup once, lets the event's projection change them in memory, and at Finish() stamps a new
// version on each resource whose content changed and adds the event's Provenance.
//
// Not thread-safe; lives for one call of Project().
#ifndef CAREHUB_FHIR_INTERNAL_CONTEXT_H_
#define CAREHUB_FHIR_INTERNAL_CONTEXT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "carehub/care/v1/events.pb.h"
#include "carehub/eventstore/types.h"
#include "carehub/fhir/projection.h"
#include "fhir/internal/fhir_json.h"

namespace carehub::fhir::internal {

class ProjectionContext {
 public:
  ProjectionContext(const ProjectionLookup& lookup, const eventstore::RecordedEvent& recorded,
                    const care::v1::CareEvent& event)
      : lookup_(lookup), recorded_(recorded), event_(event) {}

  const care::v1::CareEvent& event() const { return event_; }
  // The event's occurred_at as a FHIR dateTime (recorded_at of the log when unset).
  std::string OccurredAt() const;
  std::string PatientId() const { return ResourceId("Patient", event_.patient_id()); }
  Json PatientRef() const { return Ref("Patient", PatientId()); }

  // The resource as this event has left it so far; nullptr if it does not exist.
  absl::StatusOr<Json*> Find(std::string_view type, std::string_view id);
  // Like Find, but creates {"resourceType", "id"} when missing.
  absl::StatusOr<Json*> FindOrCreate(std::string_view type, std::string_view id);

  absl::StatusOr<std::optional<std::string>> State(std::string_view key);
  void SetState(std::string_view key, std::string_view value);

  // The organisation that sent the event (null if it named none).
  Json SourceOrganizationRef() const;

  // The versions and state this event writes, with its Provenance.
  absl::StatusOr<ProjectionOutput> Finish();

 private:
  struct Entry {
    std::string original_body;  // without meta; empty for a new resource
    uint64_t previous_version = 0;
    Json json;
  };
  Json ProvenanceFor(const std::map<std::string, std::string>& targets) const;
  // The Provenance agents' references: the author (null if none) and the sending organisation
  // (the latter also for resources the source organisation issues, e.g. Flag.author).
  Json AuthorRef() const;
  // Creates the Organization and Practitioner resources that the changed resources (and the
  // Provenance agents) reference by HSA-id and do not exist yet.
  absl::Status CreateReferencedResources();
  std::string MetaSource() const;

  const ProjectionLookup& lookup_;
  const eventstore::RecordedEvent& recorded_;
  const care::v1::CareEvent& event_;
  std::map<std::pair<std::string, std::string>, Entry> touched_;
  std::map<std::string, std::string, std::less<>> state_;
};

}  // namespace carehub::fhir::internal

#endif  // CAREHUB_FHIR_INTERNAL_CONTEXT_H_
