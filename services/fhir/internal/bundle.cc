#include "services/fhir/internal/bundle.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/base/strings.h"
#include "carehub/base/text.h"
#include "carehub/fhir/resource_facts.h"
#include "services/fhir/internal/outcome.h"

namespace carehub::services::fhir_api {
namespace {

void AppendLink(std::string_view relation, std::string_view params, const BundleContext& context,
                bool* first, std::string* out) {
  if (relation != "self" && params.empty()) return;
  if (!*first) out->push_back(',');
  *first = false;
  std::string url = absl::StrCat(Sv(context.base_url), "/", Sv(context.path));
  if (!params.empty()) absl::StrAppend(&url, "?", Sv(params));
  absl::StrAppend(out, R"({"relation":)", JsonQuote(relation), R"(,"url":)", JsonQuote(url), "}");
}

void AppendLinks(const fhir::SearchPage& page, const BundleContext& context, std::string* out) {
  out->append(R"(,"link":[)");
  bool first = true;
  AppendLink("self", page.self_params, context, &first, out);
  AppendLink("first", page.first_params, context, &first, out);
  AppendLink("previous", page.previous_params, context, &first, out);
  AppendLink("next", page.next_params, context, &first, out);
  out->push_back(']');
}

// The resource as it goes into the entry, and the facts its fullUrl needs.
std::string_view EntryResource(const std::string& json, const SubsetSpec& spec,
                               std::string* rendered, fhir::ResourceFacts* facts) {
  fhir::ScanResource(json, facts);
  if (!spec.subsetting()) return json;
  *rendered = RenderResource(json, spec, false);
  return *rendered;
}

void AppendFullUrl(const BundleContext& context, const fhir::ResourceFacts& facts, std::string* out) {
  if (facts.resource_type.empty() || facts.id.empty()) return;
  absl::StrAppend(out, R"("fullUrl":")", Sv(context.base_url), "/", Sv(facts.resource_type), "/",
                  Sv(facts.id), R"(",)");
}

void AppendSearchEntry(const std::string& json, std::string_view mode,
                       const BundleContext& context, const SubsetSpec& spec, bool* first,
                       std::string* out) {
  std::string rendered;
  fhir::ResourceFacts facts;
  std::string_view resource = EntryResource(json, spec, &rendered, &facts);
  if (!*first) out->push_back(',');
  *first = false;
  out->push_back('{');
  AppendFullUrl(context, facts, out);
  absl::StrAppend(out, R"("resource":)", Sv(resource), R"(,"search":{"mode":")", Sv(mode), "\"}}");
}

}  // namespace

std::string RenderSearchBundle(const fhir::SearchPage& page, const BundleContext& context,
                               const SubsetSpec& spec) {
  std::string out = R"({"resourceType":"Bundle","type":"searchset")";
  out.reserve(1024 + 1200 * (page.matches.size() + page.includes.size()));
  if (page.total.has_value()) absl::StrAppend(&out, R"(,"total":)", *page.total);
  AppendLinks(page, context, &out);
  out.append(R"(,"entry":[)");
  bool first = true;
  for (const std::string& json : page.matches) {
    AppendSearchEntry(json, "match", context, spec, &first, &out);
  }
  for (const std::string& json : page.includes) {
    AppendSearchEntry(json, "include", context, spec, &first, &out);
  }
  if (!page.ignored.empty() || !context.issues.empty()) {
    std::vector<Issue> issues;
    for (const std::string& line : page.ignored) {
      issues.push_back({"warning", "not-supported", absl::StrCat("ignored: ", line)});
    }
    issues.insert(issues.end(), context.issues.begin(), context.issues.end());
    if (!first) out.push_back(',');
    first = false;
    absl::StrAppend(&out, R"({"resource":)", OperationOutcomeJson(issues),
                    R"(,"search":{"mode":"outcome"}})");
  }
  out.append("]}");
  if (first) {
    // An empty entry array is not valid FHIR JSON: drop it.
    out.resize(out.size() - std::string_view(R"(,"entry":[]})").size());
    out.push_back('}');
  }
  return out;
}

std::string RenderHistoryBundle(const fhir::SearchPage& page, const BundleContext& context,
                                const SubsetSpec& spec) {
  std::string out = R"({"resourceType":"Bundle","type":"history")";
  out.reserve(1024 + 1400 * page.matches.size());
  if (page.total.has_value()) absl::StrAppend(&out, R"(,"total":)", *page.total);
  AppendLinks(page, context, &out);
  if (page.matches.empty()) return out + "}";
  out.append(R"(,"entry":[)");
  bool first = true;
  for (const std::string& json : page.matches) {
    std::string rendered;
    fhir::ResourceFacts facts;
    std::string_view resource = EntryResource(json, spec, &rendered, &facts);
    if (!first) out.push_back(',');
    first = false;
    out.push_back('{');
    AppendFullUrl(context, facts, &out);
    const bool created = facts.version_id == "1";
    absl::StrAppend(&out, R"("resource":)", Sv(resource), R"(,"request":{"method":")",
                    created ? "POST" : "PUT", R"(","url":")", Sv(facts.resource_type));
    if (!created) absl::StrAppend(&out, "/", Sv(facts.id));
    absl::StrAppend(&out, R"("},"response":{"status":")", created ? "201 Created" : "200 OK",
                    R"(","etag":"W/\")", Sv(facts.version_id), R"(\"")");
    if (!facts.last_updated.empty()) {
      absl::StrAppend(&out, R"(,"lastModified":")", Sv(facts.last_updated), "\"");
    }
    out.append("}}");
  }
  out.append("]}");
  return out;
}

}  // namespace carehub::services::fhir_api
