// Replay of one patient's stream with the server's projection, and the Bundle (see audit.h).
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/audit/audit.h"
#include "carehub/base/status_macros.h"
#include "carehub/fhir/projection.h"

namespace carehub::audit {
namespace {

// Shared across patients, or (Provenance) dependent on other patients' events: see audit.h.
bool InPatientReplay(const std::string& type) {
  static const std::set<std::string>* const kLeftOut =
      new std::set<std::string>{"Organization", "Practitioner", "PractitionerRole", "Provenance"};
  return kLeftOut->count(type) == 0;
}

}  // namespace

absl::StatusOr<PatientReplay> ReplayPatient(eventstore::EventStore& store,
                                            std::string_view patient_id,
                                            const std::optional<Moment>& moment,
                                            bool allow_empty) {
  ASSIGN_OR_RETURN(std::vector<eventstore::RecordedEvent> events,
                   ReadPatientStream(store, patient_id, moment));
  PatientReplay replay;
  replay.patient_id = std::string(patient_id);
  if (events.empty() && !allow_empty) {
    return absl::FailedPreconditionError(
        absl::StrCat("the patient's record had not begun at ", FormatMoment(*moment)));
  }
  for (const eventstore::RecordedEvent& event : events) {
    ASSIGN_OR_RETURN(fhir::ProjectionOutput output, fhir::Project(replay.state, event));
    replay.state.Apply(output);
    ++replay.events;
    replay.last_position = event.position;
    replay.last_recorded_at = event.recorded_at;
  }
  return replay;
}

std::vector<fhir::ResourceVersion> PatientResources(const PatientReplay& replay) {
  std::vector<fhir::ResourceVersion> resources;
  for (const auto& [key, versions] : replay.state.versions()) {
    if (versions.empty() || !InPatientReplay(key.first)) continue;
    resources.push_back({.type = key.first,
                         .id = key.second,
                         .version = versions.size(),
                         .json = versions.back()});
  }
  return resources;
}

std::string BundleJson(const PatientReplay& replay) {
  // No "total": FHIR allows it only in search and history bundles (bdl-1).
  std::string out = R"({"resourceType":"Bundle","type":"collection","entry":[)";
  const std::vector<fhir::ResourceVersion> resources = PatientResources(replay);
  for (size_t i = 0; i < resources.size(); ++i) {
    const fhir::ResourceVersion& r = resources[i];
    absl::StrAppend(&out, i == 0 ? "" : ",", R"({"fullUrl":"urn:carehub:)", r.type, "/", r.id,
                    R"(","resource":)", r.json, "}");
  }
  out += "]}";
  return out;
}

}  // namespace carehub::audit
