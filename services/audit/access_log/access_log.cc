#include "carehub/audit/access_log.h"

#include <algorithm>
#include <cctype>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "nlohmann/json.hpp"

namespace carehub::audit {
namespace {

using Json = nlohmann::json;

// Event ids only make appends idempotent; an access entry is never retried with the same id, so
// a random 128-bit id suffices.
std::string NewEventId() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return absl::StrFormat("access-%016x%016x", random(), random());
}

std::vector<std::string> IndexKeys(const AccessEntry& entry) {
  std::vector<std::string> keys;
  for (const std::string& patient : entry.patients) keys.push_back(absl::StrCat("patient:", patient));
  const AccessAgent& a = entry.agent;
  if (a.anonymous()) keys.push_back("agent:anonymous");
  for (const std::string* id : {&a.user_hsa_id, &a.organization_hsa_id, &a.care_unit_hsa_id}) {
    if (!id->empty() && std::find(keys.begin(), keys.end(), absl::StrCat("agent:", *id)) == keys.end()) {
      keys.push_back(absl::StrCat("agent:", *id));
    }
  }
  return keys;
}

bool Matches(const AccessEntry& entry, const AccessQuery& query) {
  if (entry.recorded < query.from || entry.recorded >= query.to) return false;
  if (query.patient.has_value() &&
      !std::binary_search(entry.patients.begin(), entry.patients.end(), *query.patient)) {
    return false;
  }
  if (query.agent.has_value()) {
    const AccessAgent& a = entry.agent;
    const std::string& q = *query.agent;
    if (q == "anonymous" ? !a.anonymous()
                         : (q != a.user_hsa_id && q != a.organization_hsa_id && q != a.care_unit_hsa_id)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string EncodeAccessEntry(const AccessEntry& entry) {
  Json resources = Json::array();
  for (const AccessedResource& r : entry.resources) resources.push_back({r.type, r.id, r.version});
  Json json = {{"user", entry.agent.user_hsa_id},
               {"organization", entry.agent.organization_hsa_id},
               {"care_unit", entry.agent.care_unit_hsa_id},
               {"interaction", entry.interaction},
               {"operation", entry.operation},
               {"type", entry.resource_type},
               {"status", entry.status},
               {"patients", entry.patients},
               {"resources", std::move(resources)}};
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

absl::StatusOr<AccessEntry> DecodeAccessEntry(const eventstore::RecordedEvent& event) {
  auto bad = [&](std::string_view why) {
    return absl::DataLossError(absl::StrCat("access entry at position ", event.position, ": ", Sv(why)));
  };
  if (event.type != kAccessEventType) return bad(absl::StrCat("unexpected event type ", event.type));
  Json json = Json::parse(event.data, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return bad("not a JSON object");
  AccessEntry entry;
  entry.position = event.position;
  entry.recorded = event.recorded_at;
  auto str = [&](const char* name, std::string* out) {
    auto it = json.find(name);
    if (it == json.end() || !it->is_string()) return false;
    *out = it->get<std::string>();
    return true;
  };
  if (!str("user", &entry.agent.user_hsa_id) || !str("organization", &entry.agent.organization_hsa_id) ||
      !str("care_unit", &entry.agent.care_unit_hsa_id) || !str("interaction", &entry.interaction) ||
      !str("operation", &entry.operation) || !str("type", &entry.resource_type)) {
    return bad("a string member is missing");
  }
  auto status = json.find("status");
  auto patients = json.find("patients");
  auto resources = json.find("resources");
  if (status == json.end() || !status->is_number_integer() || patients == json.end() || !patients->is_array() ||
      resources == json.end() || !resources->is_array()) {
    return bad("status, patients or resources is missing");
  }
  entry.status = status->get<int>();
  for (const Json& p : *patients) {
    if (!p.is_string()) return bad("a patient is not a string");
    entry.patients.push_back(p.get<std::string>());
  }
  for (const Json& r : *resources) {
    if (!r.is_array() || r.size() != 3 || !r[0].is_string() || !r[1].is_string() || !r[2].is_number_unsigned()) {
      return bad("a resource is not [type, id, version]");
    }
    entry.resources.push_back({r[0].get<std::string>(), r[1].get<std::string>(), r[2].get<uint64_t>()});
  }
  return entry;
}

void PatientsReferencedBy(std::string_view resource_type, std::string_view id, std::string_view json,
                          std::vector<std::string>* out) {
  if (resource_type == "Patient" && !id.empty()) out->emplace_back(id);
  static constexpr std::string_view kMarker = "\"reference\":\"Patient/";
  for (size_t at = json.find(kMarker); at != std::string_view::npos; at = json.find(kMarker, at)) {
    at += kMarker.size();
    size_t end = at;
    // FHIR ids: [A-Za-z0-9.-]; a "/_history/n" suffix or the closing quote ends it.
    while (end < json.size() && (std::isalnum(static_cast<unsigned char>(json[end])) || json[end] == '-' ||
                                 json[end] == '.')) {
      ++end;
    }
    if (end > at) out->emplace_back(json.substr(at, end - at));
    at = end;
  }
}

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(const AccessLogOptions& options) {
  // One index key per patient: a search page of _count=1000 with its includes can name
  // thousands, and a read that cannot be logged is not served.
  eventstore::Limits limits;
  limits.max_index_keys = kMaxIndexKeys;
  ASSIGN_OR_RETURN(std::unique_ptr<eventstore::EventStore> store,
                   eventstore::EventStore::Open(
                       {.path = options.path, .clock = options.clock, .limits = limits,
                        // Lookups go through the index; a small cache and ring suit a log that is
                        // written far more than it is read.
                        .recent_events_capacity = 1024, .block_cache_bytes = 32u << 20,
                        .read_only = options.read_only,
                        // Entries are never resent (NewEventId): no idempotency index to keep.
                        .index_event_ids = false}));
  return std::make_unique<AccessLog>(std::move(store));
}

AccessLog::AccessLog(std::unique_ptr<eventstore::EventStore> store) : store_(std::move(store)) {}

AccessLog::~AccessLog() = default;

void AccessLog::RecordAsync(const AccessEntry& entry, RecordCallback done) {
  AccessEntry sorted = entry;
  std::sort(sorted.patients.begin(), sorted.patients.end());
  sorted.patients.erase(std::unique(sorted.patients.begin(), sorted.patients.end()), sorted.patients.end());
  eventstore::ProposedEvent event{.event_id = NewEventId(),
                                  .type = kAccessEventType,
                                  .data = EncodeAccessEntry(sorted),
                                  .index_keys = IndexKeys(sorted)};
  std::vector<eventstore::ProposedEvent> events;
  events.push_back(std::move(event));
  store_->AppendAsync(kAccessStream, eventstore::ExpectedVersion::Any(), std::move(events),
                      [done = std::move(done)](absl::StatusOr<eventstore::AppendResult> result) {
                        if (!result.ok()) return done(result.status());
                        done(result->first_position);
                      });
}

absl::StatusOr<uint64_t> AccessLog::Record(const AccessEntry& entry) {
  absl::Notification finished;
  absl::StatusOr<uint64_t> out;
  RecordAsync(entry, [&](absl::StatusOr<uint64_t> position) {
    out = std::move(position);
    finished.Notify();
  });
  finished.WaitForNotification();
  return out;
}

absl::StatusOr<AccessEntry> AccessLog::Get(uint64_t position) {
  ASSIGN_OR_RETURN(eventstore::ReadAllResult r, store_->ReadAll({.from_position = position, .limit = 1}));
  if (r.events.empty() || r.events[0].position != position || r.events[0].type != kAccessEventType) {
    return absl::NotFoundError(absl::StrCat("no access entry ", position));
  }
  return DecodeAccessEntry(r.events[0]);
}

absl::StatusOr<AccessPage> AccessLog::Find(const AccessQuery& query) {
  if (query.limit == 0) return absl::InvalidArgumentError("the limit must be at least 1");
  // The narrowest index the query allows; without patient or agent, the log itself.
  std::optional<std::string> index;
  if (query.patient.has_value()) {
    index = absl::StrCat("patient:", *query.patient);
  } else if (query.agent.has_value()) {
    index = absl::StrCat("agent:", *query.agent);
  }
  AccessPage page;
  std::optional<uint64_t> from;
  if (query.before.has_value()) {
    if (*query.before == 0) return page;
    from = *query.before - 1;
  }
  constexpr size_t kChunk = 256;
  for (;;) {
    eventstore::ReadAllResult chunk;
    if (index.has_value()) {
      ASSIGN_OR_RETURN(chunk, store_->ReadIndex({.index_key = *index, .from_position = from, .backwards = true,
                                                 .limit = kChunk}));
    } else {
      ASSIGN_OR_RETURN(chunk, store_->ReadAll({.from_position = from, .backwards = true, .limit = kChunk,
                                               .event_types = {kAccessEventType}}));
    }
    for (const eventstore::RecordedEvent& event : chunk.events) {
      // Newest first, and recorded times follow positions: nothing older can match.
      if (event.recorded_at < query.from) return page;
      ASSIGN_OR_RETURN(AccessEntry entry, DecodeAccessEntry(event));
      if (!Matches(entry, query)) continue;
      if (page.entries.size() == query.limit) {
        page.next_before = page.entries.back().position;
        return page;
      }
      page.entries.push_back(std::move(entry));
    }
    if (!chunk.next_position.has_value()) return page;
    from = chunk.next_position;
  }
}

}  // namespace carehub::audit
