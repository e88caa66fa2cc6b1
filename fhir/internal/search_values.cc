#include "fhir/internal/search_values.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "fhir/internal/search_path.h"

namespace carehub::fhir::internal {
namespace {

// Reads `n` decimal digits at `pos`; -1 if they are not all digits.
int Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

template <typename JsonT>
void AppendRangeOf(const JsonT& node, std::vector<DateRange>& out) {
  if (node.is_string()) {
    if (auto r = ParseDateRange(node.template get_ref<const std::string&>())) out.push_back(*r);
  }
}

// A string leaf of a complex type is searchable text unless it is a code or a technical part.
bool IsTextMember(std::string_view key) {
  return key != "use" && key != "type" && key != "id" && key != "system" && key != "url" &&
         key != "reference" && key != "extension" && key != "period";
}

// Appends the UTF-8 bytes of code point `cp`.
void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Latin-1 letters U+00C0..U+00FF folded: the base letter where Unicode decomposes the letter
// (NFD), else the lower-case letter itself (æ, ø, ð, þ, ß), and × ÷ unchanged.
constexpr char16_t kLatin1Fold[64] = {
    u'a', u'a', u'a', u'a', u'a', u'a', u'æ', u'c', u'e', u'e', u'e', u'e', u'i', u'i', u'i', u'i',
    u'ð', u'n', u'o', u'o', u'o', u'o', u'o', u'×', u'ø', u'u', u'u', u'u', u'u', u'y', u'þ', u'ß',
    u'a', u'a', u'a', u'a', u'a', u'a', u'æ', u'c', u'e', u'e', u'e', u'e', u'i', u'i', u'i', u'i',
    u'ð', u'n', u'o', u'o', u'o', u'o', u'o', u'÷', u'ø', u'u', u'u', u'u', u'u', u'y', u'þ', u'y'};

}  // namespace

std::optional<DateRange> ParseDateRange(std::string_view s) {
  const int year = Digits(s, 0, 4);
  if (year < 0) return std::nullopt;
  if (s.size() == 4) {
    return DateRange{Micros(absl::FromCivil(absl::CivilYear(year), absl::UTCTimeZone())),
                     Micros(absl::FromCivil(absl::CivilYear(year + 1), absl::UTCTimeZone()))};
  }
  if (s[4] != '-') return std::nullopt;
  const int month = Digits(s, 5, 2);
  if (month < 1 || month > 12) return std::nullopt;
  if (s.size() == 7) {
    absl::CivilMonth m(year, month);
    return DateRange{Micros(absl::FromCivil(m, absl::UTCTimeZone())),
                     Micros(absl::FromCivil(m + 1, absl::UTCTimeZone()))};
  }
  if (s[7] != '-') return std::nullopt;
  const int day = Digits(s, 8, 2);
  if (day < 1 || day > 31) return std::nullopt;
  absl::CivilDay d(year, month, day);
  if (d.day() != day) return std::nullopt;  // 2026-02-30
  if (s.size() == 10) {
    return DateRange{Micros(absl::FromCivil(d, absl::UTCTimeZone())),
                     Micros(absl::FromCivil(d + 1, absl::UTCTimeZone()))};
  }
  if (s[10] != 'T') return std::nullopt;
  const int hour = Digits(s, 11, 2);
  if (hour < 0 || hour > 23 || s.size() < 16 || s[13] != ':') return std::nullopt;
  const int minute = Digits(s, 14, 2);
  if (minute < 0 || minute > 59) return std::nullopt;
  size_t pos = 16;
  int second = 0;
  int64_t width = 60'000'000;  // the precision: a minute, a second or a fraction of it
  int64_t fraction = 0;
  if (pos < s.size() && s[pos] == ':') {
    second = Digits(s, pos + 1, 2);
    if (second < 0 || second > 60) return std::nullopt;
    pos += 3;
    width = 1'000'000;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      size_t digits = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (digits < 6) {
          fraction = fraction * 10 + (s[pos] - '0');
          width /= 10;
        }
        ++digits;
        ++pos;
      }
      if (digits == 0) return std::nullopt;
      fraction *= width;
    }
  }
  int64_t offset_seconds = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' && pos + 1 == s.size()) {
      // UTC
    } else if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
      const int oh = Digits(s, pos + 1, 2);
      const int om = Digits(s, pos + 4, 2);
      if (oh < 0 || om < 0 || oh > 14 || om > 59) return std::nullopt;
      offset_seconds = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    } else {
      return std::nullopt;
    }
  }
  const absl::CivilSecond civil(year, month, day, hour, minute, second);
  const int64_t low = Micros(absl::FromCivil(civil, absl::UTCTimeZone())) -
                      offset_seconds * 1'000'000 + fraction;
  return DateRange{low, low + width};
}

template <typename JsonT>
void AppendTokens(const JsonT& node, std::vector<Token>& out) {
  if (node.is_string()) {
    out.push_back({std::nullopt, node.template get<std::string>()});
  } else if (node.is_boolean()) {
    out.push_back({std::nullopt, node.template get<bool>() ? "true" : "false"});
  } else if (node.is_object()) {
    if (auto coding = node.find("coding"); coding != node.end() && coding->is_array()) {
      for (const JsonT& c : *coding) AppendTokens(c, out);  // CodeableConcept
      return;
    }
    // Coding (system, code); Identifier and ContactPoint (system, value).
    const auto system = node.find("system");
    auto code = node.find("code");
    if (code == node.end()) code = node.find("value");
    if (code == node.end() || !code->is_string()) return;
    out.push_back({system != node.end() && system->is_string()
                       ? std::optional<std::string>(system->template get<std::string>())
                       : std::optional<std::string>(""),
                   code->template get<std::string>()});
  }
}

template <typename JsonT>
void AppendReferences(const JsonT& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    auto ref = node.find("reference");
    if (ref == node.end() || !ref->is_string()) return;
    std::string normalized = NormalizeReference(ref->template get_ref<const std::string&>());
    if (!normalized.empty()) out.push_back(std::move(normalized));
  } else if (node.is_string()) {  // canonical
    std::string normalized = NormalizeReference(node.template get_ref<const std::string&>());
    if (!normalized.empty()) out.push_back(std::move(normalized));
  }
}

template <typename JsonT>
void AppendDateRanges(const JsonT& node, std::vector<DateRange>& out) {
  if (node.is_string()) {
    AppendRangeOf(node, out);
    return;
  }
  if (!node.is_object()) return;
  if (node.contains("start") || node.contains("end")) {  // Period
    DateRange r;
    std::vector<DateRange> start;
    std::vector<DateRange> end;
    if (auto it = node.find("start"); it != node.end()) AppendRangeOf(*it, start);
    if (auto it = node.find("end"); it != node.end()) AppendRangeOf(*it, end);
    if (!start.empty()) r.low = start[0].low;
    if (!end.empty()) r.high = end[0].high;
    out.push_back(r);
    return;
  }
  // Timing: from its first event or bounds start to its last event or bounds end.
  std::vector<DateRange> parts;
  if (auto events = node.find("event"); events != node.end() && events->is_array()) {
    for (const JsonT& e : *events) AppendRangeOf(e, parts);
  }
  if (auto repeat = node.find("repeat"); repeat != node.end() && repeat->is_object()) {
    if (auto bounds = repeat->find("boundsPeriod"); bounds != repeat->end()) {
      AppendDateRanges(*bounds, parts);
    }
  }
  if (parts.empty()) return;
  DateRange r{kMaxTime, kMinTime};
  for (const DateRange& p : parts) {
    r.low = std::min(r.low, p.low);
    r.high = std::max(r.high, p.high);
  }
  out.push_back(r);
}

template <typename JsonT>
void AppendStrings(const JsonT& node, std::vector<std::string>& out) {
  if (node.is_string()) {
    out.push_back(node.template get<std::string>());
  } else if (node.is_array()) {
    for (const JsonT& e : node) AppendStrings(e, out);
  } else if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (IsTextMember(it.key())) AppendStrings(it.value(), out);
    }
  }
}

std::string NormalizeForSearch(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    uint32_t cp = c;
    size_t len = 1;
    if (c >= 0xF0 && i + 3 < text.size()) {
      cp = ((c & 0x07) << 18) | ((text[i + 1] & 0x3F) << 12) | ((text[i + 2] & 0x3F) << 6) |
           (text[i + 3] & 0x3F);
      len = 4;
    } else if (c >= 0xE0 && i + 2 < text.size()) {
      cp = ((c & 0x0F) << 12) | ((text[i + 1] & 0x3F) << 6) | (text[i + 2] & 0x3F);
      len = 3;
    } else if (c >= 0xC0 && i + 1 < text.size()) {
      cp = ((c & 0x1F) << 6) | (text[i + 1] & 0x3F);
      len = 2;
    }
    i += len;
    if (cp >= 'A' && cp <= 'Z') {
      cp = cp - 'A' + 'a';
    } else if (cp >= 0xC0 && cp <= 0xFF) {
      cp = kLatin1Fold[cp - 0xC0];
    } else if (cp >= 0x300 && cp <= 0x36F) {
      continue;  // a combining accent of decomposed text
    }
    AppendUtf8(cp, out);
  }
  return out;
}

template void AppendTokens(const nlohmann::json&, std::vector<Token>&);
template void AppendReferences(const nlohmann::json&, std::vector<std::string>&);
template void AppendDateRanges(const nlohmann::json&, std::vector<DateRange>&);
template void AppendStrings(const nlohmann::json&, std::vector<std::string>&);
template void AppendTokens(const nlohmann::ordered_json&, std::vector<Token>&);
template void AppendReferences(const nlohmann::ordered_json&, std::vector<std::string>&);
template void AppendDateRanges(const nlohmann::ordered_json&, std::vector<DateRange>&);
template void AppendStrings(const nlohmann::ordered_json&, std::vector<std::string>&);

}  // namespace carehub::fhir::internal
