// One search criterion (a parameter with its modifier and comma-separated values) parsed from a
// request, its index lookup and its match against a resource, with the R4 semantics of
// http://hl7.org/fhir/R4/search.html:
//
//   token      [system]|[code], code, |code, system|; :not (no value matches, missing included)
//   reference  Type/id, id (any type), an absolute URL (cut to Type/id), :Type modifier
//   date       prefixes eq ne gt lt ge le sa eb ap, partial dates as ranges (search_values.h):
//                eq  the resource's range lies within the value's range
//                ne  not eq
//                gt  the resource's range reaches above the value's (high > value.high)
//                lt  the resource's range reaches below the value's (low < value.low)
//                ge  gt or eq;   le  lt or eq
//                sa  the resource's range starts at or after the value's end
//                eb  the resource's range ends at or before the value's start
//                ap  approximated as "the ranges overlap" (the spec leaves the margin open)
//   string     starts-with, :exact (case- and accent-sensitive equality), :contains; default
//              and :contains compare NormalizeForSearch forms
//   any        :missing=true|false
//
// Comma-separated values are ORed; repeated parameters (separate criteria) are ANDed by the
// caller. A resource has a value for a parameter if the expression selects a node of that type.
//
// Thread-safety: immutable once parsed.
#ifndef CAREHUB_FHIR_INTERNAL_SEARCH_QUERY_H_
#define CAREHUB_FHIR_INTERNAL_SEARCH_QUERY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "fhir/internal/search_index.h"
#include "fhir/internal/search_values.h"
#include "nlohmann/json.hpp"

namespace carehub::fhir::internal {

enum class DatePrefix { kEq, kNe, kGt, kLt, kGe, kLe, kSa, kEb, kAp };
enum class Modifier { kNone, kMissing, kExact, kContains, kNot, kType };

struct CriterionValue {
  // token: system is set when the value has a '|'.
  std::optional<std::string> system;
  std::string code;
  // reference: "Type/id", or a bare id.
  std::string reference;
  // date
  DatePrefix prefix = DatePrefix::kEq;
  DateRange range;
  // string: as sent, and normalised.
  std::string text;
  std::string normalized;
};

struct Criterion {
  const CompiledParam* param = nullptr;
  Modifier modifier = Modifier::kNone;
  bool missing = false;  // :missing's value
  std::vector<CriterionValue> values;
};

// Parses `name` (with modifier) = `value` for a parameter of `type`. Returns nullopt with
// `*unsupported` set for what carehub does not serve (unknown parameter or modifier, a chain):
// lenient handling ignores it. InvalidArgument for a malformed value of a known parameter.
absl::StatusOr<std::optional<Criterion>> ParseCriterion(std::string_view type,
                                                        std::string_view name,
                                                        std::string_view value,
                                                        std::string* unsupported);

// Whether `resource` satisfies the criterion.
bool Matches(const Criterion& criterion, const nlohmann::json& resource);

// The index prefixes whose keys' ids are the criterion's candidates (the union over them);
// false if the criterion cannot use the index. `*exact` tells whether the candidates are exactly
// the matches (no need to check the JSON).
bool IndexLookup(std::string_view type, const Criterion& criterion,
                 std::vector<std::string>* prefixes, bool* exact);

}  // namespace carehub::fhir::internal

#endif  // CAREHUB_FHIR_INTERNAL_SEARCH_QUERY_H_
