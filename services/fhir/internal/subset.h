// Re-serialisation of a stored resource for the requests that need it: _summary (true, text,
// data), _elements and _pretty. A subsetted resource carries the SUBSETTED meta tag
// (http://hl7.org/fhir/R4/search.html#summary) and always keeps its mandatory elements, so it
// still validates.
//
//   ASSIGN_OR_RETURN(SubsetSpec spec, ParseSubset(summary_param, elements_param));
//   if (spec.Needed(pretty)) json = RenderResource(json, spec, pretty);
//
// Errors: ParseSubset returns InvalidArgument for an unknown _summary value.
// Thread-safety: stateless.
#ifndef CAREHUB_SERVICES_FHIR_INTERNAL_SUBSET_H_
#define CAREHUB_SERVICES_FHIR_INTERNAL_SUBSET_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace carehub::services::fhir_api {

enum class SummaryMode { kFalse, kTrue, kText, kData, kCount };

struct SubsetSpec {
  SummaryMode summary = SummaryMode::kFalse;
  std::vector<std::string> elements;  // _elements, empty when absent
  bool subsetting() const {
    return summary == SummaryMode::kTrue || summary == SummaryMode::kText ||
           summary == SummaryMode::kData || !elements.empty();
  }
};

// From the values of _summary and _elements (nullopt when absent). _elements is ignored when
// _summary is given, as the spec leaves their combination undefined.
absl::StatusOr<SubsetSpec> ParseSubset(const std::optional<std::string>& summary,
                                       const std::optional<std::string>& elements);

// The resource with `spec` applied and, if `pretty`, indented. A resource that is not JSON is
// returned unchanged (the read model never holds one).
std::string RenderResource(std::string_view json, const SubsetSpec& spec, bool pretty);

// Indents any JSON document (for _pretty on Bundles and OperationOutcomes).
std::string Prettify(std::string_view json);

}  // namespace carehub::services::fhir_api

#endif  // CAREHUB_SERVICES_FHIR_INTERNAL_SUBSET_H_
