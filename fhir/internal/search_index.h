// The search index: which entries of the read model's "search" column family a resource version
// has, and how to build the keys to look them up. read_model.cc writes and deletes these entries
// in the WriteBatch of the version they belong to and documents the key grammar; the searcher
// reads them through ReadModelView::ScanIndex.
//
//   for (const std::string& key : SearchIndexKeys("CarePlan", id, plan)) batch.Put(search, key, "");
//   view.ScanIndex(IndexPrefix("CarePlan", "patient", ReferenceEntry("Patient/abc")), ...);
//
// What is indexed: every token, reference and string parameter of the table (not _id, which is the
// resource key itself, and not dates, which are matched on the candidates' JSON). An index lookup
// yields candidates; the matcher still checks each candidate's JSON, so an index entry can be a
// superset (a truncated string) but never miss a match.
//
// Thread-safety: pure functions; the compiled table is built once, thread-safely.
#ifndef CAREHUB_FHIR_INTERNAL_SEARCH_INDEX_H_
#define CAREHUB_FHIR_INTERNAL_SEARCH_INDEX_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "carehub/fhir/search.h"
#include "fhir/internal/search_path.h"
#include "nlohmann/json.hpp"

namespace carehub::fhir::internal {

struct CompiledParam {
  std::string_view resource_type;
  const SearchParamDef* def = nullptr;
  SearchPath path;
};

// Every parameter of `type` with its compiled expression; empty for an unknown type.
const std::vector<CompiledParam>& CompiledParams(std::string_view type);
// nullptr if `type` has no parameter `name`.
const CompiledParam* FindCompiledParam(std::string_view type, std::string_view name);

// Longest string-index entry, in bytes: longer strings are indexed by their first bytes.
inline constexpr size_t kMaxIndexedString = 64;

// Index entries (the part of a key that holds the value).
// A token is one entry, code first, so that a search by code alone (any system) is a prefix scan
// and one with a system an exact one. The separator 0x01 cannot occur in a FHIR code (strings
// exclude control characters); a code holding one (or a NUL) is not indexed, and a search for
// it reads the type's resources.
inline constexpr char kTokenSeparator = '\x01';
inline bool IndexableCode(std::string_view code) {
  return code.find(kTokenSeparator) == std::string_view::npos &&
         code.find('\0') == std::string_view::npos;
}
std::string TokenEntry(std::string_view system, std::string_view code);  // "t:" code 0x01 system
std::string TokenCodePrefix(std::string_view code);                      // "t:" code 0x01
// A reference by its literal "Type/id". A search by bare id looks up each type it may name.
std::string ReferenceEntry(std::string_view type_and_id);                // "r:" Type/id
std::string StringEntry(std::string_view normalized);                     // "n:" prefix

// "x" type "/" param "\0" entry: the keys of one value start with it followed by "\0" id. A
// string entry is scanned without the terminator (starts-with).
std::string IndexPrefix(std::string_view type, std::string_view param, std::string_view entry);
// The resource id at the end of an index key.
std::string_view IndexKeyId(std::string_view key);

// Every index key of one resource version, parsed (nlohmann::json) or as the projection built it
// (nlohmann::ordered_json): the same keys for the same resource.
template <typename JsonT>
std::vector<std::string> SearchIndexKeys(std::string_view type, std::string_view id,
                                         const JsonT& resource);

// Type history: "h" type "/" position (8 bytes big-endian) "/" id, value := version (8 bytes
// big-endian) lastUpdated.
std::string TypeHistoryPrefix(std::string_view type);
std::string TypeHistoryKey(std::string_view type, uint64_t position, std::string_view id);
std::string TypeHistoryValue(uint64_t version, std::string_view last_updated);

std::string BigEndian64(uint64_t v);
uint64_t FromBigEndian64(std::string_view s);

}  // namespace carehub::fhir::internal

#endif  // CAREHUB_FHIR_INTERNAL_SEARCH_INDEX_H_
