#include "carehub/audit/audit_event.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace carehub::audit {
namespace {

using Json = nlohmann::ordered_json;

Json Coding(const char* system, std::string_view code, std::string_view display) {
  return {{"system", system}, {"code", std::string(code)}, {"display", std::string(display)}};
}

Json HsaAgent(const std::string& hsa_id, std::string_view role, bool organization, bool requestor) {
  Json who = {{"identifier", {{"system", kHsaIdSystem}, {"value", hsa_id}}}};
  if (organization) who = {{"type", "Organization"}, {"identifier", who["identifier"]}};
  return {{"role", Json::array({{{"text", std::string(role)}}})}, {"who", std::move(who)}, {"requestor", requestor}};
}

}  // namespace

std::string AuditEventJson(const AccessEntry& entry) {
  const bool execute = entry.interaction == "search-type" || entry.interaction == "operation";
  Json subtypes = Json::array({Coding("http://hl7.org/fhir/restful-interaction", entry.interaction, entry.interaction)});
  if (entry.interaction == "operation" && !entry.operation.empty()) {
    // The operation by its canonical URL: restful-interaction only says "operation".
    subtypes.push_back({{"system", "urn:ietf:rfc:3986"},
                        {"code", absl::StrCat("http://hl7.org/fhir/OperationDefinition/", entry.resource_type, "-",
                                              entry.operation)}});
  }
  const char* outcome = entry.status >= 500 ? "8" : entry.status >= 400 ? "4" : "0";
  const std::string recorded = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", entry.recorded, absl::UTCTimeZone());

  Json agents = Json::array();
  const AccessAgent& a = entry.agent;
  if (a.anonymous()) {
    agents.push_back({{"role", Json::array({{{"text", "user"}}})},
                      {"who", {{"display", "anonymous"}}},
                      {"requestor", true}});
  } else {
    // Each part is recorded as sent; a missing one is left out rather than guessed.
    if (!a.user_hsa_id.empty()) agents.push_back(HsaAgent(a.user_hsa_id, "user", false, true));
    if (!a.care_unit_hsa_id.empty()) {
      agents.push_back(HsaAgent(a.care_unit_hsa_id, "care unit", true, a.user_hsa_id.empty()));
    }
    if (!a.organization_hsa_id.empty()) {
      agents.push_back(HsaAgent(a.organization_hsa_id, "organization", true,
                                a.user_hsa_id.empty() && a.care_unit_hsa_id.empty()));
    }
  }

  Json entities = Json::array();
  for (const std::string& patient : entry.patients) {
    entities.push_back(
        {{"what", {{"reference", absl::StrCat("Patient/", patient)}}},
         {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1", "Person")},
         {"role", Coding("http://terminology.hl7.org/CodeSystem/object-role", "1", "Patient")}});
  }
  for (const AccessedResource& r : entry.resources) {
    std::string reference = absl::StrCat(r.type, "/", r.id);
    if (r.version != 0) absl::StrAppend(&reference, "/_history/", r.version);
    entities.push_back(
        {{"what", {{"reference", std::move(reference)}}},
         {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object")}});
  }

  Json event = {
      {"resourceType", "AuditEvent"},
      {"id", absl::StrCat(entry.position)},
      {"meta", {{"versionId", "1"}, {"lastUpdated", recorded}}},
      {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "RESTful Operation")},
      {"subtype", std::move(subtypes)},
      {"action", execute ? "E" : "R"},
      {"recorded", recorded},
      {"outcome", outcome},
      {"outcomeDesc", absl::StrCat("HTTP ", entry.status)},
      {"agent", std::move(agents)},
      {"source",
       {{"observer", {{"display", "carehub"}}},
        {"type", Json::array({Coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4",
                                     "Application Server")})}}},
  };
  if (!entities.empty()) event["entity"] = std::move(entities);
  return event.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace carehub::audit
