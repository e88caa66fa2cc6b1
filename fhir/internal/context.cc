#include "fhir/internal/context.h"

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "carehub/fhir/resource_facts.h"
#include "fhir/internal/parsed_resource.h"

namespace carehub::fhir::internal {
namespace {

constexpr char kProvenanceParticipantType[] =
    "http://terminology.hl7.org/CodeSystem/provenance-participant-type";

// Percent-encodes everything but unreserved URI characters, so that any source system name
// ("COSMIC^SE2321000131") makes a valid FHIR uri.
std::string UriEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Whether `resource`'s members are in the order Finish gives a new version (resourceType, id,
// meta if any, then the rest), so that BodyDump gives the same for both.
bool InVersionOrder(const Json& resource, std::string_view type, std::string_view id) {
  if (!resource.is_object() || resource.size() < 2) return false;
  auto it = resource.begin();
  if (it.key() != "resourceType" || !it->is_string() || it->get_ref<const std::string&>() != type) {
    return false;
  }
  ++it;
  if (it.key() != "id" || !it->is_string() || it->get_ref<const std::string&>() != id) return false;
  ++it;
  if (it != resource.end() && it.key() == "meta") return it->is_object();
  return !resource.contains("meta");
}

// resource.dump() of a new version whose body dump (BodyDump, of a document in version order) is
// `body`: the body with the per-version meta members spliced in after resourceType and id,
// rather than serialising the whole document a second time. Empty if `body` is not of that shape.
std::string VersionDump(std::string_view body, const Json& resource) {
  const std::string prefix = absl::StrCat("{\"resourceType\":", resource.at("resourceType").dump(),
                                          ",\"id\":", resource.at("id").dump());
  if (!body.starts_with(prefix)) return "";
  const Json& meta = resource.at("meta");
  constexpr std::string_view kMeta = ",\"meta\":{";
  std::string_view rest = body.substr(prefix.size());
  std::string out;
  out.reserve(body.size() + 160);
  out.append(prefix);
  out.append(kMeta);
  absl::StrAppend(&out, "\"versionId\":", meta.at("versionId").dump(),
                  ",\"lastUpdated\":", meta.at("lastUpdated").dump(),
                  ",\"source\":", meta.at("source").dump());
  if (rest.starts_with(kMeta)) {
    // The body's meta holds what is not per version (never empty: BodyDump leaves it out then).
    out += ',';
    out.append(rest.substr(kMeta.size()));
  } else {
    out += '}';
    out.append(rest);
  }
  return out;
}

}  // namespace

std::string ProjectionContext::OccurredAt() const {
  if (IsSet(event_.occurred_at())) return Instant(ToTime(event_.occurred_at()));
  return Instant(recorded_.recorded_at);
}

absl::StatusOr<Json*> ProjectionContext::Find(std::string_view type, std::string_view id) {
  auto key = std::make_pair(std::string(type), std::string(id));
  auto it = touched_.find(key);
  if (it != touched_.end()) return it->second.json.is_null() ? nullptr : &it->second.json;
  Entry entry;
  ASSIGN_OR_RETURN(std::shared_ptr<const ParsedResource> parsed, lookup_.CurrentParsed(type, id));
  if (parsed != nullptr) {
    // A copy: the lookup's version is shared (the read model's cache keeps it).
    entry.json = parsed->json;
    entry.original_body = parsed->body_dump;
    entry.previous_version = parsed->version;
  }
  auto [pos, inserted] = touched_.emplace(std::move(key), std::move(entry));
  return pos->second.json.is_null() ? nullptr : &pos->second.json;
}

absl::StatusOr<Json*> ProjectionContext::FindOrCreate(std::string_view type, std::string_view id) {
  ASSIGN_OR_RETURN(Json * found, Find(type, id));
  if (found != nullptr) return found;
  Json& json = touched_[std::make_pair(std::string(type), std::string(id))].json;
  json = Json::object();
  json["resourceType"] = std::string(type);
  json["id"] = std::string(id);
  // Whose record it belongs to, fixed at creation: what the FHIR API checks against the
  // patient's consents and blocks before showing it to another organisation or care unit.
  const std::string& owner = event_.data_owner().organisation_hsa_id();
  if (HoldsOwnersCare(type) && !owner.empty()) {
    auto reference = [](const std::string& hsa_id) {
      care::v1::Organisation org;
      org.set_hsa_id(hsa_id);
      return OrganizationRef(org);
    };
    Json& extensions = json["extension"] = Json::array();
    extensions.push_back({{"url", kDataOwnerExtension}, {"valueReference", reference(owner)}});
    const std::string& unit = event_.source().organisation_hsa_id();
    if (!unit.empty() && unit != owner) {
      extensions.push_back({{"url", kDataOwnerUnitExtension}, {"valueReference", reference(unit)}});
    }
  }
  return &json;
}

absl::StatusOr<std::optional<std::string>> ProjectionContext::State(std::string_view key) {
  auto it = state_.find(key);
  if (it != state_.end()) return std::optional<std::string>(it->second);
  return lookup_.State(key);
}

void ProjectionContext::SetState(std::string_view key, std::string_view value) {
  state_[std::string(key)] = std::string(value);
}

std::string ProjectionContext::MetaSource() const {
  std::string source = absl::StrCat("urn:carehub:source:", UriEncode(event_.source().system()));
  if (!event_.source_message_id().empty()) {
    absl::StrAppend(&source, "#", UriEncode(event_.source_message_id()));
  }
  return source;
}

namespace {

// Every Reference with a literal reference and an identifier, anywhere in `json`.
void CollectIdentifiedReferences(const Json& json, std::vector<const Json*>& refs) {
  if (json.is_object()) {
    auto reference = json.find("reference");
    auto identifier = json.find("identifier");
    if (reference != json.end() && reference->is_string() && identifier != json.end() &&
        identifier->is_object()) {
      refs.push_back(&json);
      return;
    }
  }
  if (json.is_object() || json.is_array()) {
    for (const Json& member : json) CollectIdentifiedReferences(member, refs);
  }
}

}  // namespace

Json ProjectionContext::AuthorRef() const { return PractitionerRef(event_.source().author()); }

Json ProjectionContext::SourceOrganizationRef() const {
  care::v1::Organisation org;
  org.set_hsa_id(event_.source().organisation_hsa_id());
  return OrganizationRef(org);
}

absl::Status ProjectionContext::CreateReferencedResources() {
  std::vector<const Json*> refs;
  for (const auto& [key, entry] : touched_) {
    if (!entry.json.is_null()) CollectIdentifiedReferences(entry.json, refs);
  }
  const Json author = AuthorRef();
  const Json organization = SourceOrganizationRef();
  refs.push_back(&author);
  refs.push_back(&organization);
  // First the references to Organizations and Practitioners that may not exist yet, copied:
  // creating one changes the touched resources the pointers point into.
  std::vector<Json> missing;
  for (const Json* ref : refs) {
    if (!ref->is_object()) continue;
    auto reference = ref->find("reference");
    if (reference == ref->end() || !reference->is_string()) continue;
    const std::string& target = reference->get_ref<const std::string&>();
    const size_t slash = target.find('/');
    if (slash == std::string::npos) continue;
    const std::string_view type = std::string_view(target).substr(0, slash);
    if (type != "Organization" && type != "Practitioner") continue;
    auto touched = touched_.find(std::make_pair(std::string(type), target.substr(slash + 1)));
    if (touched != touched_.end()) {
      if (touched->second.json.is_object() && touched->second.json.contains("identifier")) continue;
    } else {
      // The common case, every event: it exists already. Known without copying it.
      ASSIGN_OR_RETURN(std::shared_ptr<const ParsedResource> parsed,
                       lookup_.CurrentParsed(type, std::string_view(target).substr(slash + 1)));
      if (parsed != nullptr && parsed->json.contains("identifier")) continue;
    }
    missing.push_back(*ref);
  }
  for (const Json& ref : missing) {
    const std::string reference = ref["reference"].get<std::string>();
    const size_t slash = reference.find('/');
    const std::string type = reference.substr(0, slash);
    ASSIGN_OR_RETURN(Json * resource, FindOrCreate(type, reference.substr(slash + 1)));
    if (resource->contains("identifier")) continue;  // exists: the first display name stays
    (*resource)["identifier"] = Json::array({ref["identifier"]});
    (*resource)["active"] = true;
    if (ref.contains("display")) {
      if (type == "Organization") {
        (*resource)["name"] = ref["display"];
      } else {
        (*resource)["name"] = Json::array({{{"text", ref["display"]}}});
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ProjectionOutput> ProjectionContext::Finish() {
  RETURN_IF_ERROR(CreateReferencedResources());
  ProjectionOutput out;
  // "Type/id/_history/n" of every changed resource, in (type, id) order.
  std::map<std::string, std::string> targets;
  const std::string last_updated = Instant(recorded_.recorded_at);
  for (auto& [key, entry] : touched_) {
    if (entry.json.is_null()) continue;
    // Usually the working copy is in the new version's order, and its body dump is the new
    // version's too: computed once, to compare and to hand over.
    const bool in_order = InVersionOrder(entry.json, key.first, key.second);
    std::string body;
    if (in_order || !entry.original_body.empty()) body = BodyDump(entry.json);
    if (!entry.original_body.empty() && body == entry.original_body) continue;
    const uint64_t version = entry.previous_version + 1;
    // resourceType, id, meta first; then the body in its own order. The working copy is not
    // needed after Finish, so its members move into the new version.
    Json resource = Json::object();
    resource["resourceType"] = key.first;
    resource["id"] = key.second;
    Json meta = {{"versionId", absl::StrCat(version)},
                 {"lastUpdated", last_updated},
                 {"source", MetaSource()}};
    // A meta of another shape than an object (never one the projection wrote) fails the
    // projection here: key() throws for it, and Project turns that into an error. A null one
    // has no members.
    if (auto old_meta = entry.json.find("meta"); old_meta != entry.json.end()) {
      for (auto it = old_meta->begin(); it != old_meta->end(); ++it) {
        if (!IsPerVersionMetaKey(it.key())) meta[it.key()] = std::move(it.value());
      }
    }
    resource["meta"] = std::move(meta);
    for (auto it = entry.json.begin(); it != entry.json.end(); ++it) {
      if (it.key() != "resourceType" && it.key() != "id" && it.key() != "meta") {
        resource[it.key()] = std::move(it.value());
      }
    }
    targets[absl::StrCat(key.first, "/", key.second)] =
        absl::StrCat(key.first, "/", key.second, "/_history/", version);
    // Handed to the writer, so that the next event that changes the resource need not parse it.
    auto parsed = std::make_shared<ParsedResource>();
    parsed->version = version;
    parsed->body_dump = in_order ? std::move(body) : BodyDump(resource);
    std::string json;
    if (in_order) json = VersionDump(parsed->body_dump, resource);
    if (json.empty()) json = resource.dump();
    parsed->json = std::move(resource);
    out.resources.push_back({key.first, key.second, version, std::move(json), std::move(parsed)});
  }
  if (!targets.empty()) {
    // Handed over without its body dump: nothing changes a Provenance after its event.
    auto parsed = std::make_shared<ParsedResource>();
    parsed->version = 1;
    parsed->json = ProvenanceFor(targets);
    const std::string id = parsed->json["id"].get<std::string>();
    std::string json = parsed->json.dump();
    out.resources.push_back({"Provenance", id, 1, std::move(json), std::move(parsed)});
  }
  std::sort(out.resources.begin(), out.resources.end(),
            [](const ResourceVersion& a, const ResourceVersion& b) {
              return std::tie(a.type, a.id) < std::tie(b.type, b.id);
            });
  for (auto& [key, value] : state_) out.state.emplace_back(key, value);
  return out;
}

// One Provenance per event: who (author, else the sending organisation), which system (the
// source system as a Device identifier), which source message, and every version it changed.
Json ProjectionContext::ProvenanceFor(const std::map<std::string, std::string>& targets) const {
  const care::v1::Source& source = event_.source();
  Json p = Json::object();
  p["resourceType"] = "Provenance";
  p["id"] = ResourceId("Provenance", event_.event_id());
  p["meta"] = {{"versionId", "1"},
               {"lastUpdated", Instant(recorded_.recorded_at)},
               {"source", MetaSource()}};
  Json& target = ArrayMember(p, "target");
  for (const auto& [unused, versioned] : targets) target.push_back({{"reference", versioned}});
  p["occurredDateTime"] = OccurredAt();
  p["recorded"] = Instant(recorded_.recorded_at);
  Json& agents = ArrayMember(p, "agent");
  Json org = SourceOrganizationRef();
  Json author = AuthorRef();
  if (!author.is_null() || !org.is_null()) {
    Json agent = Json::object();
    agent["type"] = Concept(kProvenanceParticipantType, "author", "Author");
    agent["who"] = author.is_null() ? org : author;
    if (!author.is_null() && !org.is_null()) agent["onBehalfOf"] = org;
    agents.push_back(agent);
  }
  Json system_agent = Json::object();
  system_agent["type"] = Concept(kProvenanceParticipantType, "informant", "Informant");
  Json device = Json::object();
  device["type"] = "Device";
  device["identifier"] =
      HubIdentifier("source-system", source.system().empty() ? "unknown" : source.system());
  system_agent["who"] = device;
  agents.push_back(system_agent);
  Json& entities = ArrayMember(p, "entity");
  if (!event_.source_message_id().empty()) {
    Json what = Json::object();
    what["identifier"] = HubIdentifier(
        "source-message-id", absl::StrCat(source.system(), "|", event_.source_message_id()));
    entities.push_back({{"role", "source"}, {"what", what}});
  }
  Json event_ref = Json::object();
  event_ref["identifier"] = HubIdentifier("care-event-id", event_.event_id());
  entities.push_back({{"role", "source"}, {"what", event_ref}});
  return p;
}

}  // namespace carehub::fhir::internal
