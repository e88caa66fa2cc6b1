// The evaluation behind fhir::Searcher, against one read-model view: parsed requests for search,
// history and $everything, and the functions that run them and return one page (links and
// cursors are the Searcher's). See fhir/search.cc for how a search runs.
//
// Thread-safety: pure functions of the view and the request.
#ifndef CAREHUB_FHIR_INTERNAL_SEARCH_ENGINE_H_
#define CAREHUB_FHIR_INTERNAL_SEARCH_ENGINE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "carehub/fhir/read_model.h"
#include "carehub/fhir/search.h"
#include "fhir/internal/search_paging.h"
#include "fhir/internal/search_query.h"

namespace carehub::fhir::internal {

struct SortKey {
  const CompiledParam* param = nullptr;  // nullptr: by id
  bool descending = false;
};

struct IncludeSpec {
  const CompiledParam* param = nullptr;  // a reference parameter of source_type
  std::string source_type;
  std::string target_type;  // empty: any
};

struct SearchRequest {
  std::string type;
  std::vector<Criterion> criteria;  // ANDed
  std::vector<SortKey> sort;
  std::vector<IncludeSpec> includes;
  std::vector<IncludeSpec> revincludes;
  bool summary_count = false;
  bool want_total = true;
  Paging paging;
  SearchParams applied;  // what the self link shows
  std::vector<std::string> ignored;
};

absl::StatusOr<SearchRequest> ParseSearchRequest(std::string_view type, const SearchParams& params,
                                                 const SearchOptions& options);
absl::StatusOr<SearchPage> RunSearch(const ReadModelView& view, const SearchRequest& request);

struct HistoryRequest {
  std::optional<DateRange> since;
  std::optional<DateRange> at;
  Paging paging;
  SearchParams applied;
  std::vector<std::string> ignored;
};

absl::StatusOr<HistoryRequest> ParseHistoryRequest(std::string_view type,
                                                   const SearchParams& params,
                                                   const SearchOptions& options);
// `*has_more` is set when a type history stopped before its end (its total is then unknown).
absl::StatusOr<SearchPage> RunHistory(const ReadModelView& view, std::string_view type,
                                      std::string_view id, const HistoryRequest& request,
                                      bool* has_more);

struct EverythingRequest {
  std::vector<std::string> types;  // _type; empty: every type of the compartment
  Paging paging;
  SearchParams applied;
  std::vector<std::string> ignored;
};

absl::StatusOr<EverythingRequest> ParseEverythingRequest(const SearchParams& params,
                                                         const SearchOptions& options);
absl::StatusOr<SearchPage> RunEverything(const ReadModelView& view, std::string_view patient_id,
                                         const EverythingRequest& request);

// The resource types of a patient's compartment carehub writes, with the parameter that links
// them to the patient, in the order $everything returns them.
const std::vector<std::pair<std::string_view, std::string_view>>& PatientCompartment();

}  // namespace carehub::fhir::internal

#endif  // CAREHUB_FHIR_INTERNAL_SEARCH_ENGINE_H_
