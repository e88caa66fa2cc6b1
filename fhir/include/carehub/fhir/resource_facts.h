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

// The extension by which the projection names whose record a resource belongs to: the data
// owner (the care provider or the municipality's HSL or SoL unit) of the event that created it,
// as a reference to its Organization with the HSA-id. Resources that hold one owner's care
// (Encounter, Observation, Flag) carry it; the shared plan, team, workflow tasks and the
// patient's consents do not.
inline constexpr char kDataOwnerExtension[] =
    "https://carehub.se/fhir/StructureDefinition/data-owner";

// The data owner's HSA-id a stored resource names in that extension (raw, still JSON-escaped);
// empty when it has none. A text scan: a quote inside a JSON string is escaped, so the
// extension's opening can only be the extension itself.
std::string_view DataOwnerOf(std::string_view json);

}  // namespace carehub::fhir

#endif  // CAREHUB_FHIR_RESOURCE_FACTS_H_
