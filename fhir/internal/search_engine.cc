#include "fhir/internal/search_engine.h"

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"

namespace carehub::fhir::internal {
namespace {

// "Source:param[:Target]" naming a reference parameter.
absl::StatusOr<std::optional<IncludeSpec>> ParseInclude(std::string_view name,
                                                        std::string_view value,
                                                        std::string* why) {
  std::vector<std::string> parts = absl::StrSplit(Sv(value), ':');
  if (parts.size() < 2 || parts.size() > 3) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(name), ": '", Sv(value), "' is not Type:parameter[:TargetType]"));
  }
  IncludeSpec spec;
  spec.source_type = parts[0];
  if (parts[1] == "*") {
    *why = "wildcard includes are not supported";
    return std::nullopt;
  }
  spec.param = FindCompiledParam(parts[0], parts[1]);
  if (spec.param == nullptr || spec.param->def->type != SearchParamType::kReference) {
    *why = absl::StrCat(parts[0], " has no reference parameter ", parts[1]);
    return std::nullopt;
  }
  if (parts.size() == 3) spec.target_type = parts[2];
  return std::optional<IncludeSpec>(std::move(spec));
}

absl::Status ParseSort(std::string_view type, std::string_view value,
                       const SearchOptions& options, SearchRequest& request) {
  const ResourceSearchDef* def = FindSearchDefinition(type);
  for (absl::string_view split : absl::StrSplit(Sv(value), ',')) {
    std::string_view field(split.data(), split.size());
    SortKey key;
    if (!field.empty() && field[0] == '-') {
      key.descending = true;
      field.remove_prefix(1);
    }
    const bool allowed = std::find(def->sorts.begin(), def->sorts.end(), field) != def->sorts.end();
    if (!allowed) {
      RETURN_IF_ERROR(Unsupported("_sort", absl::StrCat("cannot sort by '", Sv(field), "'"),
                                  options, request.ignored));
      return absl::OkStatus();
    }
    if (field != "_id") key.param = FindCompiledParam(type, field);
    request.sort.push_back(key);
  }
  return absl::OkStatus();
}

struct Match {
  std::string id;
  std::string json;             // empty when not read yet
  std::vector<int64_t> keys;    // one per date sort key
};

// The sort value of a date parameter: the lowest start ascending, the highest end descending
// (search.html#_sort); a resource without a value sorts last either way.
int64_t DateSortKey(const CompiledParam& param, bool descending, const nlohmann::json& resource) {
  std::vector<const nlohmann::json*> nodes;
  param.path.Evaluate(resource, nodes);
  std::vector<DateRange> ranges;
  for (const nlohmann::json* n : nodes) AppendDateRanges(*n, ranges);
  if (ranges.empty()) return descending ? kMinTime : kMaxTime;
  int64_t key = descending ? kMinTime : kMaxTime;
  for (const DateRange& r : ranges) {
    key = descending ? std::max(key, r.high == kMaxTime ? kMaxTime - 1 : r.high)
                     : std::min(key, r.low == kMinTime ? kMinTime + 1 : r.low);
  }
  return key;
}

absl::StatusOr<nlohmann::json> ParseStored(std::string_view type, std::string_view id,
                                           std::string_view json) {
  nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return absl::DataLossError(absl::StrCat(Sv(type), "/", Sv(id), " is not JSON"));
  }
  return parsed;
}

// Sorted, unique ids of the index keys under any of `prefixes`.
absl::StatusOr<std::vector<std::string>> IdsUnder(const ReadModelView& view,
                                                  const std::vector<std::string>& prefixes) {
  std::vector<std::string> ids;
  for (const std::string& prefix : prefixes) {
    RETURN_IF_ERROR(view.ScanIndex(prefix, false, [&](std::string_view key, std::string_view) {
      ids.emplace_back(IndexKeyId(key));
      return true;
    }));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// Steps 2 and 3 of fhir/search.cc: the matches, with their JSON when it had to be read.
absl::StatusOr<std::vector<Match>> FindMatches(const ReadModelView& view,
                                               const SearchRequest& request) {
  const std::string& type = request.type;
  std::optional<std::vector<std::string>> candidates;
  std::vector<bool> exact(request.criteria.size(), false);
  auto intersect = [&](std::vector<std::string> ids) {
    if (!candidates.has_value()) {
      candidates = std::move(ids);
      return;
    }
    std::vector<std::string> both;
    std::set_intersection(candidates->begin(), candidates->end(), ids.begin(), ids.end(),
                          std::back_inserter(both));
    candidates = std::move(both);
  };
  for (size_t i = 0; i < request.criteria.size(); ++i) {
    const Criterion& c = request.criteria[i];
    if (c.param->def->name == "_id" && c.modifier == Modifier::kNone) {
      std::vector<std::string> ids;
      for (const CriterionValue& v : c.values) ids.push_back(v.code);
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      intersect(std::move(ids));
      continue;
    }
    std::vector<std::string> prefixes;
    bool is_exact = false;
    if (!IndexLookup(type, c, &prefixes, &is_exact)) continue;
    ASSIGN_OR_RETURN(std::vector<std::string> ids, IdsUnder(view, prefixes));
    intersect(std::move(ids));
    exact[i] = is_exact;
  }
  const bool all_exact = std::all_of(exact.begin(), exact.end(), [](bool e) { return e; });
  size_t date_keys = 0;
  for (const SortKey& k : request.sort) date_keys += k.param != nullptr ? 1 : 0;
  const bool need_json = !all_exact || date_keys > 0;

  std::vector<Match> matches;
  absl::Status status;
  // Checks one resource's JSON against the criteria the index did not settle.
  auto consider = [&](std::string_view id, std::string_view json) -> bool {
    if (!need_json) {
      matches.push_back({std::string(id), "", {}});
      return true;
    }
    absl::StatusOr<nlohmann::json> parsed = ParseStored(type, id, json);
    if (!parsed.ok()) {
      status = parsed.status();
      return false;
    }
    for (size_t i = 0; i < request.criteria.size(); ++i) {
      if (!exact[i] && !Matches(request.criteria[i], *parsed)) return true;
    }
    Match m{std::string(id), std::string(json), {}};
    for (const SortKey& k : request.sort) {
      if (k.param != nullptr) m.keys.push_back(DateSortKey(*k.param, k.descending, *parsed));
    }
    matches.push_back(std::move(m));
    return true;
  };
  if (candidates.has_value()) {
    for (const std::string& id : *candidates) {
      if (!need_json) {
        matches.push_back({id, "", {}});
        continue;
      }
      ASSIGN_OR_RETURN(std::optional<std::string> json, view.Get(type, id));
      if (!json.has_value()) continue;  // an _id that does not exist
      if (!consider(id, *json)) break;
    }
  } else {
    RETURN_IF_ERROR(view.ScanType(type, consider));
  }
  RETURN_IF_ERROR(status);
  return matches;
}

void SortMatches(const std::vector<SortKey>& sort, std::vector<Match>& matches) {
  if (sort.empty()) return;  // already in id order
  std::stable_sort(matches.begin(), matches.end(), [&](const Match& a, const Match& b) {
    size_t date = 0;
    for (const SortKey& k : sort) {
      if (k.param == nullptr) {
        if (a.id != b.id) return k.descending ? a.id > b.id : a.id < b.id;
        continue;
      }
      const int64_t x = a.keys[date];
      const int64_t y = b.keys[date];
      ++date;
      if (x != y) return k.descending ? x > y : x < y;
    }
    return a.id < b.id;
  });
}

// The _include and _revinclude resources of the page, each once, none that is a match.
absl::Status AddIncludes(const ReadModelView& view, const SearchRequest& request,
                         const std::vector<std::pair<std::string, nlohmann::json>>& page_items,
                         SearchPage& page) {
  std::set<std::string> seen;
  for (const auto& [id, json] : page_items) seen.insert(absl::StrCat(request.type, "/", id));
  auto add = [&](const std::string& type_and_id) -> absl::Status {
    if (!seen.insert(type_and_id).second) return absl::OkStatus();
    const size_t slash = type_and_id.find('/');
    ASSIGN_OR_RETURN(std::optional<std::string> json,
                     view.Get(type_and_id.substr(0, slash), type_and_id.substr(slash + 1)));
    if (json.has_value()) page.includes.push_back(*std::move(json));
    return absl::OkStatus();
  };
  for (const IncludeSpec& inc : request.includes) {
    for (const auto& [id, json] : page_items) {
      std::vector<const nlohmann::json*> nodes;
      inc.param->path.Evaluate(json, nodes);
      std::vector<std::string> refs;
      for (const nlohmann::json* n : nodes) AppendReferences(*n, refs);
      for (const std::string& ref : refs) {
        if (!inc.target_type.empty() && ref.substr(0, ref.find('/')) != inc.target_type) continue;
        if (FindSearchDefinition(ref.substr(0, ref.find('/'))) == nullptr) continue;
        RETURN_IF_ERROR(add(ref));
      }
    }
  }
  for (const IncludeSpec& rev : request.revincludes) {
    if (!rev.target_type.empty() && rev.target_type != request.type) continue;
    for (const auto& [id, json] : page_items) {
      std::string prefix = IndexPrefix(rev.source_type, rev.param->def->name,
                                       ReferenceEntry(absl::StrCat(request.type, "/", id)));
      prefix.push_back('\0');
      ASSIGN_OR_RETURN(std::vector<std::string> ids, IdsUnder(view, {prefix}));
      for (const std::string& source_id : ids) {
        RETURN_IF_ERROR(add(absl::StrCat(rev.source_type, "/", source_id)));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SearchRequest> ParseSearchRequest(std::string_view type, const SearchParams& params,
                                                 const SearchOptions& options) {
  if (FindSearchDefinition(type) == nullptr) {
    return absl::NotFoundError(absl::StrCat("resource type ", Sv(type), " is not served"));
  }
  SearchRequest request;
  request.type = std::string(type);
  request.paging.count = std::min(options.default_count, options.max_count);
  for (const auto& [name, value] : params) {
    ASSIGN_OR_RETURN(bool paging, ParsePagingParam(name, value, options, request.paging));
    if (paging) {
      if (name == "_count") request.applied.emplace_back(name, value);
      continue;
    }
    if (IsRenderingParam(name)) {
      request.applied.emplace_back(name, value);  // the renderer's business
      continue;
    }
    if (name == "_summary") {
      if (value == "count") {
        request.summary_count = true;
      } else if (value != "true" && value != "false" && value != "text" && value != "data") {
        return absl::InvalidArgumentError(absl::StrCat("_summary: unknown value '", value, "'"));
      }
      request.applied.emplace_back(name, value);
      continue;
    }
    if (name == "_total") {
      if (value != "none" && value != "estimate" && value != "accurate") {
        return absl::InvalidArgumentError(absl::StrCat("_total: unknown value '", value, "'"));
      }
      request.want_total = value != "none";
      request.applied.emplace_back(name, value);
      continue;
    }
    if (name == "_sort") {
      const size_t before = request.ignored.size();
      RETURN_IF_ERROR(ParseSort(type, value, options, request));
      if (request.ignored.size() == before) request.applied.emplace_back(name, value);
      continue;
    }
    if (name == "_include" || name == "_revinclude") {
      std::string why;
      ASSIGN_OR_RETURN(std::optional<IncludeSpec> spec, ParseInclude(name, value, &why));
      if (spec.has_value() && name == "_include" && spec->source_type != type) {
        why = absl::StrCat("_include must name ", Sv(type), " as its source");
        spec.reset();
      }
      if (!spec.has_value()) {
        RETURN_IF_ERROR(Unsupported(name, why, options, request.ignored));
        continue;
      }
      (name == "_include" ? request.includes : request.revincludes).push_back(*std::move(spec));
      request.applied.emplace_back(name, value);
      continue;
    }
    std::string why;
    ASSIGN_OR_RETURN(std::optional<Criterion> criterion,
                     ParseCriterion(type, name, value, &why));
    if (!criterion.has_value()) {
      RETURN_IF_ERROR(Unsupported(name, why, options, request.ignored));
      continue;
    }
    request.criteria.push_back(*std::move(criterion));
    request.applied.emplace_back(name, value);
  }
  return request;
}

absl::StatusOr<SearchPage> RunSearch(const ReadModelView& view, const SearchRequest& request) {
  ASSIGN_OR_RETURN(std::vector<Match> matches, FindMatches(view, request));
  SortMatches(request.sort, matches);
  SearchPage page;
  page.total = matches.size();
  if (request.summary_count) return page;
  const size_t begin = std::min(request.paging.offset, matches.size());
  const size_t end = std::min(matches.size(), begin + request.paging.count);
  std::vector<std::pair<std::string, nlohmann::json>> items;
  for (size_t i = begin; i < end; ++i) {
    Match& m = matches[i];
    if (m.json.empty()) {
      ASSIGN_OR_RETURN(std::optional<std::string> json, view.Get(request.type, m.id));
      if (!json.has_value()) continue;
      m.json = *std::move(json);
    }
    if (!request.includes.empty() || !request.revincludes.empty()) {
      ASSIGN_OR_RETURN(nlohmann::json parsed, ParseStored(request.type, m.id, m.json));
      items.emplace_back(m.id, std::move(parsed));
    }
    page.matches.push_back(std::move(m.json));
  }
  if (!items.empty()) RETURN_IF_ERROR(AddIncludes(view, request, items, page));
  return page;
}

}  // namespace carehub::fhir::internal
