// SearchPath: the subset of FHIRPath that the R4 search parameters carehub serves are written in,
// compiled once and evaluated over parsed resources. The subset, with examples from the table:
//
//   expr  := alt (" | " alt)*
//   alt   := path | "(" path " as " type ")" ("." step)*   (Observation.value as CodeableConcept).text
//   path  := ResourceType ("." step)*                        CarePlan.activity.detail.code
//   step  := name | "where(resolve() is " Type ")"           CarePlan.subject.where(resolve() is Patient)
//          | "where(" name "='" value "')"                   Patient.telecom.where(system='email')
//
// A step over an array visits every element (FHIRPath's flattening). A choice element named
// without its type (Observation.effective) visits every typed variant present (effectiveDateTime,
// effectivePeriod, ...); "x as T" visits only xT. resolve() is T keeps references whose literal
// reference names type T: carehub resolves nothing across servers, and every reference the
// projection writes is literal.
//
//   ASSIGN_OR_RETURN(SearchPath path, SearchPath::Compile("Task.for.where(resolve() is Patient)"));
//   std::vector<const nlohmann::json*> nodes;
//   path.Evaluate(task_json, nodes);
//
// Errors: Compile returns InvalidArgument for an expression outside the subset.
// Thread-safety: a compiled SearchPath is immutable and safe to share.
#ifndef CAREHUB_FHIR_INTERNAL_SEARCH_PATH_H_
#define CAREHUB_FHIR_INTERNAL_SEARCH_PATH_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace carehub::fhir::internal {

class SearchPath {
 public:
  static absl::StatusOr<SearchPath> Compile(std::string_view expression);

  // Appends the nodes the expression selects in `resource` (pointers into it). For JsonT
  // nlohmann::json (a parsed stored resource) and nlohmann::ordered_json (one the projection has
  // just built, fhir/internal/fhir_json.h).
  template <typename JsonT>
  void Evaluate(const JsonT& resource, std::vector<const JsonT*>& out) const;

 private:
  struct Step {
    enum class Kind { kField, kChoice, kResolveIs, kFieldEquals } kind = Kind::kField;
    std::string name;   // field name; kResolveIs: the type
    std::string value;  // kFieldEquals: the value compared with
  };
  using Alternative = std::vector<Step>;

  static absl::StatusOr<Alternative> CompileAlternative(std::string_view alt);
  static std::vector<std::string> SplitSteps(std::string_view text);
  static absl::StatusOr<Step> CompileStep(const std::string& segment);

  std::vector<Alternative> alternatives_;
};

// "Type/id" of a literal reference: an absolute URL is cut to its last two segments and a
// version suffix ("/_history/3") is dropped, so that search, _include and _revinclude compare
// references in one form. Empty for a contained ("#x") or non-literal reference.
std::string NormalizeReference(std::string_view reference);

}  // namespace carehub::fhir::internal

#endif  // CAREHUB_FHIR_INTERNAL_SEARCH_PATH_H_
