#include "services/fhir/internal/disclosure.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "carehub/base/strings.h"
#include "nlohmann/json.hpp"
#include "services/fhir/internal/request_text.h"

namespace carehub::services::fhir_api {
namespace {

using Json = nlohmann::json;

constexpr char kHsaIdSystem[] = "urn:oid:1.2.752.29.4.19";

// object[key] if it is a string, else "".
std::string Str(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// The HSA-id of a reference the projection wrote ({"reference", "type", "identifier"}); "" if
// it names the organisation otherwise (e.g. by organisationsnummer).
std::string HsaIdOf(const Json& reference) {
  if (!reference.is_object()) return "";
  auto identifier = reference.find("identifier");
  if (identifier == reference.end() || Str(*identifier, "system") != kHsaIdSystem) return "";
  return Str(*identifier, "value");
}

// Whether `period` ({"start", "end"}, either optional) holds `now`; nullopt if unreadable.
std::optional<bool> Holds(const Json& period, absl::Time now) {
  if (!period.is_object()) return std::nullopt;
  for (const char* bound : {"start", "end"}) {
    auto it = period.find(bound);
    if (it == period.end()) continue;
    if (!it->is_string()) return std::nullopt;
    std::optional<absl::Time> t = ParseInstant(it->get_ref<const std::string&>());
    if (!t.has_value()) return std::nullopt;
    if (bound[0] == 's' ? now < *t : now >= *t) return false;
  }
  return true;
}

}  // namespace

PatientDisclosure PatientDisclosure::FromConsents(const std::vector<std::string>& consents,
                                                  absl::Time now, bool complete) {
  PatientDisclosure d;
  d.unreadable_ = !complete;
  for (const std::string& text : consents) {
    const Json consent = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    const Json* provision = nullptr;
    if (consent.is_object()) {
      auto it = consent.find("provision");
      if (it != consent.end() && it->is_object()) provision = &*it;
    }
    const std::string status = Str(consent, "status");
    const std::string type = provision != nullptr ? Str(*provision, "type") : "";
    if (status.empty() || (type != "permit" && type != "deny")) {
      d.unreadable_ = true;
      continue;
    }
    if (status != "active") continue;
    auto period = provision->find("period");
    std::optional<bool> current =
        period == provision->end() ? std::optional<bool>(true) : Holds(*period, now);
    if (!current.has_value()) {
      d.unreadable_ = true;
      continue;
    }
    if (!*current) continue;
    std::vector<std::string> actors;
    if (auto list = provision->find("actor"); list != provision->end() && list->is_array()) {
      for (const Json& actor : *list) {
        auto reference = actor.is_object() ? actor.find("reference") : actor.end();
        std::string hsa = reference != actor.end() ? HsaIdOf(*reference) : "";
        if (!hsa.empty()) actors.push_back(std::move(hsa));
      }
    }
    if (type == "permit") {
      d.recipients_.insert(actors.begin(), actors.end());
      continue;
    }
    // A block names the owner whose record it closes.
    auto organizations = consent.find("organization");
    if (organizations == consent.end() || !organizations->is_array() || organizations->empty()) {
      d.unreadable_ = true;
      continue;
    }
    for (const Json& organization : *organizations) {
      std::string owner = HsaIdOf(organization);
      // A block whose owner is not named by HSA-id cannot be matched to a record: fail closed.
      if (owner.empty()) d.unreadable_ = true;
      d.blocks_.push_back({std::move(owner), actors});
    }
  }
  return d;
}

bool KeepsRecord(const Reader& reader, const fhir::DataOwner& owner) {
  return reader.organization == owner.organization &&
         (owner.unit.empty() || reader.unit == owner.unit);
}

Verdict PatientDisclosure::Check(const fhir::DataOwner& owner, const Reader& reader) const {
  if (owner.organization.empty() || KeepsRecord(reader, owner)) return Verdict::kShown;
  // Blocks unknown: only the keeper sees it.
  if (unreadable_) return Verdict::kBlocked;
  // Not the keeper: another unit of the owner, or another organisation.
  const bool same_organization = reader.organization == owner.organization;
  auto names = [](const Block& block, std::string_view who) {
    return !who.empty() &&
           std::find(block.readers.begin(), block.readers.end(), who) != block.readers.end();
  };
  for (const Block& block : blocks_) {
    if (!owner.unit.empty() && block.owner == owner.unit &&
        (block.readers.empty() || names(block, reader.organization) || names(block, reader.unit))) {
      return Verdict::kBlocked;  // inre spärr: the unit's record, from other units
    }
    if (block.owner == owner.organization && !same_organization &&
        (block.readers.empty() || names(block, reader.organization))) {
      return Verdict::kBlocked;  // yttre spärr: the owner's record, from other organisations
    }
  }
  if (same_organization) return Verdict::kShown;
  return recipients_.contains(Sv(reader.organization)) ? Verdict::kShown : Verdict::kNoConsent;
}

std::string WithheldReason(Verdict verdict, const fhir::DataOwner& owner, const Reader& reader) {
  std::string whose = std::string(owner.organization);
  if (!owner.unit.empty()) absl::StrAppend(&whose, " (care unit ", Sv(owner.unit), ")");
  std::string who = std::string(reader.organization);
  if (!reader.unit.empty()) absl::StrAppend(&who, " (care unit ", Sv(reader.unit), ")");
  return absl::StrCat(
      "withheld: the record of ", whose, " is not disclosed to ",
      who.empty() ? "a reader that names no organisation" : who,
      ": ",
      verdict == Verdict::kBlocked ? "the patient has blocked it (spärr)"
                                   : "the patient has given no consent that names the reader");
}

}  // namespace carehub::services::fhir_api
