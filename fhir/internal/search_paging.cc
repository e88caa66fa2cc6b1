#include "fhir/internal/search_paging.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/strings.h"

namespace carehub::fhir::internal {
namespace {

absl::StatusOr<size_t> ParseCount(std::string_view name, std::string_view value) {
  uint64_t n = 0;
  if (value.empty() || value.size() > 9 || !absl::SimpleAtoi(Sv(value), &n) ||
      value.find_first_not_of("0123456789") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(name), ": '", Sv(value), "' is not a non-negative integer"));
  }
  return static_cast<size_t>(n);
}

std::string WithPage(const SearchParams& applied, const std::string& cursor, size_t offset) {
  std::string out = EncodeParams(applied);
  if (cursor.empty()) return out;
  return absl::StrCat(out, out.empty() ? "" : "&", "_cursor=", cursor, "&_offset=", offset);
}

}  // namespace

bool IsRenderingParam(std::string_view name) {
  return name == "_format" || name == "_pretty" || name == "_elements";
}

absl::Status Unsupported(std::string_view name, std::string_view why,
                         const SearchOptions& options, std::vector<std::string>& ignored) {
  std::string line = absl::StrCat(Sv(name), ": ", Sv(why));
  if (options.strict) return absl::InvalidArgumentError(line);
  ignored.push_back(std::move(line));
  return absl::OkStatus();
}

absl::StatusOr<bool> ParsePagingParam(std::string_view name, std::string_view value,
                                      const SearchOptions& options, Paging& paging) {
  if (name == "_count") {
    absl::StatusOr<size_t> n = ParseCount(name, value);
    if (!n.ok()) return n.status();
    paging.count = std::min(*n, options.max_count);
    return true;
  }
  if (name == "_offset") {
    absl::StatusOr<size_t> n = ParseCount(name, value);
    if (!n.ok()) return n.status();
    paging.offset = *n;
    return true;
  }
  if (name == "_cursor") {
    if (value.empty() || value.size() > 64 ||
        value.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
      return absl::FailedPreconditionError("the page cursor is not one this server issued");
    }
    paging.cursor = std::string(value);
    return true;
  }
  return false;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == ',') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string EncodeParams(const SearchParams& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    absl::StrAppend(&out, out.empty() ? "" : "&", UrlEncode(name), "=", UrlEncode(value));
  }
  return out;
}

void SetLinks(const SearchParams& applied, const Paging& paging, const std::string& cursor,
              size_t total, bool has_more, SearchPage& page) {
  page.self_params = paging.cursor.empty() && paging.offset == 0
                         ? EncodeParams(applied)
                         : WithPage(applied, cursor, paging.offset);
  page.first_params = WithPage(applied, cursor, 0);
  page.next_params.clear();
  page.previous_params.clear();
  if (paging.count > 0 && (has_more || paging.offset + paging.count < total)) {
    page.next_params = WithPage(applied, cursor, paging.offset + paging.count);
  }
  if (paging.offset > 0 && !cursor.empty()) {
    page.previous_params =
        WithPage(applied, cursor, paging.offset > paging.count ? paging.offset - paging.count : 0);
  }
}

}  // namespace carehub::fhir::internal
