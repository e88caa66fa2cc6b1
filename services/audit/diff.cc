// DiffPlanAndTeam (see audit.h): compares the current versions of each resource in two replays
// and describes the changes to care plans, care teams and goals in words; other resources are
// named with their version change. The one place in the audit library that reads FHIR JSON.
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/audit/audit.h"
#include "nlohmann/json.hpp"

namespace carehub::audit {
namespace {

using Json = nlohmann::json;
using Key = std::pair<std::string, std::string>;

// A string member at `path` ("a.b.c"), or "" if absent.
std::string Str(const Json& json, std::initializer_list<const char*> path) {
  const Json* at = &json;
  for (const char* member : path) {
    if (!at->is_object() || !at->contains(member)) return "";
    at = &(*at)[member];
  }
  return at->is_string() ? at->get<std::string>() : "";
}

void Changed(std::vector<std::string>& out, const std::string& what, const std::string& field,
             const std::string& before, const std::string& after) {
  if (before == after) return;
  out.push_back(absl::StrCat(what, ": ", field, " ", before.empty() ? "(none)" : before, " -> ",
                             after.empty() ? "(none)" : after));
}

// The elements of an array member that carry an "id", by id.
std::map<std::string, Json> ById(const Json& resource, const char* member) {
  std::map<std::string, Json> out;
  if (!resource.is_object() || !resource.contains(member) || !resource[member].is_array()) return out;
  for (const Json& element : resource[member]) {
    if (element.is_object() && element.contains("id") && element["id"].is_string()) {
      out[element["id"].get<std::string>()] = element;
    }
  }
  return out;
}

std::string ActivityName(const Json& activity) {
  std::string name = Str(activity, {"detail", "code", "text"});
  if (name.empty()) name = Str(activity, {"detail", "description"});
  if (name.empty() && activity.contains("detail") && activity["detail"].contains("code") &&
      activity["detail"]["code"].contains("coding") &&
      !activity["detail"]["code"]["coding"].empty()) {
    name = activity["detail"]["code"]["coding"][0].value("display", "");
  }
  return absl::StrCat("activity \"", name.empty() ? Str(activity, {"id"}) : name, "\"");
}

std::string ParticipantName(const Json& participant) {
  std::string name = Str(participant, {"member", "display"});
  if (name.empty()) name = Str(participant, {"member", "reference"});
  std::string role;
  if (participant.contains("role") && participant["role"].is_array() &&
      !participant["role"].empty()) {
    role = Str(participant["role"][0], {"text"});
    if (role.empty() && participant["role"][0].contains("coding") &&
        !participant["role"][0]["coding"].empty()) {
      role = participant["role"][0]["coding"][0].value("display", "");
    }
  }
  return absl::StrCat("participant \"", name, "\"", role.empty() ? "" : absl::StrCat(" (", role, ")"));
}

void DiffCarePlan(const std::string& what, const Json& a, const Json& b,
                  std::vector<std::string>& out) {
  Changed(out, what, "status", Str(a, {"status"}), Str(b, {"status"}));
  Changed(out, what, "title", Str(a, {"title"}), Str(b, {"title"}));
  Changed(out, what, "period end", Str(a, {"period", "end"}), Str(b, {"period", "end"}));
  const std::map<std::string, Json> before = ById(a, "activity");
  for (const auto& [id, activity] : ById(b, "activity")) {
    auto it = before.find(id);
    const std::string status = Str(activity, {"detail", "status"});
    if (it == before.end()) {
      out.push_back(absl::StrCat(what, ": ", ActivityName(activity), " added (", status, ")"));
      continue;
    }
    Changed(out, absl::StrCat(what, ": ", ActivityName(activity)), "status",
            Str(it->second, {"detail", "status"}), status);
  }
}

void DiffCareTeam(const std::string& what, const Json& a, const Json& b,
                  std::vector<std::string>& out) {
  Changed(out, what, "status", Str(a, {"status"}), Str(b, {"status"}));
  const std::map<std::string, Json> before = ById(a, "participant");
  const std::map<std::string, Json> after = ById(b, "participant");
  for (const auto& [id, participant] : after) {
    auto it = before.find(id);
    const std::string end = Str(participant, {"period", "end"});
    if (it == before.end()) {
      out.push_back(absl::StrCat(what, ": ", ParticipantName(participant),
                                 end.empty() ? " added" : " added and removed"));
    } else if (Str(it->second, {"period", "end"}).empty() && !end.empty()) {
      out.push_back(absl::StrCat(what, ": ", ParticipantName(participant), " removed"));
    }
  }
  for (const auto& [id, participant] : before) {
    if (after.count(id) == 0) {
      out.push_back(absl::StrCat(what, ": ", ParticipantName(participant), " removed"));
    }
  }
}

void DiffGoal(const std::string& what, const Json& a, const Json& b,
              std::vector<std::string>& out) {
  Changed(out, what, "lifecycle status", Str(a, {"lifecycleStatus"}), Str(b, {"lifecycleStatus"}));
  const auto achievement = [](const Json& goal) {
    std::string text = Str(goal, {"achievementStatus", "text"});
    if (text.empty() && goal.contains("achievementStatus") &&
        goal["achievementStatus"].contains("coding") &&
        !goal["achievementStatus"]["coding"].empty()) {
      text = goal["achievementStatus"]["coding"][0].value("code", "");
    }
    return text;
  };
  Changed(out, what, "achievement", achievement(a), achievement(b));
}

std::string Describe(const std::string& type, const std::string& id, const Json& resource) {
  std::string name;
  if (type == "CarePlan") name = Str(resource, {"title"});
  if (type == "CareTeam") name = Str(resource, {"name"});
  if (type == "Goal") name = Str(resource, {"description", "text"});
  return name.empty() ? absl::StrCat(type, "/", id) : absl::StrCat(type, " \"", name, "\"");
}

}  // namespace

absl::StatusOr<std::vector<std::string>> DiffPlanAndTeam(const PatientReplay& before,
                                                         const PatientReplay& after) {
  std::map<Key, fhir::ResourceVersion> old_versions;
  for (fhir::ResourceVersion& r : PatientResources(before)) {
    old_versions[{r.type, r.id}] = std::move(r);
  }
  std::vector<std::string> out;
  for (const fhir::ResourceVersion& r : PatientResources(after)) {
    auto it = old_versions.find({r.type, r.id});
    if (it != old_versions.end() && it->second.version == r.version) continue;
    const Json b = Json::parse(r.json, nullptr, /*allow_exceptions=*/false);
    const Json a = it == old_versions.end()
                       ? Json::object()
                       : Json::parse(it->second.json, nullptr, /*allow_exceptions=*/false);
    if (b.is_discarded() || a.is_discarded()) {
      return absl::DataLossError(absl::StrCat(r.type, "/", r.id, " is not JSON"));
    }
    const std::string what = Describe(r.type, r.id, b);
    const bool is_new = it == old_versions.end();
    if (r.type == "CarePlan" || r.type == "CareTeam" || r.type == "Goal") {
      if (is_new) {
        out.push_back(absl::StrCat(what, ": created (status ",
                                   Str(b, {r.type == "Goal" ? "lifecycleStatus" : "status"}), ")"));
      }
      if (r.type == "CarePlan") DiffCarePlan(what, a, b, out);
      if (r.type == "CareTeam") DiffCareTeam(what, a, b, out);
      if (r.type == "Goal" && !is_new) DiffGoal(what, a, b, out);
      continue;
    }
    out.push_back(is_new ? absl::StrCat(what, ": created")
                         : absl::StrCat(what, ": changed (version ", it->second.version, " -> ",
                                        r.version, ")"));
  }
  return out;
}

}  // namespace carehub::audit
