#include "carehub/audit/access_log.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <random>
#include <string_view>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "carehub/base/text.h"
#include "nlohmann/json.hpp"

namespace carehub::audit {
namespace {

using Json = nlohmann::json;

constexpr char kPatientKeyPrefix[] = "patient:";
constexpr char kAgentKeyPrefix[] = "agent:";
// How the stored JSON of an append's first entry begins when it files the append's agents.
constexpr std::string_view kAppendMember = "{\"append\":";

// Event ids only make appends idempotent; an access entry is never retried with the same id, so
// a random 128-bit id suffices.
std::string NewEventId() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return absl::StrCat("access-", absl::Hex(random(), absl::kZeroPad16), absl::Hex(random(), absl::kZeroPad16));
}

std::vector<std::string> IndexKeys(const AccessEntry& entry) {
  std::vector<std::string> keys;
  for (const std::string& patient : entry.patients) {
    keys.push_back(absl::StrCat(kPatientKeyPrefix, patient));
  }
  const AccessAgent& a = entry.agent;
  if (a.anonymous()) keys.push_back(absl::StrCat(kAgentKeyPrefix, "anonymous"));
  for (const std::string* id : {&a.user_hsa_id, &a.organization_hsa_id, &a.care_unit_hsa_id}) {
    if (id->empty()) continue;
    std::string key = absl::StrCat(kAgentKeyPrefix, *id);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  }
  return keys;
}

// An entry's limits, with one index key allowed per patient: a search page of _count=1000 with
// its includes can name thousands, and a read that cannot be logged is not served.
const eventstore::Limits& EntryLimits() {
  static const eventstore::Limits limits = [] {
    eventstore::Limits l;
    l.max_index_keys = kMaxIndexKeys;
    return l;
  }();
  return limits;
}

// The store's: room for the agents of a whole append on its first entry, and for the member
// that says how many entries the append holds (FileAgentsPerAppend).
constexpr size_t kAppendMemberBytes = 32;
const eventstore::Limits& StoreLimits() {
  static const eventstore::Limits limits = [] {
    eventstore::Limits l = EntryLimits();
    l.max_index_keys += 3 * l.max_batch_events;
    l.max_event_bytes += kAppendMemberBytes;
    l.max_batch_bytes += kAppendMemberBytes;
    return l;
  }();
  return limits;
}

// An append's agents are filed once, under its first entry, rather than under each entry: a
// busy log's appends hold tens of reads by the same few users, organisations and care units,
// and each index key is a memtable insert in the store's single writer. That first entry's
// stored JSON then begins with "append":n (sorted first, as EncodeAccessEntry orders members),
// so that a lookup by agent reads the append's n entries from it. A lone entry keeps its own
// agent keys and no member, as every entry did before.
void FileAgentsPerAppend(std::vector<eventstore::ProposedEvent>& events) {
  if (events.size() < 2) return;
  std::vector<std::string> agents;
  for (eventstore::ProposedEvent& event : events) {
    std::vector<std::string>& keys = event.index_keys;
    auto own = std::stable_partition(keys.begin(), keys.end(), [](const std::string& key) {
      return !absl::StartsWith(key, kAgentKeyPrefix);
    });
    agents.insert(agents.end(), std::make_move_iterator(own), std::make_move_iterator(keys.end()));
    keys.erase(own, keys.end());
  }
  std::sort(agents.begin(), agents.end());
  agents.erase(std::unique(agents.begin(), agents.end()), agents.end());
  eventstore::ProposedEvent& first = events.front();
  first.index_keys.insert(first.index_keys.end(), std::make_move_iterator(agents.begin()),
                          std::make_move_iterator(agents.end()));
  first.data.replace(0, 1, absl::StrCat(Sv(kAppendMember), events.size(), ","));
}

// How many entries the append that `event` begins holds, by its "append" member; 1 without one.
absl::StatusOr<uint64_t> AppendEntries(const eventstore::RecordedEvent& event) {
  if (!std::string_view(event.data).starts_with(kAppendMember)) return 1;
  std::string_view digits = std::string_view(event.data).substr(kAppendMember.size());
  digits = digits.substr(0, digits.find(','));
  uint64_t n = 0;
  if (!absl::SimpleAtoi(Sv(digits), &n) || n == 0) {
    return absl::DataLossError(
        absl::StrCat("access entry at position ", event.position, ": a bad append member"));
  }
  return n;
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

// Written by hand rather than through a JSON DOM: it runs on every read the API serves. The
// members are in the order of nlohmann::json's sorted objects, as entries were first written.
std::string EncodeAccessEntry(const AccessEntry& entry) {
  std::string out;
  out.reserve(160 + 48 * entry.patients.size() + 64 * entry.resources.size());
  auto member = [&](std::string_view name, std::string_view value) {
    out.append(name);
    AppendJsonQuoted(value, &out);
  };
  member("{\"care_unit\":", entry.agent.care_unit_hsa_id);
  member(",\"interaction\":", entry.interaction);
  member(",\"operation\":", entry.operation);
  member(",\"organization\":", entry.agent.organization_hsa_id);
  out.append(",\"patients\":[");
  for (size_t i = 0; i < entry.patients.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonQuoted(entry.patients[i], &out);
  }
  out.append("],\"resources\":[");
  for (size_t i = 0; i < entry.resources.size(); ++i) {
    const AccessedResource& r = entry.resources[i];
    out.append(i > 0 ? ",[" : "[");
    AppendJsonQuoted(r.type, &out);
    out.push_back(',');
    AppendJsonQuoted(r.id, &out);
    absl::StrAppend(&out, ",", r.version, "]");
  }
  absl::StrAppend(&out, "],\"status\":", entry.status);
  member(",\"type\":", entry.resource_type);
  member(",\"user\":", entry.agent.user_hsa_id);
  out.push_back('}');
  return out;
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
  // memmem, not string_view::find: find looks for the first byte ('"', in JSON everywhere) and
  // compares from each; glibc's memmem skips through the text.
  for (size_t at = 0; json.size() - at >= kMarker.size();) {
    const void* hit = ::memmem(json.data() + at, json.size() - at, kMarker.data(), kMarker.size());
    if (hit == nullptr) break;
    at = static_cast<const char*>(hit) - json.data() + kMarker.size();
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
  ASSIGN_OR_RETURN(std::unique_ptr<eventstore::EventStore> store,
                   eventstore::EventStore::Open(
                       {.path = options.path, .clock = options.clock, .limits = StoreLimits(),
                        // Lookups go through the index; a small cache and ring suit a log that is
                        // written far more than it is read.
                        .recent_events_capacity = 1024, .block_cache_bytes = 32u << 20,
                        .read_only = options.read_only,
                        // Entries are never resent (NewEventId): no idempotency index to keep.
                        .index_event_ids = false,
                        .thread_prefix = "audit"}));
  return std::make_unique<AccessLog>(std::move(store));
}

AccessLog::AccessLog(std::unique_ptr<eventstore::EventStore> store)
    : owned_store_(std::move(store)), store_(owned_store_.get()) {}

AccessLog::~AccessLog() {
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  // Closing the store answers the append in flight; the batch its completion would send next
  // fails instead. store_ stays valid meanwhile (the completion runs inside this reset).
  owned_store_.reset();
}

void AccessLog::RecordAsync(AccessEntry entry, RecordCallback done) {
  std::vector<std::string>& patients = entry.patients;
  std::sort(patients.begin(), patients.end());
  patients.erase(std::unique(patients.begin(), patients.end()), patients.end());
  eventstore::ProposedEvent event{.event_id = NewEventId(),
                                  .type = kAccessEventType,
                                  .data = EncodeAccessEntry(entry),
                                  .index_keys = IndexKeys(entry)};
  // Checked alone, before it joins a batch: an entry the store would reject must not fail the
  // others of its batch.
  absl::Status valid = eventstore::ValidateEvent(event, EntryLimits());
  if (!valid.ok()) return done(valid);
  Batch batch;
  {
    absl::MutexLock lock(&mu_);
    pending_.bytes += event.data.size();
    pending_.events.push_back(std::move(event));
    pending_.done.push_back(std::move(done));
    if (in_flight_) return;  // the append in flight sends this one when it is durable
    in_flight_ = true;
    batch = TakeBatchLocked();
  }
  Send(std::move(batch));
}

AccessLog::Batch AccessLog::TakeBatchLocked() {
  const eventstore::Limits& limits = EntryLimits();
  if (pending_.events.size() <= limits.max_batch_events && pending_.bytes <= limits.max_batch_bytes) {
    return std::exchange(pending_, {});
  }
  Batch batch;
  size_t n = 0;
  while (n < pending_.events.size() && n < limits.max_batch_events &&
         (n == 0 || batch.bytes + pending_.events[n].data.size() <= limits.max_batch_bytes)) {
    batch.bytes += pending_.events[n].data.size();
    ++n;
  }
  auto take = [n](auto& from, auto& to) {
    to.assign(std::make_move_iterator(from.begin()), std::make_move_iterator(from.begin() + n));
    from.erase(from.begin(), from.begin() + n);
  };
  take(pending_.events, batch.events);
  take(pending_.done, batch.done);
  pending_.bytes -= batch.bytes;
  return batch;
}

// One append holds every entry that arrived while the previous one was being made durable: one
// stream run, one hand-off to the store's writer and one completion for the group instead of
// one per read. At most one append is in flight; its completion sends the next.
void AccessLog::Send(Batch batch) {
  bool closing;
  {
    absl::MutexLock lock(&mu_);
    closing = closing_;
    if (closing) {
      // Nothing will send what still waits: it fails with this batch.
      for (RecordCallback& done : pending_.done) batch.done.push_back(std::move(done));
      pending_ = {};
      in_flight_ = false;
    }
  }
  if (closing) {
    for (RecordCallback& done : batch.done) done(absl::UnavailableError("the access log is closing"));
    return;
  }
  FileAgentsPerAppend(batch.events);
  store_->AppendAsync(kAccessStream, eventstore::ExpectedVersion::Any(), std::move(batch.events),
                      [this, done = std::move(batch.done)](absl::StatusOr<eventstore::AppendResult> result) {
                        for (size_t i = 0; i < done.size(); ++i) {
                          if (result.ok()) {
                            done[i](result->first_position + i);
                          } else {
                            done[i](result.status());
                          }
                        }
                        Batch next;
                        {
                          absl::MutexLock lock(&mu_);
                          if (pending_.events.empty()) {
                            in_flight_ = false;
                            return;
                          }
                          next = TakeBatchLocked();
                        }
                        Send(std::move(next));
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

absl::StatusOr<std::vector<eventstore::RecordedEvent>> AccessLog::ReadFollowing(uint64_t position,
                                                                                 uint64_t count) {
  std::vector<eventstore::RecordedEvent> out;
  while (out.size() < count) {
    const uint64_t next = position + 1 + out.size();
    ASSIGN_OR_RETURN(eventstore::ReadAllResult r,
                     store_->ReadAll({.from_position = next, .limit = count - out.size()}));
    // Each round adds at least the event at `next` or ends: a gap ends it.
    if (r.events.empty() || r.events.front().position != next) break;
    for (eventstore::RecordedEvent& event : r.events) {
      if (out.size() == count || event.position != position + 1 + out.size()) break;
      out.push_back(std::move(event));
    }
  }
  if (out.size() < count) {
    return absl::DataLossError(absl::StrCat("the append at position ", position,
                                            " of the access log holds ", count + 1, " entries; ",
                                            out.size() + 1, " are there"));
  }
  return out;
}

absl::StatusOr<AccessPage> AccessLog::Find(const AccessQuery& query) {
  if (query.limit == 0) return absl::InvalidArgumentError("the limit must be at least 1");
  // The narrowest index the query allows; without patient or agent, the log itself.
  std::optional<std::string> index;
  bool by_agent = false;
  if (query.patient.has_value()) {
    index = absl::StrCat(kPatientKeyPrefix, *query.patient);
  } else if (query.agent.has_value()) {
    index = absl::StrCat(kAgentKeyPrefix, *query.agent);
    by_agent = true;
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
      // An agent key names the first entry of an append for all of its entries.
      std::vector<eventstore::RecordedEvent> rest;
      if (by_agent) {
        ASSIGN_OR_RETURN(uint64_t n, AppendEntries(event));
        ASSIGN_OR_RETURN(rest, ReadFollowing(event.position, n - 1));
      }
      // Newest first: the append's later entries, then the one the index named.
      for (size_t i = rest.size() + 1; i-- > 0;) {
        const eventstore::RecordedEvent& candidate = i == 0 ? event : rest[i - 1];
        if (query.before.has_value() && candidate.position >= *query.before) continue;
        ASSIGN_OR_RETURN(AccessEntry entry, DecodeAccessEntry(candidate));
        if (!Matches(entry, query)) continue;
        if (page.entries.size() == query.limit) {
          page.next_before = page.entries.back().position;
          return page;
        }
        page.entries.push_back(std::move(entry));
      }
    }
    if (!chunk.next_position.has_value()) return page;
    from = chunk.next_position;
  }
}

}  // namespace carehub::audit
