// The values a search parameter's expression selects, in the forms search compares: tokens,
// references, date ranges and normalised strings; and the parsing of search values into the same
// forms. Shared by the index (read_model.cc writes what SearchIndexKeys returns) and the matcher,
// so that an index lookup and a match of the stored JSON can never disagree.
//
// Dates are half-open ranges [low, high) in microseconds since the Unix epoch, from the value's
// own precision (http://hl7.org/fhir/R4/search.html#date): "2026" is the whole year, "2026-03-01"
// the whole day, "2026-03-01T02:10:00.000Z" one millisecond. A date or dateTime without a time
// zone is taken as UTC (the projection writes UTC throughout). A Period's missing start or end is
// open (kMinTime / kMaxTime); a Timing covers its events and its repeat.boundsPeriod.
//
// Strings compare after NormalizeForSearch: lower case, with the accents that Unicode
// decomposition removes stripped (Å→a, ä→a, ö→o, é→e), which is the spec's "case- and
// accent-insensitive". Letters without a decomposition (æ, ø, ß) are only lower-cased.
//
// Thread-safety: pure functions.
#ifndef CAREHUB_FHIR_INTERNAL_SEARCH_VALUES_H_
#define CAREHUB_FHIR_INTERNAL_SEARCH_VALUES_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"

namespace carehub::fhir::internal {

inline constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();

struct DateRange {
  int64_t low = kMinTime;   // inclusive
  int64_t high = kMaxTime;  // exclusive
};

struct Token {
  std::optional<std::string> system;  // nullopt: a plain code (string, code, boolean)
  std::string code;
};

// A FHIR date, dateTime or instant (or a search value of that form, minutes allowed) as a range;
// nullopt if malformed.
std::optional<DateRange> ParseDateRange(std::string_view text);

// Values of the nodes an expression selected; JsonT as for SearchPath::Evaluate.
template <typename JsonT>
void AppendTokens(const JsonT& node, std::vector<Token>& out);
template <typename JsonT>
void AppendReferences(const JsonT& node, std::vector<std::string>& out);  // "Type/id"
template <typename JsonT>
void AppendDateRanges(const JsonT& node, std::vector<DateRange>& out);
// The string leaves (a HumanName's family, given, text, prefix, suffix; an Address's lines and
// parts; a CodeableConcept's text), as stored.
template <typename JsonT>
void AppendStrings(const JsonT& node, std::vector<std::string>& out);

std::string NormalizeForSearch(std::string_view text);

}  // namespace carehub::fhir::internal

#endif  // CAREHUB_FHIR_INTERNAL_SEARCH_VALUES_H_
