#include "services/fhir/internal/request_text.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "carehub/base/strings.h"

namespace carehub::services::fhir_api {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> FormDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      const int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
      const int lo = hi >= 0 ? HexValue(s[i + 2]) : -1;
      if (lo < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("malformed percent-escape in the query at \"",
                         Sv(s.substr(i, 3)), "\""));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

enum class MediaMatch { kNone, kFhirJson, kJson, kAny };

// One media range of an Accept header or a _format value.
MediaMatch MatchMedia(absl::string_view range, bool* wrong_fhir_version) {
  std::vector<absl::string_view> parts = absl::StrSplit(range, ';');
  const std::string type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
  for (size_t i = 1; i < parts.size(); ++i) {
    absl::string_view p = absl::StripAsciiWhitespace(parts[i]);
    if (absl::StartsWithIgnoreCase(p, "fhirVersion=")) {
      absl::string_view v = absl::StripAsciiWhitespace(p.substr(12));
      if (v != "4.0" && v != "4.0.1") *wrong_fhir_version = true;
    }
    if (absl::StartsWithIgnoreCase(p, "q=")) {
      absl::string_view q = absl::StripAsciiWhitespace(p.substr(2));
      if (q == "0" || q == "0.0" || q == "0.00" || q == "0.000") return MediaMatch::kNone;
    }
  }
  if (type == "application/fhir+json" || type == "application/json+fhir" || type == "json") {
    return MediaMatch::kFhirJson;
  }
  if (type == "application/json") return MediaMatch::kJson;
  if (type == "*/*" || type == "application/*") return MediaMatch::kAny;
  return MediaMatch::kNone;
}

constexpr char kFhirJson[] = "application/fhir+json;charset=utf-8";
constexpr char kJson[] = "application/json;charset=utf-8";

}  // namespace

absl::StatusOr<fhir::SearchParams> ParseQuery(std::string_view query) {
  fhir::SearchParams params;
  for (absl::string_view pair : absl::StrSplit(Sv(query), '&')) {
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    absl::StatusOr<std::string> name = FormDecode({pair.data(), std::min(eq, pair.size())});
    if (!name.ok()) return name.status();
    std::string value;
    if (eq != absl::string_view::npos) {
      absl::StatusOr<std::string> v = FormDecode({pair.data() + eq + 1, pair.size() - eq - 1});
      if (!v.ok()) return v.status();
      value = *std::move(v);
    }
    if (name->empty()) return absl::InvalidArgumentError("a query parameter without a name");
    params.emplace_back(*std::move(name), std::move(value));
  }
  return params;
}

std::string QueryEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

Negotiation Negotiate(std::string_view accept, const std::optional<std::string>& format) {
  bool wrong_version = false;
  if (format.has_value()) {
    const MediaMatch m = MatchMedia(Sv(*format), &wrong_version);
    if (m == MediaMatch::kFhirJson || m == MediaMatch::kAny) return {true, kFhirJson, ""};
    if (m == MediaMatch::kJson) return {true, kJson, ""};
    return {false, "", absl::StrCat("_format=", *format,
                                    " is not served: this server speaks FHIR JSON only "
                                    "(_format=json, application/fhir+json)")};
  }
  const absl::string_view header = absl::StripAsciiWhitespace(Sv(accept));
  if (header.empty()) return {true, kFhirJson, ""};
  bool json = false, any = false;
  for (absl::string_view range : absl::StrSplit(header, ',')) {
    switch (MatchMedia(range, &wrong_version)) {
      case MediaMatch::kFhirJson: if (!wrong_version) return {true, kFhirJson, ""}; break;
      case MediaMatch::kJson: json = true; break;
      case MediaMatch::kAny: any = true; break;
      case MediaMatch::kNone: break;
    }
  }
  if (wrong_version) {
    return {false, "", "this server speaks FHIR 4.0 (R4) only; the Accept header asks for another "
                       "fhirVersion"};
  }
  if (json) return {true, kJson, ""};
  if (any) return {true, kFhirJson, ""};
  return {false, "", absl::StrCat("none of the media types in the Accept header (", Sv(accept),
                                  ") is served: this server speaks application/fhir+json")};
}

std::string HttpDate(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", t, absl::UTCTimeZone());
}

std::optional<absl::Time> ParseHttpDate(std::string_view s) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", Sv(s), absl::UTCTimeZone(), &t, &err)) {
    return std::nullopt;
  }
  return t;
}

std::optional<absl::Time> ParseInstant(std::string_view s) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, Sv(s), &t, &err)) return std::nullopt;
  return t;
}

}  // namespace carehub::services::fhir_api
