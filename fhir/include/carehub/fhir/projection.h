// The projection from care events to FHIR R4 (4.0.1) resources: a pure function of the event and
// of the resources (and projection state) it has written so far, read through a lookup.
//
//   ASSIGN_OR_RETURN(ProjectionOutput out, Project(read_model, recorded_event));
//   RETURN_IF_ERROR(read_model.Apply(out, recorded_event.position + 1));
//
// The projector runs it against the read model; the audit CLI replays the log "as of" a position
// with the same code against an InMemoryProjectionState. The projection does no I/O except through
// the lookup, reads no clock and no randomness, so the same events give byte-identical JSON.
//
// What a write looks like: every resource the event changes gets a new version (meta.versionId
// n+1, meta.lastUpdated = the event's recorded_at in UTC, meta.source = the source system and
// message), and the event yields one Provenance whose targets are exactly those versions. A
// resource the event does not actually change gets no version. Resources are never deleted.
//
// Resource ids: ResourceId(kind, internal id) = 32 lower-case hex digits of SHA-256 over
// "<kind>|<internal id>" (ResourceId below). Internal ids are the hub's own (patient UUID, plan,
// team, goal, activity ids, stay = patient + visit-number assigner + visit number), never a
// national identifier; hashing also keeps any adapter-chosen id out of URLs.
//
// Thread-safety: Project is thread-safe if the lookup is. InMemoryProjectionState is not.
#ifndef CAREHUB_FHIR_PROJECTION_H_
#define CAREHUB_FHIR_PROJECTION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "carehub/eventstore/types.h"

namespace carehub::fhir {

namespace internal {
struct ParsedResource;  // fhir/internal/parsed_resource.h
}  // namespace internal

// One new version of one resource.
struct ResourceVersion {
  std::string type;  // FHIR resource type, e.g. "CarePlan"
  std::string id;
  uint64_t version = 0;  // meta.versionId, 1 for a new resource
  std::string json;      // the whole resource, compact JSON
  // The same version as the projection built it, for a writer that keeps recent resources
  // parsed (the read model's); not part of the value: == compares the four members above.
  std::shared_ptr<const internal::ParsedResource> parsed;

  friend bool operator==(const ResourceVersion& a, const ResourceVersion& b) {
    return a.type == b.type && a.id == b.id && a.version == b.version && a.json == b.json;
  }
};

// Everything one event changes. Apply all of it atomically, or none.
struct ProjectionOutput {
  // Sorted by (type, id); the Provenance of the event, if any, is among them.
  std::vector<ResourceVersion> resources;
  // Projection state (indexes the projection keeps for itself, e.g. activity -> care plan),
  // sorted by key. Never a resource body; never a national identifier.
  std::vector<std::pair<std::string, std::string>> state;
  // Set when the event was not projected at all (not a care event, or a payload this version does
  // not know); the caller still advances its checkpoint past it.
  std::string skipped_reason;
};

// Reads what earlier events wrote. Implementations: fhir::ReadModel, InMemoryProjectionState.
class ProjectionLookup {
 public:
  virtual ~ProjectionLookup() = default;
  // The current version of a resource as JSON; nullopt if it does not exist.
  virtual absl::StatusOr<std::optional<std::string>> CurrentResource(std::string_view type,
                                                                     std::string_view id) const = 0;
  // A projection-state value; nullopt if never written.
  virtual absl::StatusOr<std::optional<std::string>> State(std::string_view key) const = 0;
  // The current version of a resource parsed; nullptr if it does not exist. By default
  // CurrentResource parsed anew; the read model's batches keep what they wrote or read recently
  // parsed. DataLoss if the stored JSON is not a resource with a version.
  virtual absl::StatusOr<std::shared_ptr<const internal::ParsedResource>> CurrentParsed(
      std::string_view type, std::string_view id) const;
};

// Projects one event of the log. Events that are not care events (type outside
// "carehub.care.v1."), are not in a patient's stream ("patient-<id>"), or whose payload this
// version does not know, give an empty output with skipped_reason set. Errors: DataLoss if the event's data or a stored resource does not parse;
// Internal on a lookup failure or a violated invariant.
absl::StatusOr<ProjectionOutput> Project(const ProjectionLookup& lookup,
                                         const eventstore::RecordedEvent& event);

// The resource id of an internal id of the given kind ("Patient", "CarePlan", "stay", ...).
std::string ResourceId(std::string_view kind, std::string_view internal_id);

// Resources and state in memory: for replays "as of" a position and for tests. Not thread-safe.
class InMemoryProjectionState : public ProjectionLookup {
 public:
  absl::StatusOr<std::optional<std::string>> CurrentResource(std::string_view type,
                                                             std::string_view id) const override;
  absl::StatusOr<std::optional<std::string>> State(std::string_view key) const override;

  // Records the output's versions (and history) and state.
  void Apply(const ProjectionOutput& output);

  // Every version ever applied, keyed by (type, id), oldest first.
  const std::map<std::pair<std::string, std::string>, std::vector<std::string>>& versions() const {
    return versions_;
  }

 private:
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> versions_;
  std::map<std::string, std::string, std::less<>> state_;
};

}  // namespace carehub::fhir

#endif  // CAREHUB_FHIR_PROJECTION_H_
