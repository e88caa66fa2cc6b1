// FHIR R4 search over the read model: the table of supported search parameters, includes and
// sorts per resource type (the one source of truth for the REST API's routing and its
// CapabilityStatement), and the Searcher that evaluates searches, history and Patient/$everything
// against a pinned read-model snapshot, with paging cursors that stay consistent while the
// projector keeps writing.
//
//   fhir::Searcher searcher(read_model.get(), {});
//   ASSIGN_OR_RETURN(fhir::SearchPage page,
//                    searcher.Search("CarePlan", {{"patient", "abc"}, {"_count", "10"}}, {}));
//   // page.matches: JSON of this page's resources; page.next_params: query for the next page.
//
// Errors (the REST API maps them to HTTP statuses):
//   InvalidArgument     a malformed value, or (strict handling) an unknown parameter -> 400
//   NotFound            an unknown resource type, or $everything of an unknown patient -> 404
//   FailedPrecondition  a page cursor that expired or never existed -> 410 Gone
//   others              the read model failed -> 500
//
// Thread-safety: thread-safe.
#ifndef CAREHUB_FHIR_SEARCH_H_
#define CAREHUB_FHIR_SEARCH_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/fhir/read_model.h"

namespace carehub::fhir {

// FHIR search parameter types (http://hl7.org/fhir/R4/search.html#ptypes) that carehub serves.
enum class SearchParamType { kToken, kReference, kDate, kString, kUri, kNumber, kQuantity };

// "token", "reference", ... as written in a CapabilityStatement.
std::string_view SearchParamTypeName(SearchParamType type);

struct SearchParamDef {
  std::string_view name;        // e.g. "patient"
  SearchParamType type;
  std::string_view definition;  // canonical URL, e.g. http://hl7.org/fhir/SearchParameter/clinical-patient
  std::string_view expression;  // the spec's FHIRPath expression (what the implementation follows)
  std::string_view documentation;
  std::vector<std::string_view> targets;  // reference parameters: the target resource types
};

struct ResourceSearchDef {
  std::string_view type;                    // e.g. "CarePlan"
  std::vector<SearchParamDef> params;       // including the common _id and _lastUpdated
  std::vector<std::string_view> includes;   // e.g. "CarePlan:care-team"
  std::vector<std::string_view> revincludes;  // e.g. "Provenance:target"
  std::vector<std::string_view> sorts;      // parameters _sort accepts, e.g. "_lastUpdated", "date"
};

// Every resource type the API serves (every type the projection writes), sorted by type.
const std::vector<ResourceSearchDef>& SearchDefinitions();
// nullptr if the type is not served.
const ResourceSearchDef* FindSearchDefinition(std::string_view type);
// The parameter `name` (without modifier) of `def`; nullptr if it has none.
const SearchParamDef* FindSearchParam(const ResourceSearchDef& def, std::string_view name);

// Request parameters as decoded (name, value) pairs in request order, from the query string or a
// POST _search form body. Names keep their modifiers ("name:exact") and chains as sent.
using SearchParams = std::vector<std::pair<std::string, std::string>>;

struct SearchOptions {
  // Prefer: handling=strict: an unknown or unsupported parameter is an error instead of ignored.
  bool strict = false;
  size_t default_count = 50;
  size_t max_count = 1000;
};

// One page of a search, history or $everything result. The REST API renders it as a Bundle.
struct SearchPage {
  std::vector<std::string> matches;   // compact JSON of this page's resources (mode "match")
  std::vector<std::string> includes;  // _include/_revinclude resources of this page (mode "include")
  std::optional<uint64_t> total;      // number of matches over all pages, when known
  // URL-encoded query strings, without the leading '?': the parameters applied (ignored ones
  // left out, as the spec asks for the self link), and the other pages ("" when there is none).
  std::string self_params;
  std::string next_params;
  std::string previous_params;
  std::string first_params;
  // Lenient handling: one "parameter: reason" line per ignored parameter (for an
  // OperationOutcome the API may add to the Bundle).
  std::vector<std::string> ignored;
};

class Searcher {
 public:
  struct Options {
    // How long a page cursor (and the read-model snapshot it pins) stays valid after its last use.
    absl::Duration cursor_ttl = absl::Minutes(10);
    // Most cursors kept at once; the least recently used is dropped beyond it.
    size_t max_cursors = 1024;
    // Time for cursor expiry; not owned; nullptr means Clock::Real().
    const Clock* clock = nullptr;
  };

  // `model` is not owned and must outlive the searcher.
  Searcher(const ReadModel* model, Options options);
  ~Searcher();
  Searcher(const Searcher&) = delete;
  Searcher& operator=(const Searcher&) = delete;

  // type?params. Handles the result parameters _count, _sort, _include, _revinclude, _total,
  // _summary=count (no matches, only total) and the paging parameters the *_params links carry
  // (_cursor, an opaque token, and _offset). _summary=true/_elements/_format/_pretty are accepted
  // (not reported as unknown) and left for the renderer. Semantics of each parameter type:
  // fhir/internal/search_query.h. Default order: by id; a page cursor pins the first page's
  // read-model view, so later pages neither skip nor repeat a match while events arrive.
  // _include/_revinclude are not iterated (":iterate" is reported as unsupported).
  absl::StatusOr<SearchPage> Search(std::string_view type, const SearchParams& params,
                                    const SearchOptions& options);

  // History of one resource (id set) or of a whole type (id empty), newest first, honouring
  // _since, _at, _count and paging. Matches are the versions' JSON.
  absl::StatusOr<SearchPage> History(std::string_view type, std::string_view id,
                                     const SearchParams& params, const SearchOptions& options);

  // Patient/<id>/$everything: the patient and every resource in its compartment the projection
  // writes (plan, team, encounters, tasks, goals, observations, consents, appointments,
  // communications), paged, the patient first; _type narrows the types. Provenance and the
  // referenced Organization/Practitioner resources are not included (search with
  // _revinclude/_include for them).
  absl::StatusOr<SearchPage> Everything(std::string_view patient_id, const SearchParams& params,
                                        const SearchOptions& options);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace carehub::fhir

#endif  // CAREHUB_FHIR_SEARCH_H_
