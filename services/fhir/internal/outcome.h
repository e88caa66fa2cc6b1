// OperationOutcome bodies: every error the FHIR API answers carries one, with the issue code
// (http://hl7.org/fhir/R4/valueset-issue-type.html) that matches its HTTP status.
//
//   response->body = OperationOutcomeJson("error", "not-found", "CarePlan/abc is not known");
//
// Thread-safety: stateless.
#ifndef CAREHUB_SERVICES_FHIR_INTERNAL_OUTCOME_H_
#define CAREHUB_SERVICES_FHIR_INTERNAL_OUTCOME_H_

#include <string>
#include <string_view>
#include <vector>

namespace carehub::services::fhir_api {

struct Issue {
  std::string_view severity;  // fatal | error | warning | information
  std::string_view code;      // invalid | not-found | not-supported | too-long | ...
  std::string diagnostics;
};

std::string OperationOutcomeJson(const std::vector<Issue>& issues);
std::string OperationOutcomeJson(std::string_view severity, std::string_view code,
                                 std::string_view diagnostics);

// The issue code for an HTTP error status: 400 invalid, 404 not-found, 405 not-supported, ...
std::string_view IssueCodeForStatus(int status);

}  // namespace carehub::services::fhir_api

#endif  // CAREHUB_SERVICES_FHIR_INTERNAL_OUTCOME_H_
