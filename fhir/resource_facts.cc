#include "carehub/fhir/resource_facts.h"

#include <cstring>
#include <string>

namespace carehub::fhir {
namespace {

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' ||
                                s_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Peek(char c) {
    SkipSpace();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  // A string; `out` gets its raw contents between the quotes.
  bool String(std::string_view* out) {
    if (!Consume('"')) return false;
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (s_[pos_] == '\\') ++pos_;
      ++pos_;
    }
    if (pos_ >= s_.size()) return false;
    *out = s_.substr(start, pos_ - start);
    ++pos_;
    return true;
  }
  // Any value, skipped; nesting is tracked so that strings holding braces cannot confuse it.
  bool SkipValue() {
    SkipSpace();
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (c == '"') {
      std::string_view ignored;
      return String(&ignored);
    }
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      if (Consume(close)) return true;
      do {
        if (c == '{') {
          std::string_view key;
          if (!String(&key) || !Consume(':')) return false;
        }
        if (!SkipValue()) return false;
      } while (Consume(','));
      return Consume(close);
    }
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '}' && s_[pos_] != ']' &&
           s_[pos_] != ' ' && s_[pos_] != '\n') {
      ++pos_;
    }
    return pos_ > start;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

bool ScanMeta(Scanner& scanner, ResourceFacts* facts) {
  if (!scanner.Consume('{')) return false;
  if (scanner.Consume('}')) return true;
  do {
    std::string_view key;
    if (!scanner.String(&key) || !scanner.Consume(':')) return false;
    if ((key == "versionId" || key == "lastUpdated") && scanner.Peek('"')) {
      if (!scanner.String(key == "versionId" ? &facts->version_id : &facts->last_updated)) {
        return false;
      }
    } else if (!scanner.SkipValue()) {
      return false;
    }
  } while (scanner.Consume(','));
  return scanner.Consume('}');
}

}  // namespace

bool ScanResource(std::string_view json, ResourceFacts* facts) {
  *facts = ResourceFacts();
  Scanner scanner(json);
  if (!scanner.Consume('{')) return false;
  if (scanner.Consume('}')) return true;
  do {
    std::string_view key;
    if (!scanner.String(&key) || !scanner.Consume(':')) return false;
    bool ok;
    if (key == "resourceType" && scanner.Peek('"')) {
      ok = scanner.String(&facts->resource_type);
    } else if (key == "id" && scanner.Peek('"')) {
      ok = scanner.String(&facts->id);
    } else if (key == "meta" && scanner.Peek('{')) {
      ok = ScanMeta(scanner, facts);
    } else {
      ok = scanner.SkipValue();
    }
    if (!ok) return false;
    // The projector writes these members first: the rest of a large resource need not be read.
    if (!facts->resource_type.empty() && !facts->id.empty() && !facts->version_id.empty() &&
        !facts->last_updated.empty()) {
      return true;
    }
  } while (scanner.Consume(','));
  return scanner.Consume('}');
}

bool HoldsOwnersCare(std::string_view type) {
  return type == "Encounter" || type == "Observation" || type == "Flag";
}

namespace {

// The HSA-id in the extension {"url":<url>,"valueReference":{"reference":...,"type":...,
// "identifier":{"system":<HSA-id system>,"value":<HSA-id>}}} as the projection writes it.
std::string_view ExtensionHsaId(std::string_view json, std::string_view url) {
  std::string marker = std::string(R"("url":")");
  marker.append(url).append(R"(","valueReference":{)");
  static constexpr std::string_view kValue = R"("value":")";
  const void* hit = ::memmem(json.data(), json.size(), marker.data(), marker.size());
  if (hit == nullptr) return {};
  const size_t value = json.find(kValue, static_cast<const char*>(hit) - json.data());
  if (value == std::string_view::npos) return {};
  const size_t at = value + kValue.size();
  const size_t end = json.find('"', at);
  if (end == std::string_view::npos) return {};
  return json.substr(at, end - at);
}

}  // namespace

DataOwner DataOwnerOf(std::string_view json) {
  DataOwner owner{.organization = ExtensionHsaId(json, kDataOwnerExtension)};
  if (!owner.organization.empty()) owner.unit = ExtensionHsaId(json, kDataOwnerUnitExtension);
  return owner;
}

}  // namespace carehub::fhir
