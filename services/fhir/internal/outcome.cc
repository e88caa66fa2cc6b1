#include "services/fhir/internal/outcome.h"

#include "carehub/base/text.h"

namespace carehub::services::fhir_api {

std::string OperationOutcomeJson(const std::vector<Issue>& issues) {
  std::string out = R"({"resourceType":"OperationOutcome","issue":[)";
  for (size_t i = 0; i < issues.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += R"({"severity":)";
    AppendJsonQuoted(issues[i].severity, &out);
    out += R"(,"code":)";
    AppendJsonQuoted(issues[i].code, &out);
    out += R"(,"diagnostics":)";
    AppendJsonQuoted(issues[i].diagnostics, &out);
    out.push_back('}');
  }
  out += "]}";
  return out;
}

std::string OperationOutcomeJson(std::string_view severity, std::string_view code,
                                 std::string_view diagnostics) {
  return OperationOutcomeJson({Issue{severity, code, std::string(diagnostics)}});
}

std::string_view IssueCodeForStatus(int status) {
  switch (status) {
    case 400: return "invalid";
    case 403: return "forbidden";
    case 404: return "not-found";
    case 405: return "not-supported";
    case 406: return "not-supported";
    case 410: return "not-found";  // a page cursor that expired
    case 413:
    case 414:
    case 431: return "too-long";
    case 415: return "not-supported";
    case 503: return "transient";
    default: return status >= 500 ? "exception" : "processing";
  }
}

}  // namespace carehub::services::fhir_api
