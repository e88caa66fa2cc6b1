#include "fhir/internal/search_query.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/base/strings.h"
#include "fhir/internal/search_path.h"

namespace carehub::fhir::internal {
namespace {

// Splits on `sep` not escaped by '\' (search.html#escaping); "\," "\|" "\$" "\\" unescape.
std::vector<std::string> SplitEscaped(std::string_view s, char sep) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.back().push_back(s[++i]);
    } else if (s[i] == sep) {
      out.emplace_back();
    } else {
      out.back().push_back(s[i]);
    }
  }
  return out;
}

// The position of the first '|' not escaped; npos if none.
size_t UnescapedBar(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '|') {
      return i;
    }
  }
  return std::string_view::npos;
}

std::string Unescape(std::string_view s) { return SplitEscaped(s, '\0').front(); }

std::optional<DatePrefix> ParsePrefix(std::string_view p) {
  static constexpr std::pair<std::string_view, DatePrefix> kPrefixes[] = {
      {"eq", DatePrefix::kEq}, {"ne", DatePrefix::kNe}, {"gt", DatePrefix::kGt},
      {"lt", DatePrefix::kLt}, {"ge", DatePrefix::kGe}, {"le", DatePrefix::kLe},
      {"sa", DatePrefix::kSa}, {"eb", DatePrefix::kEb}, {"ap", DatePrefix::kAp}};
  for (const auto& [text, prefix] : kPrefixes) {
    if (text == p) return prefix;
  }
  return std::nullopt;
}

bool DateMatches(DatePrefix prefix, const DateRange& v, const DateRange& r) {
  const bool eq = v.low <= r.low && r.high <= v.high;
  switch (prefix) {
    case DatePrefix::kEq:
      return eq;
    case DatePrefix::kNe:
      return !eq;
    case DatePrefix::kGt:
      return r.high > v.high;
    case DatePrefix::kLt:
      return r.low < v.low;
    case DatePrefix::kGe:
      return r.high > v.high || eq;
    case DatePrefix::kLe:
      return r.low < v.low || eq;
    case DatePrefix::kSa:
      return r.low >= v.high;
    case DatePrefix::kEb:
      return r.high <= v.low;
    case DatePrefix::kAp:
      return r.low < v.high && v.low < r.high;
  }
  return false;
}

bool TokenMatches(const CriterionValue& v, const Token& t) {
  if (!v.system.has_value()) return t.code == v.code;
  if (t.system.value_or("") != *v.system) return false;
  return v.code.empty() || t.code == v.code;
}

bool ReferenceMatches(const CriterionValue& v, std::string_view ref) {
  if (v.reference.find('/') != std::string::npos) return ref == v.reference;
  return ref.substr(ref.find('/') + 1) == v.reference;
}

}  // namespace

absl::StatusOr<std::optional<Criterion>> ParseCriterion(std::string_view type,
                                                        std::string_view name,
                                                        std::string_view value,
                                                        std::string* unsupported) {
  std::string_view base = name;
  std::string_view modifier;
  if (const size_t colon = name.find(':'); colon != std::string_view::npos) {
    base = name.substr(0, colon);
    modifier = name.substr(colon + 1);
  }
  if (base.find('.') != std::string_view::npos) {
    *unsupported = "chained parameters are not supported";
    return std::nullopt;
  }
  Criterion c;
  c.param = FindCompiledParam(type, base);
  if (c.param == nullptr) {
    *unsupported = absl::StrCat("unknown search parameter for ", Sv(type));
    return std::nullopt;
  }
  const SearchParamType ptype = c.param->def->type;
  if (modifier == "missing") {
    c.modifier = Modifier::kMissing;
    if (value != "true" && value != "false") {
      return absl::InvalidArgumentError(
          absl::StrCat(Sv(name), ": :missing takes true or false, not '", Sv(value), "'"));
    }
    c.missing = value == "true";
    return std::optional<Criterion>(std::move(c));
  }
  if (!modifier.empty()) {
    if (ptype == SearchParamType::kString && modifier == "exact") {
      c.modifier = Modifier::kExact;
    } else if (ptype == SearchParamType::kString && modifier == "contains") {
      c.modifier = Modifier::kContains;
    } else if (ptype == SearchParamType::kToken && modifier == "not") {
      c.modifier = Modifier::kNot;
    } else if (ptype == SearchParamType::kReference && !modifier.empty() &&
               std::isupper(static_cast<unsigned char>(modifier[0]))) {
      c.modifier = Modifier::kType;
      bool allowed = false;
      for (std::string_view t : c.param->def->targets) allowed = allowed || t == modifier;
      if (!allowed) {
        return absl::InvalidArgumentError(
            absl::StrCat(Sv(name), ": ", Sv(modifier), " is not a target of ", Sv(base)));
      }
    } else {
      *unsupported = absl::StrCat("modifier :", Sv(modifier), " is not supported on ", Sv(base));
      return std::nullopt;
    }
  }
  for (const std::string& raw : SplitEscaped(value, ',')) {
    CriterionValue v;
    if (raw.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(Sv(name), ": empty value"));
    }
    switch (ptype) {
      case SearchParamType::kToken: {
        const size_t bar = UnescapedBar(raw);
        if (bar != std::string::npos) {
          v.system = Unescape(std::string_view(raw).substr(0, bar));
          v.code = Unescape(std::string_view(raw).substr(bar + 1));
          if (v.system->empty() && v.code.empty()) {
            return absl::InvalidArgumentError(absl::StrCat(Sv(name), ": '|' alone"));
          }
        } else {
          v.code = Unescape(raw);
        }
        break;
      }
      case SearchParamType::kReference: {
        std::string ref = Unescape(raw);
        if (ref.find('/') != std::string::npos) {
          ref = NormalizeReference(ref);
          if (ref.empty() || ref.back() == '/' || ref.front() == '/') {
            return absl::InvalidArgumentError(
                absl::StrCat(Sv(name), ": '", raw, "' is not a reference"));
          }
        }
        if (c.modifier == Modifier::kType) {
          if (ref.find('/') != std::string::npos) {
            if (ref.substr(0, ref.find('/')) != modifier) {
              return absl::InvalidArgumentError(absl::StrCat(Sv(name), ": '", raw, "' is not a ",
                                                             Sv(modifier)));
            }
          } else {
            ref = absl::StrCat(Sv(modifier), "/", ref);
          }
        }
        v.reference = std::move(ref);
        break;
      }
      case SearchParamType::kDate: {
        std::string_view text = raw;
        if (text.size() >= 2 && std::isalpha(static_cast<unsigned char>(text[0]))) {
          std::optional<DatePrefix> prefix = ParsePrefix(text.substr(0, 2));
          if (!prefix.has_value()) {
            return absl::InvalidArgumentError(
                absl::StrCat(Sv(name), ": unknown date prefix in '", raw, "'"));
          }
          v.prefix = *prefix;
          text = text.substr(2);
        }
        std::optional<DateRange> range = ParseDateRange(text);
        if (!range.has_value()) {
          return absl::InvalidArgumentError(
              absl::StrCat(Sv(name), ": '", raw, "' is not a FHIR date"));
        }
        v.range = *range;
        break;
      }
      case SearchParamType::kString:
        v.text = Unescape(raw);
        v.normalized = NormalizeForSearch(v.text);
        break;
      default:
        *unsupported = "parameter type not supported";
        return std::nullopt;
    }
    c.values.push_back(std::move(v));
  }
  return std::optional<Criterion>(std::move(c));
}

bool Matches(const Criterion& c, const nlohmann::json& resource) {
  std::vector<const nlohmann::json*> nodes;
  c.param->path.Evaluate(resource, nodes);
  switch (c.param->def->type) {
    case SearchParamType::kToken: {
      std::vector<Token> tokens;
      for (const nlohmann::json* n : nodes) AppendTokens(*n, tokens);
      if (c.modifier == Modifier::kMissing) return tokens.empty() == c.missing;
      bool any = false;
      for (const CriterionValue& v : c.values) {
        for (const Token& t : tokens) any = any || TokenMatches(v, t);
      }
      return c.modifier == Modifier::kNot ? !any : any;
    }
    case SearchParamType::kReference: {
      std::vector<std::string> refs;
      for (const nlohmann::json* n : nodes) AppendReferences(*n, refs);
      if (c.modifier == Modifier::kMissing) return refs.empty() == c.missing;
      for (const CriterionValue& v : c.values) {
        for (const std::string& r : refs) {
          if (ReferenceMatches(v, r)) return true;
        }
      }
      return false;
    }
    case SearchParamType::kDate: {
      std::vector<DateRange> ranges;
      for (const nlohmann::json* n : nodes) AppendDateRanges(*n, ranges);
      if (c.modifier == Modifier::kMissing) return ranges.empty() == c.missing;
      for (const CriterionValue& v : c.values) {
        for (const DateRange& r : ranges) {
          if (DateMatches(v.prefix, v.range, r)) return true;
        }
      }
      return false;
    }
    case SearchParamType::kString: {
      std::vector<std::string> strings;
      for (const nlohmann::json* n : nodes) AppendStrings(*n, strings);
      if (c.modifier == Modifier::kMissing) return strings.empty() == c.missing;
      for (const std::string& s : strings) {
        const std::string normalized =
            c.modifier == Modifier::kExact ? std::string() : NormalizeForSearch(s);
        for (const CriterionValue& v : c.values) {
          if (c.modifier == Modifier::kExact ? s == v.text
              : c.modifier == Modifier::kContains
                  ? normalized.find(v.normalized) != std::string::npos
                  : normalized.rfind(v.normalized, 0) == 0) {
            return true;
          }
        }
      }
      return false;
    }
    default:
      return false;
  }
}

namespace {

// The types a bare id of a reference parameter may stand for: the parameter's targets and every
// type the hub serves (a reference the projection wrote to a type outside the targets must still
// be found), sorted and unique.
std::vector<std::string_view> BareIdTypes(const SearchParamDef& def) {
  std::vector<std::string_view> types(def.targets.begin(), def.targets.end());
  for (const ResourceSearchDef& served : SearchDefinitions()) types.push_back(served.type);
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
  return types;
}

}  // namespace

bool IndexLookup(std::string_view type, const Criterion& c, std::vector<std::string>* prefixes,
                 bool* exact) {
  if (c.modifier == Modifier::kMissing || c.modifier == Modifier::kNot ||
      c.modifier == Modifier::kContains || c.param->def->name == "_id") {
    return false;
  }
  const std::string_view name = c.param->def->name;
  *exact = true;
  prefixes->clear();
  std::vector<std::string_view> bare_id_types;  // filled for the first bare id
  for (const CriterionValue& v : c.values) {
    std::string prefix;
    switch (c.param->def->type) {
      case SearchParamType::kToken:
        // "system|" (any code of a system) has no prefix in code-first entries: the type's
        // resources are scanned, as for a code the index does not hold.
        if (!IndexableCode(v.code) || (v.system.has_value() && v.code.empty())) return false;
        if (!v.system.has_value()) {
          prefix = IndexPrefix(type, name, TokenCodePrefix(v.code));  // whatever the system
        } else {
          prefix = IndexPrefix(type, name, TokenEntry(*v.system, v.code));
          prefix.push_back('\0');
        }
        break;
      case SearchParamType::kReference:
        if (v.reference.find('/') == std::string::npos) {
          // A bare id: a reference of any type with that id, or a literal one without a type.
          if (bare_id_types.empty()) bare_id_types = BareIdTypes(*c.param->def);
          for (std::string_view target : bare_id_types) {
            const std::string typed = absl::StrCat(Sv(target), "/", v.reference);
            prefixes->push_back(IndexPrefix(type, name, ReferenceEntry(typed)));
            prefixes->back().push_back('\0');
          }
        }
        prefix = IndexPrefix(type, name, ReferenceEntry(v.reference));
        prefix.push_back('\0');
        break;
      case SearchParamType::kString:
        // Entries hold at most kMaxIndexedString bytes: a longer value looks up its first bytes
        // and the JSON decides; :exact compares what normalisation erases, so it checks too.
        prefix = IndexPrefix(type, name, StringEntry(v.normalized));
        if (v.normalized.size() >= kMaxIndexedString || c.modifier == Modifier::kExact) {
          *exact = false;
        }
        break;
      default:
        return false;
    }
    prefixes->push_back(std::move(prefix));
  }
  return true;
}

}  // namespace carehub::fhir::internal
