#include "fhir/testing/care_events.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "nlohmann/json.hpp"

namespace carehub::fhir::testing {

using care::v1::CareEvent;

absl::StatusOr<std::unique_ptr<ScenarioLog>> ScenarioLog::Open(const std::string& dir) {
  std::unique_ptr<ScenarioLog> log(new ScenarioLog());
  ASSIGN_OR_RETURN(log->store_, eventstore::EventStore::Open({.path = dir, .clock = &log->clock_}));
  return log;
}

absl::StatusOr<eventstore::RecordedEvent> ScenarioLog::Append(const CareEvent& event) {
  clock_.Advance(absl::Seconds(1));
  eventstore::ProposedEvent proposed{
      .event_id = event.event_id(), .type = EventType(event), .data = event.SerializeAsString()};
  ASSIGN_OR_RETURN(eventstore::AppendResult r,
                   store_->Append(absl::StrCat("patient-", event.patient_id()),
                                  eventstore::ExpectedVersion::Any(), {proposed}));
  ASSIGN_OR_RETURN(eventstore::ReadAllResult read,
                   store_->ReadAll({.from_position = r.first_position, .limit = 1}));
  if (read.events.empty()) return absl::InternalError("appended event not readable");
  return read.events.front();
}

absl::Status ScenarioLog::AppendAll(const std::vector<CareEvent>& events) {
  for (const CareEvent& e : events) RETURN_IF_ERROR(Append(e).status());
  return absl::OkStatus();
}

absl::Status ScenarioLog::AppendBatch(const std::vector<CareEvent>& events) {
  if (events.empty()) return absl::OkStatus();
  clock_.Advance(absl::Seconds(1));
  std::vector<eventstore::ProposedEvent> batch;
  for (const CareEvent& e : events) {
    batch.push_back(
        {.event_id = e.event_id(), .type = EventType(e), .data = e.SerializeAsString()});
  }
  return store_
      ->Append(absl::StrCat("patient-", events.front().patient_id()),
               eventstore::ExpectedVersion::Any(), std::move(batch))
      .status();
}

absl::StatusOr<eventstore::RecordedEvent> ScenarioLog::AppendForeign(std::string_view stream_id,
                                                                     std::string_view type) {
  clock_.Advance(absl::Seconds(1));
  eventstore::ProposedEvent proposed{.event_id = absl::StrCat("foreign-", foreign_++),
                                     .type = std::string(type),
                                     .data = "opaque"};
  ASSIGN_OR_RETURN(eventstore::AppendResult r,
                   store_->Append(stream_id, eventstore::ExpectedVersion::Any(), {proposed}));
  ASSIGN_OR_RETURN(eventstore::ReadAllResult read,
                   store_->ReadAll({.from_position = r.first_position, .limit = 1}));
  return read.events.front();
}

void DumpOutput(const ProjectionOutput& output) {
  const char* dir = std::getenv("CAREHUB_FHIR_DUMP_DIR");
  if (dir == nullptr || *dir == '\0') return;
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  for (const ResourceVersion& v : output.resources) {
    std::ofstream out(std::filesystem::path(dir) /
                      absl::StrCat(v.type, "-", v.id, "-v", v.version, ".json"));
    out << v.json << "\n";
  }
}

absl::StatusOr<ProjectionOutput> ProjectInto(ReadModel& model,
                                             const eventstore::RecordedEvent& event) {
  ASSIGN_OR_RETURN(ProjectionOutput out, Project(model, event));
  RETURN_IF_ERROR(model.Apply(out, event.position + 1));
  DumpOutput(out);
  return out;
}

absl::Status ProjectLog(eventstore::EventStore& store, ReadModel& model, uint64_t end) {
  for (;;) {
    ASSIGN_OR_RETURN(uint64_t next, model.Checkpoint());
    if (next >= end) return absl::OkStatus();
    ASSIGN_OR_RETURN(eventstore::ReadAllResult read,
                     store.ReadAll({.from_position = next, .limit = 1000}));
    if (read.events.empty()) return absl::OkStatus();
    for (const eventstore::RecordedEvent& e : read.events) {
      if (e.position >= end) return absl::OkStatus();
      RETURN_IF_ERROR(ProjectInto(model, e).status());
    }
  }
}

absl::StatusOr<size_t> CheckVersionsAndProvenance(ReadModel& model) {
  ASSIGN_OR_RETURN(auto all, AllVersions(model));
  std::map<std::string, int> targets;
  std::set<std::string> versions;
  for (const auto& [key, json] : all) {
    nlohmann::json r = nlohmann::json::parse(json, nullptr, false);
    if (r.is_discarded()) return absl::DataLossError(absl::StrCat(key, " does not parse"));
    const std::string type = r.value("resourceType", "");
    const std::string id = r.value("id", "");
    const std::string version = r["meta"].value("versionId", "");
    if (key != absl::StrCat(type, "/", id, "/", version)) {
      return absl::InternalError(absl::StrCat(key, " holds version ", version));
    }
    if (type == "Provenance") {
      for (const nlohmann::json& t : r["target"]) ++targets[t.value("reference", "")];
    } else {
      versions.insert(absl::StrCat(type, "/", id, "/_history/", version));
    }
    ASSIGN_OR_RETURN(std::string current, model.Read(type, id));
    ASSIGN_OR_RETURN(std::vector<std::string> history, model.History(type, id));
    if (current != history.front())
      return absl::InternalError(absl::StrCat(key, ": stale current"));
  }
  for (const auto& [target, count] : targets) {
    if (count != 1)
      return absl::InternalError(absl::StrCat(target, " has ", count, " Provenances"));
    if (!versions.count(target)) return absl::InternalError(absl::StrCat(target, " not stored"));
  }
  if (targets.size() != versions.size()) {
    return absl::InternalError(
        absl::StrCat(versions.size() - targets.size(), " versions without Provenance"));
  }
  return all.size();
}

const std::vector<std::string>& ResourceTypes() {
  static const auto* const kTypes =
      new std::vector<std::string>{"Appointment",  "CarePlan",     "CareTeam",     "Communication",
                                   "Consent",      "Encounter",    "Flag",         "Goal",
                                   "Observation",  "Organization", "Patient",      "Practitioner",
                                   "PractitionerRole", "Provenance", "Task"};
  return *kTypes;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> AllVersions(ReadModel& model) {
  std::vector<std::pair<std::string, std::string>> all;
  for (const std::string& type : ResourceTypes()) {
    ASSIGN_OR_RETURN(std::vector<std::string> current, model.ListByType(type));
    for (const std::string& json : current) {
      nlohmann::json parsed = nlohmann::json::parse(json, nullptr, false);
      if (parsed.is_discarded()) return absl::DataLossError("stored resource does not parse");
      const std::string id = parsed.value("id", "");
      ASSIGN_OR_RETURN(std::vector<std::string> history, model.History(type, id));
      const size_t n = history.size();
      for (size_t i = 0; i < n; ++i) {
        all.emplace_back(absl::StrCat(type, "/", id, "/", n - i), history[i]);
      }
    }
  }
  return all;
}

}  // namespace carehub::fhir::testing
