// What the API serves, as data: the interactions per resource type, and the CapabilityStatement
// generated from them and from fhir::SearchDefinitions() (the search parameters, includes and
// sorts the Searcher implements), plus AuditEvent from AuditEventSearchDefinition() when the
// access log is served. The router asks InteractionSupported() before serving, so the
// statement and the behaviour come from the same tables and cannot drift apart.
//
//   if (!InteractionSupported(Interaction::kVread)) -> 405
//   std::string json = CapabilityStatementJson({.base_url = "http://127.0.0.1:8080/fhir"});
//
// Thread-safety: stateless.
#ifndef CAREHUB_SERVICES_FHIR_INTERNAL_CAPABILITY_H_
#define CAREHUB_SERVICES_FHIR_INTERNAL_CAPABILITY_H_

#include <string>
#include <string_view>

namespace carehub::services::fhir_api {

// FHIR restful interactions (http://hl7.org/fhir/R4/valueset-type-restful-interaction.html).
enum class Interaction {
  kRead, kVread, kHistoryInstance, kHistoryType, kSearchType,
  kCreate, kUpdate, kPatch, kDelete, kHistorySystem, kSearchSystem, kTransaction, kBatch,
  kOperation,
};

std::string_view InteractionCode(Interaction interaction);
bool InteractionSupported(Interaction interaction);
// AuditEvent, served from the access log, has fewer: read and search-type.
bool AuditEventInteractionSupported(Interaction interaction);
// Operations served: Patient/$everything only.
bool OperationSupported(std::string_view type, std::string_view operation);

struct CapabilityOptions {
  std::string base_url;
  std::string software_version;
  std::string date;  // FHIR dateTime of the statement: when the server started
  bool audit_events = false;  // AuditEvent (the access log) is served
};

std::string CapabilityStatementJson(const CapabilityOptions& options);

}  // namespace carehub::services::fhir_api

#endif  // CAREHUB_SERVICES_FHIR_INTERNAL_CAPABILITY_H_
