#include "services/fhir/internal/capability.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "carehub/base/strings.h"
#include "carehub/fhir/search.h"
#include "nlohmann/json.hpp"
#include "services/fhir/internal/audit_event_search.h"

namespace carehub::services::fhir_api {
namespace {

using Json = nlohmann::ordered_json;

// The interactions of every served resource type. Writes are not part of this API: the log is
// written through the care service, never through FHIR.
constexpr Interaction kTypeInteractions[] = {
    Interaction::kRead, Interaction::kVread, Interaction::kHistoryInstance,
    Interaction::kHistoryType, Interaction::kSearchType,
};

// AuditEvent comes from the access log, which has no versions and no history.
constexpr Interaction kAuditEventInteractions[] = {Interaction::kRead, Interaction::kSearchType};

std::string Str(std::string_view s) { return std::string(s); }

Json SearchParams(const fhir::ResourceSearchDef& def) {
  Json params = Json::array();
  for (const fhir::SearchParamDef& p : def.params) {
    Json param = {{"name", Str(p.name)}, {"type", Str(fhir::SearchParamTypeName(p.type))}};
    if (!p.definition.empty()) param["definition"] = Str(p.definition);
    if (!p.documentation.empty()) param["documentation"] = Str(p.documentation);
    params.push_back(std::move(param));
  }
  return params;
}

Json AuditEventResource() {
  const fhir::ResourceSearchDef& def = AuditEventSearchDefinition();
  Json interactions = Json::array();
  for (Interaction i : kAuditEventInteractions) interactions.push_back({{"code", Str(InteractionCode(i))}});
  return {{"type", Str(def.type)},
          {"profile", "http://hl7.org/fhir/StructureDefinition/AuditEvent"},
          {"interaction", std::move(interactions)},
          {"versioning", "no-version"},
          {"readHistory", false},
          {"updateCreate", false},
          {"conditionalCreate", false},
          {"conditionalRead", "not-supported"},
          {"conditionalUpdate", false},
          {"conditionalDelete", "not-supported"},
          {"searchParam", SearchParams(def)},
          {"documentation",
           "The access log: one AuditEvent per FHIR read, vread, history, search and $everything, "
           "made durable before the response was sent. Newest first; result parameters: _count."}};
}

}  // namespace

std::string_view InteractionCode(Interaction interaction) {
  switch (interaction) {
    case Interaction::kRead: return "read";
    case Interaction::kVread: return "vread";
    case Interaction::kHistoryInstance: return "history-instance";
    case Interaction::kHistoryType: return "history-type";
    case Interaction::kSearchType: return "search-type";
    case Interaction::kCreate: return "create";
    case Interaction::kUpdate: return "update";
    case Interaction::kPatch: return "patch";
    case Interaction::kDelete: return "delete";
    case Interaction::kHistorySystem: return "history-system";
    case Interaction::kSearchSystem: return "search-system";
    case Interaction::kTransaction: return "transaction";
    case Interaction::kBatch: return "batch";
    case Interaction::kOperation: return "operation";
  }
  return "";
}

bool InteractionSupported(Interaction interaction) {
  for (Interaction i : kTypeInteractions) {
    if (i == interaction) return true;
  }
  return false;
}

bool AuditEventInteractionSupported(Interaction interaction) {
  for (Interaction i : kAuditEventInteractions) {
    if (i == interaction) return true;
  }
  return false;
}

bool OperationSupported(std::string_view type, std::string_view operation) {
  return type == "Patient" && operation == "$everything" &&
         fhir::FindSearchDefinition("Patient") != nullptr;
}

std::string CapabilityStatementJson(const CapabilityOptions& options) {
  Json resources = Json::array();
  bool audit_events = options.audit_events;
  for (const fhir::ResourceSearchDef& def : fhir::SearchDefinitions()) {
    if (audit_events && def.type > "AuditEvent") {  // kept in type order
      resources.push_back(AuditEventResource());
      audit_events = false;
    }
    Json r = {{"type", Str(def.type)},
              {"profile", absl::StrCat("http://hl7.org/fhir/StructureDefinition/", Sv(def.type))}};
    Json interactions = Json::array();
    for (Interaction i : kTypeInteractions) interactions.push_back({{"code", Str(InteractionCode(i))}});
    r["interaction"] = std::move(interactions);
    r["versioning"] = "versioned";
    r["readHistory"] = true;
    r["updateCreate"] = false;
    r["conditionalCreate"] = false;
    r["conditionalRead"] = "full-support";
    r["conditionalUpdate"] = false;
    r["conditionalDelete"] = "not-supported";
    if (!def.includes.empty()) {
      Json includes = Json::array();
      for (std::string_view i : def.includes) includes.push_back(Str(i));
      r["searchInclude"] = std::move(includes);
    }
    if (!def.revincludes.empty()) {
      Json revincludes = Json::array();
      for (std::string_view i : def.revincludes) revincludes.push_back(Str(i));
      r["searchRevInclude"] = std::move(revincludes);
    }
    r["searchParam"] = SearchParams(def);
    if (OperationSupported(def.type, "$everything")) {
      r["operation"] = Json::array(
          {{{"name", "everything"},
            {"definition", "http://hl7.org/fhir/OperationDefinition/Patient-everything"},
            {"documentation", "The patient and every resource in its compartment that the hub "
                              "projects: plan, team, encounters, tasks, goals, observations, "
                              "consents. Paged with _count."}}});
    }
    std::vector<std::string> sorts;
    for (std::string_view s : def.sorts) sorts.emplace_back(s);
    r["documentation"] = absl::StrCat(
        "Read-only. _sort accepts: ", sorts.empty() ? "nothing" : absl::StrJoin(sorts, ", "),
        " (prefix '-' for descending). Result parameters: _count, _include, _revinclude, "
        "_summary, _elements, _total.");
    resources.push_back(std::move(r));
  }
  if (audit_events) resources.push_back(AuditEventResource());
  Json statement = {
      {"resourceType", "CapabilityStatement"},
      {"id", "carehub"},
      {"url", absl::StrCat(options.base_url, "/metadata")},
      {"name", "CarehubFhirApi"},
      {"title", "carehub FHIR R4 API"},
      {"status", "active"},
      {"date", options.date},
      {"publisher", "carehub"},
      {"description",
       "The read side of carehub: FHIR R4 resources projected from the care-event log. "
       "Read-only; writes go through the care service."},
      {"kind", "instance"},
      {"software", {{"name", "carehub"}, {"version", options.software_version}}},
      {"implementation", {{"description", "carehub FHIR API"}, {"url", options.base_url}}},
      {"fhirVersion", "4.0.1"},
      {"format", Json::array({"json", "application/fhir+json"})},
      {"rest",
       Json::array({{{"mode", "server"},
                     {"documentation",
                      "Read, vread, history and search for every resource type listed "
                      "(AuditEvent, the access log: read and search only); "
                      "create, update, patch, delete, batch and transaction answer 405. "
                      "Lenient search by default (unknown parameters are ignored and reported); "
                      "Prefer: handling=strict makes them a 400."},
                     {"security",
                      {{"description",
                        "Reads name who asks in X-Carehub-Organization and X-Carehub-Care-Unit "
                        "(HSA-ids). Encounter, Observation and Flag belong to the data owner and "
                        "care unit named in the extensions "
                        "https://carehub.se/fhir/StructureDefinition/data-owner and "
                        "data-owner-unit; others see them only with the patient's active consent "
                        "and without a block, and a Provenance only with what it names (403 on "
                        "read, left out of Bundles with an outcome entry). Every read is recorded "
                        "in the access log (AuditEvent)."}}},
                     {"resource", std::move(resources)}}})},
  };
  return statement.dump();
}

}  // namespace carehub::services::fhir_api
