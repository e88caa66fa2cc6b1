#include "fhir/internal/fhir_json.h"

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "carehub/base/strings.h"
#include "carehub/fhir/projection.h"

namespace carehub::fhir::internal {
namespace {

struct HubDisplay {
  const char* code;
  const char* display;
};

// Mirrors fhir/codesystem/carehub.json; fhir_json_test checks that the two agree.
constexpr HubDisplay kHubDisplays[] = {
    {hub::kMostIll, "Mest sjuka"},
    {hub::kPeriodicallyFailing, "Periodvis sviktande"},
    {hub::kAtRisk, "Riskgrupper"},
    {hub::kPrimaryContact, "Fast vårdkontakt"},
    {hub::kSip, "Samordnad individuell plan (SIP)"},
    {hub::kSipInvitation, "Kallelse till SIP-möte"},
    {hub::kAdmissionNotice, "Inskrivningsmeddelande"},
    {hub::kAdmissionNoticeAck, "Kvittens av inskrivningsmeddelande"},
    {hub::kDischargeReady, "Utskrivningsklar"},
    {hub::kDischargeReadyRevoked, "Återkallad utskrivningsklar"},
    {hub::kExpectedDischargeChanged, "Ändrad beräknad utskrivningstidpunkt"},
    {hub::kDischargeInformation, "Information vid utskrivning"},
    {hub::kDeteriorationAlert, "Försämringslarm"},
    {hub::kDeadlineMet, "Tidsfrist uppfylld"},
    {hub::kDeadlineBreached, "Tidsfrist överskriden"},
    {hub::kCarePlanOverallResponsibility, "Huvudansvar för planen"},
};

std::string_view HubDisplayOf(std::string_view code) {
  for (const HubDisplay& d : kHubDisplays) {
    if (code == d.code) return d.display;
  }
  return "";
}

}  // namespace

Json Concept(std::string_view system, std::string_view code, std::string_view display) {
  Json coding = Json::object();
  // FHIR forbids empty strings: a code that came without a system (e.g. PV1-36 without its
  // table) is sent without one.
  if (!system.empty()) coding["system"] = std::string(system);
  coding["code"] = std::string(code);
  if (!display.empty()) coding["display"] = std::string(display);
  Json concept_json = Json::object();
  concept_json["coding"] = Json::array({coding});
  return concept_json;
}

Json HubConcept(std::string_view code) { return Concept(kHubCodeSystem, code, HubDisplayOf(code)); }

Json ConceptOf(const care::v1::Coding& coding) {
  if (coding.code().empty()) {
    Json text = Json::object();
    if (!coding.display().empty()) text["text"] = coding.display();
    return text;
  }
  return Concept(coding.system(), coding.code(), coding.display());
}

std::string Instant(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

bool IsSet(const google::protobuf::Timestamp& t) { return t.seconds() != 0 || t.nanos() != 0; }

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

std::optional<std::string> Instant(const google::protobuf::Timestamp& t) {
  if (!IsSet(t)) return std::nullopt;
  return Instant(ToTime(t));
}

Json Ref(std::string_view type, std::string_view id) {
  Json ref = Json::object();
  ref["reference"] = absl::StrCat(Sv(type), "/", Sv(id));
  return ref;
}

Json OrganizationRef(const care::v1::Organisation& org) {
  Json ref = Json::object();
  if (!org.hsa_id().empty()) {
    ref["reference"] = absl::StrCat("Organization/",
                                    ResourceId("Organization", absl::StrCat("hsa|", org.hsa_id())));
    ref["type"] = "Organization";
    ref["identifier"] = {{"system", kHsaIdSystem}, {"value", org.hsa_id()}};
  } else if (!org.organisation_number().empty()) {
    ref["reference"] =
        absl::StrCat("Organization/",
                     ResourceId("Organization", absl::StrCat("orgnr|", org.organisation_number())));
    ref["type"] = "Organization";
    ref["identifier"] = {{"system", kOrganisationNumberSystem},
                         {"value", org.organisation_number()}};
  }
  if (!org.name().empty()) ref["display"] = org.name();
  if (ref.empty()) return Json();
  return ref;
}

Json PractitionerRef(const care::v1::Actor& actor) {
  Json ref = Json::object();
  if (!actor.hsa_id().empty()) {
    ref["reference"] = absl::StrCat(
        "Practitioner/", ResourceId("Practitioner", absl::StrCat("hsa|", actor.hsa_id())));
    ref["type"] = "Practitioner";
    ref["identifier"] = {{"system", kHsaIdSystem}, {"value", actor.hsa_id()}};
  }
  if (!actor.name().empty()) ref["display"] = actor.name();
  if (ref.empty()) return Json();
  return ref;
}

Json HubIdentifier(std::string_view name, std::string_view value) {
  Json id = Json::object();
  id["system"] = absl::StrCat(kHubNamingSystem, Sv(name));
  id["value"] = std::string(value);
  return id;
}

std::string PartyRoleDisplay(care::v1::PartyRole role) {
  switch (role) {
    case care::v1::PARTY_ROLE_HOSPITAL:
      return "Slutenvården";
    case care::v1::PARTY_ROLE_PRIMARY_CARE:
      return "Primärvården";
    case care::v1::PARTY_ROLE_MUNICIPALITY_HSL:
      return "Kommunal hälso- och sjukvård";
    case care::v1::PARTY_ROLE_MUNICIPALITY_SOL:
      return "Socialtjänsten";
    case care::v1::PARTY_ROLE_PATIENT:
      return "Patienten";
    case care::v1::PARTY_ROLE_RELATED_PERSON:
      return "Närstående";
    case care::v1::PARTY_ROLE_SPECIALIST_OUTPATIENT:
      return "Specialiserad öppenvård";
    default:
      return "Part";
  }
}

Json& ArrayMember(Json& object, const char* key) {
  Json& member = object[key];
  if (!member.is_array()) member = Json::array();
  return member;
}

}  // namespace carehub::fhir::internal
