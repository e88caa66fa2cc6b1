// Reading and writing FHIR JSON as text, without a DOM: the facts the API needs from a stored
// resource (type, id, versionId, lastUpdated) found by walking its top-level members. (JSON
// string quoting for the envelopes the API writes around stored bytes is carehub/base/text.h.)
// The read path stays at one RocksDB Get and one scan of the resource.
//
//   ResourceFacts facts;
//   if (!ScanResource(json, &facts)) ...;  // not a JSON object
//
// Thread-safety: stateless.
#ifndef CAREHUB_SERVICES_FHIR_INTERNAL_JSON_TEXT_H_
#define CAREHUB_SERVICES_FHIR_INTERNAL_JSON_TEXT_H_

#include <string>
#include <string_view>

namespace carehub::services::fhir_api {

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

}  // namespace carehub::services::fhir_api

#endif  // CAREHUB_SERVICES_FHIR_INTERNAL_JSON_TEXT_H_
