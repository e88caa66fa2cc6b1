// ParsedResource: a stored resource version as the projection works on it, and the one function
// that makes it from the stored JSON. The projection compares each resource an event touches with
// its body before the event (BodyDump), so that an event that changes nothing writes no version;
// keeping the parse and that dump together lets the read model's batches hand both over without
// parsing the same text again for every event that touches it.
#ifndef CAREHUB_FHIR_INTERNAL_PARSED_RESOURCE_H_
#define CAREHUB_FHIR_INTERNAL_PARSED_RESOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "fhir/internal/fhir_json.h"

namespace carehub::fhir::internal {

// A resource version as the projection built it, or as ParseStoredResource read it: what
// ProjectionContext would get by parsing the stored JSON (same members, same order, same
// serialisation).
struct ParsedResource {
  Json json;  // the whole resource
  // Its serialisation without the per-version meta members (BodyDump). The projection leaves it
  // empty for a resource no event changes after the one that made it (a Provenance): the read
  // model's writer then caches that version's text only.
  std::string body_dump;
  uint64_t version = 0;  // meta.versionId
};

// meta.versionId, meta.lastUpdated and meta.source: what every version changes.
bool IsPerVersionMetaKey(std::string_view key);
// The resource's serialisation without the per-version meta members (and without meta if
// nothing else is left in it).
std::string BodyDump(const Json& resource);

// Parses a stored version of type/id. DataLoss if it is not a JSON object or has no numeric
// meta.versionId.
absl::StatusOr<std::shared_ptr<const ParsedResource>> ParseStoredResource(std::string_view type,
                                                                        std::string_view id,
                                                                        std::string_view stored);

}  // namespace carehub::fhir::internal

#endif  // CAREHUB_FHIR_INTERNAL_PARSED_RESOURCE_H_
