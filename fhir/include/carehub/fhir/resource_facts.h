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

}  // namespace carehub::fhir

#endif  // CAREHUB_FHIR_RESOURCE_FACTS_H_
