#include "fhir/internal/parsed_resource.h"

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/strings.h"

namespace carehub::fhir::internal {
namespace {

// A member name as JSON: names of FHIR elements need no escaping, anything else goes through
// the serializer.
void AppendKey(std::string_view key, std::string& out) {
  const bool plain = std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (plain) {
    out += '"';
    out += key;
    out += '"';
  } else {
    out += Json(std::string(key)).dump();
  }
  out += ':';
}

}  // namespace

bool IsPerVersionMetaKey(std::string_view key) {
  return key == "versionId" || key == "lastUpdated" || key == "source";
}

// What decides whether an event changed a resource, computed for each resource an event touches:
// serialised member by member rather than from a copy without the per-version members.
std::string BodyDump(const Json& resource) {
  if (!resource.is_object()) return resource.dump();
  std::string out = "{";
  bool first = true;
  for (auto it = resource.begin(); it != resource.end(); ++it) {
    const Json* value = &it.value();
    Json meta;
    if (it.key() == "meta" && value->is_object()) {
      meta = Json::object();
      for (auto m = value->begin(); m != value->end(); ++m) {
        if (!IsPerVersionMetaKey(m.key())) meta[m.key()] = m.value();
      }
      if (meta.empty()) continue;
      value = &meta;
    }
    if (!first) out += ',';
    first = false;
    AppendKey(it.key(), out);
    out += value->dump();
  }
  out += '}';
  return out;
}

absl::StatusOr<std::shared_ptr<const ParsedResource>> ParseStoredResource(std::string_view type,
                                                                        std::string_view id,
                                                                        std::string_view stored) {
  auto parsed = std::make_shared<ParsedResource>();
  parsed->json = Json::parse(stored, nullptr, /*allow_exceptions=*/false);
  if (parsed->json.is_discarded() || !parsed->json.is_object()) {
    return absl::DataLossError(absl::StrCat("stored ", Sv(type), "/", Sv(id), " does not parse"));
  }
  auto meta = parsed->json.find("meta");
  const Json* version = nullptr;
  if (meta != parsed->json.end() && meta->is_object()) {
    if (auto v = meta->find("versionId"); v != meta->end() && v->is_string()) version = &*v;
  }
  if (version == nullptr ||
      !absl::SimpleAtoi(version->get_ref<const std::string&>(), &parsed->version)) {
    return absl::DataLossError(absl::StrCat("stored ", Sv(type), "/", Sv(id), " has no version"));
  }
  parsed->body_dump = BodyDump(parsed->json);
  return parsed;
}

}  // namespace carehub::fhir::internal
