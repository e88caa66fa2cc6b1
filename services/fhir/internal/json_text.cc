#include "services/fhir/internal/json_text.h"

#include <cstdio>

namespace carehub::services::fhir_api {
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

// Length of the well-formed UTF-8 sequence at s[i], or 0 if it is not one.
static size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t n = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b <= 0xDF ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

void AppendJsonQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      // Client text echoed in a diagnostic may be any bytes; the response must stay UTF-8.
      const size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        out->append("\\ufffd");
      } else {
        out->append(s.substr(i, n));
        i += n - 1;
      }
      continue;
    }
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

std::string JsonQuote(std::string_view s) {
  std::string out;
  AppendJsonQuoted(s, &out);
  return out;
}

}  // namespace carehub::services::fhir_api
