// The facts a reader needs from a stored resource (type, id, versionId, lastUpdated), found by
// walking its top-level members as text, without a DOM: the API's read path stays at one RocksDB
// Get and one scan of the resource, and an instance history at one scan per version.
//
//   ResourceFacts facts;
//   if (!ScanResource(json, &facts)) ...;  // not a JSON object
//
// Thread-safety: stateless.
#ifndef CAREHUB_FHIR_RESOURCE_FACTS_H_
#define CAREHUB_FHIR_RESOURCE_FACTS_H_

#include <string_view>

namespace carehub::fhir {

struct ResourceFacts {
  // Raw (still JSON-escaped) contents of the string members; empty when absent. Our ids and
  // timestamps never need escaping.
  std::string_view resource_type;
  std::string_view id;
  std::string_view version_id;    // meta.versionId
  std::string_view last_updated;  // meta.lastUpdated
};

// Walks the top-level members until all four facts are found (the projector writes them first),
// so the rest of the resource is not read. False if what it walked is not a well-formed JSON
// object.
bool ScanResource(std::string_view json, ResourceFacts* facts);

// The extensions by which the projection names whose record a resource belongs to, fixed when
// the resource is created: the data owner (the care provider, or the municipality's HSL or SoL
// unit) of the event that created it, and the care unit that sent that event when it is not the
// owner itself; each a reference to the Organization, with its HSA-id. Resources that hold one
// owner's care carry them (HoldsOwnersCare); the shared plan, team, workflow tasks and the
// patient's consents do not.
inline constexpr char kDataOwnerExtension[] =
    "https://carehub.se/fhir/StructureDefinition/data-owner";
inline constexpr char kDataOwnerUnitExtension[] =
    "https://carehub.se/fhir/StructureDefinition/data-owner-unit";

// Encounter, Observation and Flag: the types that hold one data owner's care.
bool HoldsOwnersCare(std::string_view type);

// HSA-ids (raw, still JSON-escaped), viewing the resource's text; empty when it names none.
struct DataOwner {
  std::string_view organization;
  std::string_view unit;
};

// The data owner a stored resource names in those extensions. A text scan: a quote inside a JSON
// string is escaped, so an extension's opening can only be the extension itself.
DataOwner DataOwnerOf(std::string_view json);

}  // namespace carehub::fhir

#endif  // CAREHUB_FHIR_RESOURCE_FACTS_H_
