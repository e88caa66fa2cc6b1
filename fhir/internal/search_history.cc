// History of an instance or a type, and Patient/$everything.
//
// Type history reads the "h" entries of the search family newest first (see read_model.cc), so
// _count pages never sort the type's changes in memory. _since stops the scan at the first
// change older than it: lastUpdated is the event's recorded_at, which the event log stamps in
// log order, so it does not decrease along the log. _at needs each version's successor, so it
// scans the type's history to its start.
#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "carehub/fhir/resource_facts.h"
#include "fhir/internal/search_engine.h"

namespace carehub::fhir::internal {
namespace {

struct VersionRef {
  std::string id;
  uint64_t version = 0;
  int64_t updated = 0;            // lastUpdated, Unix micros
  int64_t next_updated = kMaxTime;  // the successor's lastUpdated; kMaxTime for the current one
  std::string json;               // instance history only
};

// A version was current during [updated, next_updated); _at keeps those that overlap its range.
bool CurrentDuring(const VersionRef& v, const DateRange& at) {
  return v.updated < at.high && v.next_updated > at.low;
}

// A scan of the top-level members, not a parse: an instance history reads every version, and
// parsing each whole resource was nearly all of its cost.
int64_t LastUpdatedOf(std::string_view json) {
  ResourceFacts facts;
  if (!ScanResource(json, &facts)) return kMinTime;
  std::optional<DateRange> r = ParseDateRange(facts.last_updated);
  return r.has_value() ? r->low : kMinTime;
}

}  // namespace

absl::StatusOr<HistoryRequest> ParseHistoryRequest(std::string_view type,
                                                   const SearchParams& params,
                                                   const SearchOptions& options) {
  if (FindSearchDefinition(type) == nullptr) {
    return absl::NotFoundError(absl::StrCat("resource type ", Sv(type), " is not served"));
  }
  HistoryRequest request;
  request.paging.count = std::min(options.default_count, options.max_count);
  for (const auto& [name, value] : params) {
    ASSIGN_OR_RETURN(bool paging, ParsePagingParam(name, value, options, request.paging));
    if (paging) {
      if (name == "_count") request.applied.emplace_back(name, value);
      continue;
    }
    if (name == "_since" || name == "_at") {
      std::optional<DateRange> range = ParseDateRange(value);
      if (!range.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ": '", value, "' is not a FHIR instant or date"));
      }
      (name == "_since" ? request.since : request.at) = range;
      request.applied.emplace_back(name, value);
      continue;
    }
    if (IsRenderingParam(name) || name == "_summary") {
      request.applied.emplace_back(name, value);
      continue;
    }
    RETURN_IF_ERROR(Unsupported(name, "not supported here", options, request.ignored));
  }
  return request;
}

absl::StatusOr<SearchPage> RunHistory(const ReadModelView& view, std::string_view type,
                                      std::string_view id, const HistoryRequest& request,
                                      bool* has_more) {
  *has_more = false;
  std::vector<VersionRef> versions;  // newest first
  const size_t wanted = request.paging.offset + request.paging.count;
  bool complete = true;
  if (!id.empty()) {
    RETURN_IF_ERROR(view.ScanVersions(type, id, [&](uint64_t version, std::string_view json) {
      VersionRef v{std::string(id), version, LastUpdatedOf(json), kMaxTime, std::string(json)};
      if (!versions.empty()) v.next_updated = versions.back().updated;
      versions.push_back(std::move(v));
      return true;
    }));
    if (versions.empty()) {
      return absl::NotFoundError(absl::StrCat(Sv(type), "/", Sv(id), " does not exist"));
    }
  } else {
    std::map<std::string, int64_t, std::less<>> successor;  // id -> newer version's lastUpdated
    const std::string prefix = TypeHistoryPrefix(type);
    size_t kept = 0;
    RETURN_IF_ERROR(view.ScanIndex(prefix, true, [&](std::string_view key, std::string_view value) {
      if (value.size() < 8) return true;
      VersionRef v;
      v.id = std::string(key.substr(prefix.size() + 9));
      v.version = FromBigEndian64(value.substr(0, 8));
      std::optional<DateRange> updated = ParseDateRange(value.substr(8));
      v.updated = updated.has_value() ? updated->low : kMinTime;
      if (request.since.has_value() && v.updated < request.since->low) return false;
      if (request.at.has_value()) {
        auto it = successor.find(v.id);
        if (it != successor.end()) v.next_updated = it->second;
        successor[v.id] = v.updated;
        if (!CurrentDuring(v, *request.at)) return true;
      } else if (kept > wanted) {
        complete = false;
        return false;
      }
      ++kept;
      versions.push_back(std::move(v));
      return true;
    }));
  }
  std::vector<VersionRef> selected;
  for (VersionRef& v : versions) {
    if (request.since.has_value() && v.updated < request.since->low) continue;
    if (request.at.has_value() && !CurrentDuring(v, *request.at)) continue;
    selected.push_back(std::move(v));
  }
  SearchPage page;
  if (complete) {
    page.total = selected.size();
  } else {
    *has_more = selected.size() > wanted;
  }
  const size_t begin = std::min(request.paging.offset, selected.size());
  const size_t end = std::min(selected.size(), begin + request.paging.count);
  for (size_t i = begin; i < end; ++i) {
    VersionRef& v = selected[i];
    if (v.json.empty()) {
      ASSIGN_OR_RETURN(std::optional<std::string> json, view.GetVersion(type, v.id, v.version));
      if (!json.has_value()) {
        return absl::DataLossError(
            absl::StrCat("type history names ", Sv(type), "/", v.id, " version ", v.version,
                         " which does not exist"));
      }
      v.json = *std::move(json);
    }
    page.matches.push_back(std::move(v.json));
  }
  return page;
}

const std::vector<std::pair<std::string_view, std::string_view>>& PatientCompartment() {
  static const auto* const kCompartment = new std::vector<std::pair<std::string_view, std::string_view>>{
      {"CarePlan", "patient"},    {"CareTeam", "patient"},      {"Goal", "patient"},
      {"Encounter", "patient"},   {"Task", "patient"},          {"Observation", "patient"},
      {"Consent", "patient"},     {"Appointment", "patient"},   {"Communication", "patient"},
      {"Flag", "patient"}};
  return *kCompartment;
}

absl::StatusOr<EverythingRequest> ParseEverythingRequest(const SearchParams& params,
                                                         const SearchOptions& options) {
  EverythingRequest request;
  request.paging.count = std::min(options.default_count, options.max_count);
  for (const auto& [name, value] : params) {
    ASSIGN_OR_RETURN(bool paging, ParsePagingParam(name, value, options, request.paging));
    if (paging) {
      if (name == "_count") request.applied.emplace_back(name, value);
      continue;
    }
    if (name == "_type") {
      for (absl::string_view split : absl::StrSplit(Sv(value), ',')) {
        std::string_view t(split.data(), split.size());
        if (t != "Patient" &&
            std::none_of(PatientCompartment().begin(), PatientCompartment().end(),
                         [&](const auto& c) { return c.first == t; })) {
          return absl::InvalidArgumentError(
              absl::StrCat("_type: ", Sv(t), " is not in the patient compartment"));
        }
        request.types.emplace_back(t);
      }
      request.applied.emplace_back(name, value);
      continue;
    }
    if (IsRenderingParam(name) || name == "_summary") {
      request.applied.emplace_back(name, value);
      continue;
    }
    RETURN_IF_ERROR(Unsupported(name, "not supported here", options, request.ignored));
  }
  return request;
}

absl::StatusOr<SearchPage> RunEverything(const ReadModelView& view, std::string_view patient_id,
                                         const EverythingRequest& request) {
  ASSIGN_OR_RETURN(std::optional<std::string> patient, view.Get("Patient", patient_id));
  if (!patient.has_value()) {
    return absl::NotFoundError(absl::StrCat("Patient/", Sv(patient_id), " does not exist"));
  }
  auto wanted = [&](std::string_view type) {
    return request.types.empty() ||
           std::find(request.types.begin(), request.types.end(), type) != request.types.end();
  };
  std::vector<std::pair<std::string_view, std::string>> items;  // (type, id)
  if (wanted("Patient")) items.emplace_back("Patient", std::string(patient_id));
  const std::string ref = ReferenceEntry(absl::StrCat("Patient/", Sv(patient_id)));
  for (const auto& [type, param] : PatientCompartment()) {
    if (!wanted(type)) continue;
    std::string prefix = IndexPrefix(type, param, ref);
    prefix.push_back('\0');
    RETURN_IF_ERROR(view.ScanIndex(prefix, false, [&](std::string_view key, std::string_view) {
      items.emplace_back(type, std::string(IndexKeyId(key)));
      return true;
    }));
  }
  SearchPage page;
  page.total = items.size();
  const size_t begin = std::min(request.paging.offset, items.size());
  const size_t end = std::min(items.size(), begin + request.paging.count);
  for (size_t i = begin; i < end; ++i) {
    if (i == 0 && items[0].first == "Patient") {
      page.matches.push_back(*patient);
      continue;
    }
    ASSIGN_OR_RETURN(std::optional<std::string> json, view.Get(items[i].first, items[i].second));
    if (json.has_value()) page.matches.push_back(*std::move(json));
  }
  return page;
}

}  // namespace carehub::fhir::internal
