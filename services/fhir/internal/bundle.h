// Bundles around stored resources: searchset (search, $everything) and history. The resources'
// bytes go into the Bundle as stored (or subsetted, for _summary/_elements); only the envelope is
// written here, so a page of 50 resources costs no JSON parse unless subsetting asks for one.
//
//   std::string body = RenderSearchBundle(page, {.base_url = base, .path = "CarePlan"}, spec);
//
// Links: self/first/previous/next are `<base_url>/<path>?<SearchPage's *_params>`.
// Thread-safety: stateless.
#ifndef CAREHUB_SERVICES_FHIR_INTERNAL_BUNDLE_H_
#define CAREHUB_SERVICES_FHIR_INTERNAL_BUNDLE_H_

#include <string>
#include <string_view>
#include <vector>

#include "carehub/fhir/search.h"
#include "services/fhir/internal/outcome.h"
#include "services/fhir/internal/subset.h"

namespace carehub::services::fhir_api {

struct BundleContext {
  std::string_view base_url;  // "http://host:port/fhir"
  std::string_view path;      // "CarePlan", "Patient/<id>/$everything", "CarePlan/<id>/_history"
  // For a searchset's outcome entry, besides the ignored parameters (e.g. withheld resources).
  std::vector<Issue> issues;
};

// type "searchset": matches with search.mode "match", includes with "include", and, when the
// page ignored parameters or the context has issues, an OperationOutcome entry with mode
// "outcome" that lists them.
std::string RenderSearchBundle(const fhir::SearchPage& page, const BundleContext& context,
                               const SubsetSpec& spec);

// type "history": each version with request (POST for version 1, PUT after) and response
// (status, etag, lastModified), as the spec's history Bundle requires.
std::string RenderHistoryBundle(const fhir::SearchPage& page, const BundleContext& context,
                                const SubsetSpec& spec);

}  // namespace carehub::services::fhir_api

#endif  // CAREHUB_SERVICES_FHIR_INTERNAL_BUNDLE_H_
