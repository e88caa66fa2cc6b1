// Moments, heads, reading a patient's stream and the patient's history (see audit.h).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "carehub/audit/audit.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "carehub/care/v1/events.pb.h"

namespace carehub::audit {
namespace {

constexpr char kCareEventTypePrefix[] = "carehub.care.v1.";
// Events read per ReadStream call; the store caps it and may return fewer.
constexpr size_t kPage = 1000;

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool Within(const eventstore::RecordedEvent& event, const Moment& moment) {
  if (moment.position.has_value()) return event.position <= *moment.position;
  return event.recorded_at <= moment.time;
}

// JSON string literal for FormatHistoryJsonLines: the values are ids and codes, but a source
// system name may carry anything.
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

std::string OrDash(const std::string& s) { return s.empty() ? std::string("-") : s; }

}  // namespace

absl::StatusOr<Moment> ParseMoment(std::string_view text) {
  Moment moment;
  if (AllDigits(text)) {
    uint64_t position = 0;
    if (!absl::SimpleAtoi(Sv(text), &position)) {
      return absl::InvalidArgumentError("position is out of range");
    }
    moment.position = position;
    return moment;
  }
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, Sv(text), &moment.time, &error)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", Sv(text), "\" is neither a log position nor an RFC 3339 time such as "
        "2026-03-01T10:00:00Z or 2026-03-01T11:00:00+01:00"));
  }
  return moment;
}

std::string FormatMoment(const Moment& moment) {
  if (moment.position.has_value()) return absl::StrCat("position ", *moment.position);
  return FormatInstant(moment.time);
}

absl::Status CheckMomentInLog(eventstore::EventStore& store, const Moment& moment) {
  ASSIGN_OR_RETURN(const eventstore::LogHead head, store.Head());
  if (!head.position.has_value()) return absl::OutOfRangeError("the log is empty");
  if (moment.position.has_value()) {
    if (*moment.position > *head.position) {
      return absl::OutOfRangeError(absl::StrCat("position ", *moment.position,
                                                " is past the head of the log (position ",
                                                *head.position, ")"));
    }
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(eventstore::ReadAllResult first, store.ReadAll({.from_position = 0, .limit = 1}));
  if (first.events.empty()) return absl::OutOfRangeError("the log is empty");
  if (moment.time < first.events.front().recorded_at) {
    return absl::OutOfRangeError(absl::StrCat("time ", FormatInstant(moment.time),
                                              " is before the log began (its first event was "
                                              "recorded at ",
                                              FormatInstant(first.events.front().recorded_at), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<eventstore::LogHead> ParseLogHead(std::string_view text) {
  const size_t colon = text.find(':');
  eventstore::LogHead head;
  uint64_t position = 0;
  if (colon == std::string_view::npos || !AllDigits(text.substr(0, colon)) ||
      !absl::SimpleAtoi(Sv(text.substr(0, colon)), &position)) {
    return absl::InvalidArgumentError("a head is POSITION:HASH, e.g. 41:9f86d0...(64 hex digits)");
  }
  std::optional<eventstore::Hash> hash = eventstore::HashFromHex(text.substr(colon + 1));
  if (!hash.has_value()) {
    return absl::InvalidArgumentError("the hash of a head is 64 hex digits");
  }
  head.position = position;
  head.hash = *hash;
  return head;
}

std::string FormatLogHead(const eventstore::LogHead& head) {
  if (!head.position.has_value()) return "empty";
  return absl::StrCat(*head.position, ":", eventstore::HashToHex(head.hash));
}

std::string FormatInstant(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

std::string PatientStreamId(std::string_view patient_id) {
  return absl::StrCat("patient-", Sv(patient_id));
}

absl::StatusOr<std::vector<eventstore::RecordedEvent>> ReadPatientStream(
    eventstore::EventStore& store, std::string_view patient_id,
    const std::optional<Moment>& moment) {
  std::vector<eventstore::RecordedEvent> events;
  uint64_t next = 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<eventstore::RecordedEvent> page,
                     store.ReadStream({.stream_id = PatientStreamId(patient_id),
                                       .from_version = next,
                                       .limit = kPage}));
    if (page.empty()) break;
    next = page.back().version + 1;
    for (eventstore::RecordedEvent& event : page) {
      if (moment.has_value() && !Within(event, *moment)) return events;
      events.push_back(std::move(event));
    }
  }
  if (events.empty() && next == 0) return absl::NotFoundError("unknown patient");
  return events;
}

absl::StatusOr<std::vector<HistoryEntry>> PatientHistory(eventstore::EventStore& store,
                                                         std::string_view patient_id) {
  ASSIGN_OR_RETURN(std::vector<eventstore::RecordedEvent> events,
                   ReadPatientStream(store, patient_id));
  std::vector<HistoryEntry> history;
  history.reserve(events.size());
  for (const eventstore::RecordedEvent& event : events) {
    HistoryEntry entry{.recorded_at = event.recorded_at,
                       .position = event.position,
                       .version = event.version,
                       .event_id = event.event_id,
                       .event_type = std::string(absl::StripPrefix(event.type, kCareEventTypePrefix))};
    care::v1::CareEvent care_event;
    if (absl::StartsWith(event.type, kCareEventTypePrefix)) {
      if (!care_event.ParseFromString(event.data)) {
        return absl::DataLossError(
            absl::StrCat("event at position ", event.position, " is not a CareEvent"));
      }
      entry.source_system = care_event.source().system();
      entry.organisation_hsa_id = care_event.source().organisation_hsa_id();
      entry.author_hsa_id = care_event.source().author().hsa_id();
    }
    history.push_back(std::move(entry));
  }
  return history;
}

std::string FormatHistoryTable(const std::vector<HistoryEntry>& history) {
  std::string out = absl::StrFormat("%-27s %10s %4s %-36s %-24s %-28s %s\n", "RECORDED_AT",
                                    "POSITION", "VER", "EVENT", "SOURCE_SYSTEM", "ORGANISATION",
                                    "AUTHOR");
  for (const HistoryEntry& e : history) {
    absl::StrAppend(&out, absl::StrFormat("%-27s %10d %4d %-36s %-24s %-28s %s\n",
                                          FormatInstant(e.recorded_at), e.position, e.version,
                                          e.event_type, OrDash(e.source_system),
                                          OrDash(e.organisation_hsa_id), OrDash(e.author_hsa_id)));
  }
  return out;
}

std::string FormatHistoryJsonLines(const std::vector<HistoryEntry>& history) {
  std::string out;
  for (const HistoryEntry& e : history) {
    absl::StrAppend(&out, "{\"recorded_at\":", JsonString(FormatInstant(e.recorded_at)),
                    ",\"position\":", e.position, ",\"version\":", e.version,
                    ",\"event_id\":", JsonString(e.event_id),
                    ",\"event_type\":", JsonString(e.event_type),
                    ",\"source_system\":", JsonString(e.source_system),
                    ",\"organisation_hsa_id\":", JsonString(e.organisation_hsa_id),
                    ",\"author_hsa_id\":", JsonString(e.author_hsa_id), "}\n");
  }
  return out;
}

}  // namespace carehub::audit
