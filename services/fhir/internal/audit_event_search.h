// AuditEvent search over the access log: the parameters the API accepts, as a table (the
// CapabilityStatement lists exactly these), and the translation of a request's parameters into
// an audit::AccessQuery.
//
//   ASSIGN_OR_RETURN(AuditEventSearch search,
//                    ParseAuditEventSearch(params, {.strict = false, .default_count = 50}));
//   ASSIGN_OR_RETURN(audit::AccessPage page, access_log->Find(search.query));
//
// Parameters:
//   patient  a FHIR Patient id, or Patient/<id>
//   agent    an HSA-id of the user, the care unit or the organisation, optionally with its system
//            (urn:oid:1.2.752.29.4.19|<HSA-id>); "anonymous" for requests without agent headers
//   date     AuditEvent.recorded, with the prefixes eq (default), ge, gt, le, lt; repeatable, all
//            must hold. A value of lower precision (2026, 2026-03, 2026-03-01, no seconds) is
//            the interval it spans; date-only values are UTC days.
//   _count   page size (at most max_count); _cursor the paging token of the next link
// Newest first. Unknown parameters are ignored and reported (or InvalidArgument when strict).
//
// Thread-safety: stateless.
#ifndef CAREHUB_SERVICES_FHIR_INTERNAL_AUDIT_EVENT_SEARCH_H_
#define CAREHUB_SERVICES_FHIR_INTERNAL_AUDIT_EVENT_SEARCH_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "carehub/audit/access_log.h"
#include "carehub/fhir/search.h"

namespace carehub::services::fhir_api {

// The AuditEvent row of the CapabilityStatement: type, parameters, no includes or sorts.
const fhir::ResourceSearchDef& AuditEventSearchDefinition();

struct AuditEventSearch {
  audit::AccessQuery query;
  // URL-encoded parameters applied, without _cursor: the self link, and the base of the next.
  std::string self_params;
  std::vector<std::string> ignored;  // "name: reason" per ignored parameter
};

// InvalidArgument for a malformed value, or (strict) an unknown parameter.
absl::StatusOr<AuditEventSearch> ParseAuditEventSearch(const fhir::SearchParams& params,
                                                       const fhir::SearchOptions& options);

}  // namespace carehub::services::fhir_api

#endif  // CAREHUB_SERVICES_FHIR_INTERNAL_AUDIT_EVENT_SEARCH_H_
