#include "services/fhir/internal/subset.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "carehub/base/strings.h"
#include "nlohmann/json.hpp"
#include "services/fhir/internal/element_table.h"

namespace carehub::services::fhir_api {
namespace {

using Json = nlohmann::ordered_json;

const ElementTableRow* FindRow(std::string_view type) {
  for (const ElementTableRow& row : ElementTable()) {
    if (row.type == type) return &row;
  }
  return nullptr;
}

// True if the JSON member `key` is the element `name`; "value[x]" matches "valueQuantity".
bool IsElement(std::string_view key, std::string_view name) {
  if (name.size() > 3 && name.substr(name.size() - 3) == "[x]") {
    std::string_view stem = name.substr(0, name.size() - 3);
    return key.size() > stem.size() && key.substr(0, stem.size()) == stem &&
           absl::ascii_isupper(static_cast<unsigned char>(key[stem.size()]));
  }
  return key == name;
}

bool InList(std::string_view key, const std::vector<std::string_view>& names) {
  return std::any_of(names.begin(), names.end(),
                     [key](std::string_view n) { return IsElement(key, n); });
}

bool Keep(std::string_view key, const SubsetSpec& spec, const ElementTableRow* row) {
  // Always kept: what identifies the resource, and what makes it valid.
  if (key == "resourceType" || key == "id" || key == "meta") return true;
  if (row != nullptr && InList(key, row->mandatory)) return true;
  switch (spec.summary) {
    case SummaryMode::kTrue: return row != nullptr && InList(key, row->summary);
    case SummaryMode::kText: return key == "text";
    case SummaryMode::kData: return key != "text";
    case SummaryMode::kFalse:
    case SummaryMode::kCount: break;
  }
  return std::any_of(spec.elements.begin(), spec.elements.end(),
                     [key](const std::string& e) { return IsElement(key, e) || key == e; });
}

void AddSubsettedTag(Json& resource) {
  Json& meta = resource["meta"];
  if (!meta.is_object()) meta = Json::object();
  Json& tags = meta["tag"];
  if (!tags.is_array()) tags = Json::array();
  tags.push_back({{"system", "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"},
                  {"code", "SUBSETTED"},
                  {"display", "Resource encoded in summary mode"}});
}

}  // namespace

absl::StatusOr<SubsetSpec> ParseSubset(const std::optional<std::string>& summary,
                                       const std::optional<std::string>& elements) {
  SubsetSpec spec;
  if (summary.has_value()) {
    if (*summary == "true") {
      spec.summary = SummaryMode::kTrue;
    } else if (*summary == "text") {
      spec.summary = SummaryMode::kText;
    } else if (*summary == "data") {
      spec.summary = SummaryMode::kData;
    } else if (*summary == "count") {
      spec.summary = SummaryMode::kCount;
    } else if (*summary == "false") {
      spec.summary = SummaryMode::kFalse;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("_summary=", *summary, " is not one of true, text, data, count, false"));
    }
    return spec;
  }
  if (elements.has_value()) {
    for (absl::string_view e : absl::StrSplit(*elements, ',', absl::SkipWhitespace())) {
      e = absl::StripAsciiWhitespace(e);
      // "Patient.name" (a type-qualified element) names the element "name".
      const size_t dot = e.find('.');
      if (dot != absl::string_view::npos) e = e.substr(dot + 1);
      spec.elements.emplace_back(e);
    }
  }
  return spec;
}

std::string RenderResource(std::string_view json, const SubsetSpec& spec, bool pretty) {
  Json resource = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (resource.is_discarded() || !resource.is_object()) return std::string(json);
  if (spec.subsetting()) {
    const ElementTableRow* row = nullptr;
    if (auto it = resource.find("resourceType"); it != resource.end() && it->is_string()) {
      row = FindRow(it->get_ref<const std::string&>());
    }
    Json subset = Json::object();
    for (auto it = resource.begin(); it != resource.end(); ++it) {
      if (Keep(it.key(), spec, row)) subset[it.key()] = std::move(it.value());
    }
    AddSubsettedTag(subset);
    resource = std::move(subset);
  }
  return resource.dump(pretty ? 2 : -1, ' ', false, Json::error_handler_t::replace);
}

std::string Prettify(std::string_view json) {
  Json doc = Json::parse(json, nullptr, false);
  if (doc.is_discarded()) return std::string(json);
  return doc.dump(2, ' ', false, Json::error_handler_t::replace);
}

}  // namespace carehub::services::fhir_api
