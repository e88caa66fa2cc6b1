// Paging shared by search, history and $everything: the paging parameters (_count, _cursor,
// _offset), the query strings of the self/next/previous/first links, and URL encoding.
//
// A link carries the applied parameters, the cursor token that pins the snapshot and the offset
// of the page: "patient=Patient%2Fabc&_count=10&_cursor=9f..&_offset=20".
//
// Thread-safety: pure functions.
#ifndef CAREHUB_FHIR_INTERNAL_SEARCH_PAGING_H_
#define CAREHUB_FHIR_INTERNAL_SEARCH_PAGING_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "carehub/fhir/search.h"

namespace carehub::fhir::internal {

struct Paging {
  size_t count = 0;
  std::string cursor;  // empty on a first page
  size_t offset = 0;
};

// Handles _count, _cursor and _offset (returns true if `name` is one of them). InvalidArgument
// for a malformed value. _count above options.max_count is lowered to it.
absl::StatusOr<bool> ParsePagingParam(std::string_view name, std::string_view value,
                                      const SearchOptions& options, Paging& paging);

// _format, _pretty and _elements: shape the response, not the result; the renderer applies them.
bool IsRenderingParam(std::string_view name);

// Records an unsupported parameter: an error under strict handling, else a "name: why" line in
// `ignored` (and the caller leaves it out of the self link).
absl::Status Unsupported(std::string_view name, std::string_view why,
                         const SearchOptions& options, std::vector<std::string>& ignored);

std::string UrlEncode(std::string_view s);
std::string EncodeParams(const SearchParams& params);

// Fills self/next/previous/first of `page` for a result of `total` items (or, when total is
// unknown, `has_more` tells if a next page exists). `cursor` is the token of the pinned view,
// empty if the result fits one page.
void SetLinks(const SearchParams& applied, const Paging& paging, const std::string& cursor,
              size_t total, bool has_more, SearchPage& page);

}  // namespace carehub::fhir::internal

#endif  // CAREHUB_FHIR_INTERNAL_SEARCH_PAGING_H_
