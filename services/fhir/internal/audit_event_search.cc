#include "services/fhir/internal/audit_event_search.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "carehub/audit/audit_event.h"
#include "carehub/base/strings.h"
#include "services/fhir/internal/request_text.h"

namespace carehub::services::fhir_api {
namespace {

bool ValidIdText(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

// The interval [start, end) a FHIR date/dateTime value spans at its precision.
std::optional<std::pair<absl::Time, absl::Time>> DateInterval(std::string_view value) {
  absl::Time t;
  std::string err;
  const std::string v(value);
  const absl::TimeZone utc = absl::UTCTimeZone();
  auto civil = [&](const char* format, absl::Duration span) -> std::optional<std::pair<absl::Time, absl::Time>> {
    if (!absl::ParseTime(format, v, utc, &t, &err)) return std::nullopt;
    return std::make_pair(t, t + span);
  };
  if (value.size() == 4) {
    if (!absl::ParseTime("%Y", v, utc, &t, &err)) return std::nullopt;
    const absl::CivilYear year = absl::ToCivilYear(t, utc);
    return std::make_pair(t, absl::FromCivil(year + 1, utc));
  }
  if (value.size() == 7) {
    if (!absl::ParseTime("%Y-%m", v, utc, &t, &err)) return std::nullopt;
    const absl::CivilMonth month = absl::ToCivilMonth(t, utc);
    return std::make_pair(t, absl::FromCivil(month + 1, utc));
  }
  if (value.size() == 10) return civil("%Y-%m-%d", absl::Hours(24));
  // A dateTime: with seconds (and maybe fractions) it is that instant's second, else the minute.
  if (absl::ParseTime(absl::RFC3339_full, v, &t, &err)) {
    const bool fraction = value.find('.') != std::string_view::npos;
    return std::make_pair(t, fraction ? t + absl::Microseconds(1) : t + absl::Seconds(1));
  }
  if (absl::ParseTime("%Y-%m-%dT%H:%M%Ez", v, &t, &err)) return std::make_pair(t, t + absl::Minutes(1));
  return std::nullopt;
}

absl::Status ApplyDate(std::string_view value, audit::AccessQuery* query) {
  std::string_view prefix = "eq";
  if (value.size() > 2 && absl::ascii_isalpha(static_cast<unsigned char>(value[0])) &&
      absl::ascii_isalpha(static_cast<unsigned char>(value[1]))) {
    prefix = value.substr(0, 2);
    value.remove_prefix(2);
  }
  std::optional<std::pair<absl::Time, absl::Time>> span = DateInterval(value);
  if (!span.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("date: '", Sv(value), "' is not a FHIR date or dateTime"));
  }
  auto raise_from = [&](absl::Time t) { query->from = std::max(query->from, t); };
  auto lower_to = [&](absl::Time t) { query->to = std::min(query->to, t); };
  if (prefix == "eq") {
    raise_from(span->first);
    lower_to(span->second);
  } else if (prefix == "ge") {
    raise_from(span->first);
  } else if (prefix == "gt") {
    raise_from(span->second);
  } else if (prefix == "lt") {
    lower_to(span->first);
  } else if (prefix == "le") {
    lower_to(span->second);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("date: prefix '", Sv(prefix),
                                                   "' is not supported (eq, ge, gt, le, lt are)"));
  }
  return absl::OkStatus();
}

}  // namespace

const fhir::ResourceSearchDef& AuditEventSearchDefinition() {
  static const fhir::ResourceSearchDef* const def = new fhir::ResourceSearchDef{
      .type = "AuditEvent",
      .params =
          {{.name = "patient",
            .type = fhir::SearchParamType::kReference,
            .definition = "http://hl7.org/fhir/SearchParameter/AuditEvent-patient",
            .expression = "AuditEvent.entity.what.where(resolve() is Patient)",
            .documentation = "Accesses whose response held this patient's data: a Patient id or "
                             "Patient/<id>.",
            .targets = {"Patient"}},
           {.name = "agent",
            .type = fhir::SearchParamType::kReference,
            .definition = "http://hl7.org/fhir/SearchParameter/AuditEvent-agent",
            .expression = "AuditEvent.agent.who",
            .documentation = "Accesses by this user, care unit or organisation: an HSA-id, optionally "
                             "urn:oid:1.2.752.29.4.19|<HSA-id>; 'anonymous' for requests without the "
                             "X-Carehub-User/-Organization/-Care-Unit headers.",
            .targets = {"Practitioner", "Organization"}},
           {.name = "date",
            .type = fhir::SearchParamType::kDate,
            .definition = "http://hl7.org/fhir/SearchParameter/AuditEvent-date",
            .expression = "AuditEvent.recorded",
            .documentation = "When the access was recorded; prefixes eq, ge, gt, le, lt; date-only values "
                             "are UTC days."}},
  };
  return *def;
}

absl::StatusOr<AuditEventSearch> ParseAuditEventSearch(const fhir::SearchParams& params,
                                                       const fhir::SearchOptions& options) {
  AuditEventSearch search;
  search.query.limit = options.default_count;
  bool counted = false;
  auto keep = [&](std::string_view name, std::string_view value) {
    if (!search.self_params.empty()) search.self_params.push_back('&');
    absl::StrAppend(&search.self_params, QueryEscape(name), "=", QueryEscape(value));
  };
  for (const auto& [name, value] : params) {
    if (name == "patient") {
      std::string_view id = value;
      if (absl::StartsWith(Sv(id), "Patient/")) id.remove_prefix(8);
      if (!ValidIdText(id)) {
        return absl::InvalidArgumentError("patient: not a patient id (Patient/<id> or <id>)");
      }
      if (search.query.patient.has_value() && *search.query.patient != id) {
        return absl::InvalidArgumentError("patient: given twice with different values");
      }
      search.query.patient = std::string(id);
    } else if (name == "agent") {
      std::string_view hsa = value;
      if (const size_t bar = hsa.find('|'); bar != std::string_view::npos) {
        const std::string_view system = hsa.substr(0, bar);
        if (!system.empty() && system != audit::kHsaIdSystem) {
          return absl::InvalidArgumentError(
              absl::StrCat("agent: only HSA-ids (", audit::kHsaIdSystem, ") identify agents"));
        }
        hsa.remove_prefix(bar + 1);
      }
      if (!ValidIdText(hsa)) return absl::InvalidArgumentError("agent: not an HSA-id");
      if (search.query.agent.has_value() && *search.query.agent != hsa) {
        return absl::InvalidArgumentError("agent: given twice with different values");
      }
      search.query.agent = std::string(hsa);
    } else if (name == "date") {
      if (absl::Status s = ApplyDate(value, &search.query); !s.ok()) return s;
    } else if (name == "_count") {
      size_t count = 0;
      if (!absl::SimpleAtoi(Sv(value), &count) || count == 0) {
        return absl::InvalidArgumentError("_count: not a positive number");
      }
      search.query.limit = std::min(count, options.max_count);
      counted = true;
    } else if (name == "_cursor") {
      uint64_t before = 0;
      if (!absl::SimpleAtoi(Sv(value), &before)) return absl::InvalidArgumentError("_cursor: not a paging token");
      search.query.before = before;
      continue;  // not part of the self link's base
    } else if (name == "_summary" || name == "_elements" || name == "_total") {
      continue;  // rendering parameters: handled (or ignored) by the Bundle
    } else {
      std::string why = absl::StrCat(Sv(name), ": not a supported AuditEvent search parameter "
                                               "(patient, agent, date, _count are)");
      if (options.strict) return absl::InvalidArgumentError(why);
      search.ignored.push_back(std::move(why));
      continue;
    }
    keep(name, value);
  }
  if (!counted) {
    keep("_count", absl::StrCat(search.query.limit));
  }
  return search;
}

}  // namespace carehub::services::fhir_api
