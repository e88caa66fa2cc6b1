#include "fhir/internal/search_index.h"

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/base/strings.h"
#include "fhir/internal/search_values.h"

namespace carehub::fhir::internal {
namespace {

using ParamTable = std::map<std::string, std::vector<CompiledParam>, std::less<>>;

ParamTable BuildTable() {
  ParamTable table;
  for (const ResourceSearchDef& def : SearchDefinitions()) {
    std::vector<CompiledParam>& params = table[std::string(def.type)];
    for (const SearchParamDef& p : def.params) {
      absl::StatusOr<SearchPath> path = SearchPath::Compile(p.expression);
      // The table is ours and fhir/search_test.cc compiles every expression: a failure here is a
      // broken build, not bad input.
      if (!path.ok()) std::abort();
      params.push_back({def.type, &p, *std::move(path)});
    }
  }
  return table;
}

const ParamTable& Table() {
  static const ParamTable* const kTable = new ParamTable(BuildTable());
  return *kTable;
}

// A UTF-8 string cut to at most `max` bytes without splitting a character.
std::string_view Truncate(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

const std::vector<CompiledParam>& CompiledParams(std::string_view type) {
  static const std::vector<CompiledParam>* const kEmpty = new std::vector<CompiledParam>();
  const ParamTable& table = Table();
  auto it = table.find(type);
  return it == table.end() ? *kEmpty : it->second;
}

const CompiledParam* FindCompiledParam(std::string_view type, std::string_view name) {
  for (const CompiledParam& p : CompiledParams(type)) {
    if (p.def->name == name) return &p;
  }
  return nullptr;
}

std::string TokenEntry(std::string_view system, std::string_view code) {
  std::string entry = TokenCodePrefix(code);
  entry.append(system);
  return entry;
}
std::string TokenCodePrefix(std::string_view code) {
  std::string entry = absl::StrCat("t:", Sv(code));
  entry.push_back(kTokenSeparator);
  return entry;
}
std::string ReferenceEntry(std::string_view type_and_id) {
  return absl::StrCat("r:", Sv(type_and_id));
}
std::string StringEntry(std::string_view normalized) {
  return absl::StrCat("n:", Sv(Truncate(normalized, kMaxIndexedString)));
}

std::string IndexPrefix(std::string_view type, std::string_view param, std::string_view entry) {
  std::string key = absl::StrCat("x", Sv(type), "/", Sv(param));
  key.push_back('\0');
  key.append(entry);
  return key;
}

std::string_view IndexKeyId(std::string_view key) {
  const size_t nul = key.rfind('\0');
  return nul == std::string_view::npos ? std::string_view() : key.substr(nul + 1);
}

template <typename JsonT>
std::vector<std::string> SearchIndexKeys(std::string_view type, std::string_view id,
                                         const JsonT& resource) {
  std::vector<std::string> entries;
  std::vector<std::string> keys;
  std::vector<const JsonT*> nodes;
  for (const CompiledParam& p : CompiledParams(type)) {
    if (p.def->name == "_id") continue;
    entries.clear();
    nodes.clear();
    p.path.Evaluate(resource, nodes);
    switch (p.def->type) {
      case SearchParamType::kToken: {
        std::vector<Token> tokens;
        for (const JsonT* n : nodes) AppendTokens(*n, tokens);
        for (const Token& t : tokens) {
          // A separator inside the code would make its entry match a search for a shorter code.
          if (!IndexableCode(t.code)) continue;
          entries.push_back(TokenEntry(t.system.value_or(""), t.code));
        }
        break;
      }
      case SearchParamType::kReference: {
        std::vector<std::string> refs;
        for (const JsonT* n : nodes) AppendReferences(*n, refs);
        for (const std::string& r : refs) entries.push_back(ReferenceEntry(r));
        break;
      }
      case SearchParamType::kString: {
        std::vector<std::string> strings;
        for (const JsonT* n : nodes) AppendStrings(*n, strings);
        for (const std::string& s : strings) entries.push_back(StringEntry(NormalizeForSearch(s)));
        break;
      }
      default:
        break;
    }
    std::sort(entries.begin(), entries.end());
    entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
    for (const std::string& e : entries) {
      // A NUL inside a value would make the key ambiguous; such a value is only found by a scan.
      if (e.find('\0') != std::string::npos) continue;
      std::string key = IndexPrefix(type, p.def->name, e);
      key.push_back('\0');
      key.append(id);
      keys.push_back(std::move(key));
    }
  }
  return keys;
}

template std::vector<std::string> SearchIndexKeys(std::string_view, std::string_view,
                                                  const nlohmann::json&);
template std::vector<std::string> SearchIndexKeys(std::string_view, std::string_view,
                                                  const nlohmann::ordered_json&);

std::string BigEndian64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t FromBigEndian64(std::string_view s) {
  uint64_t v = 0;
  for (unsigned char c : s) v = (v << 8) | c;
  return v;
}

std::string TypeHistoryPrefix(std::string_view type) { return absl::StrCat("h", Sv(type), "/"); }

std::string TypeHistoryKey(std::string_view type, uint64_t position, std::string_view id) {
  return absl::StrCat(TypeHistoryPrefix(type), BigEndian64(position), "/", Sv(id));
}

std::string TypeHistoryValue(uint64_t version, std::string_view last_updated) {
  return absl::StrCat(BigEndian64(version), Sv(last_updated));
}

}  // namespace carehub::fhir::internal
