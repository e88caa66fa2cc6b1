// Patient, CarePlan/CareTeam at enrolment, and Consent (consents and blocks).
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "fhir/internal/projections.h"

namespace carehub::fhir::internal {
namespace {

constexpr char kConsentScopeSystem[] = "http://terminology.hl7.org/CodeSystem/consentscope";
constexpr char kActReasonSystem[] = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
constexpr char kParticipationTypeSystem[] =
    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";

absl::StatusOr<Json*> Patient(ProjectionContext& ctx) {
  ASSIGN_OR_RETURN(Json * patient, ctx.FindOrCreate("Patient", ctx.PatientId()));
  if (!patient->contains("identifier")) {
    (*patient)["identifier"] = Json::array({HubIdentifier("patient-id", ctx.event().patient_id())});
    (*patient)["active"] = true;
  }
  return patient;
}

const char* TargetGroupCode(care::v1::TargetGroup group) {
  switch (group) {
    case care::v1::TARGET_GROUP_MOST_ILL:
      return hub::kMostIll;
    case care::v1::TARGET_GROUP_PERIODICALLY_FAILING:
      return hub::kPeriodicallyFailing;
    case care::v1::TARGET_GROUP_AT_RISK:
      return hub::kAtRisk;
    default:
      return nullptr;
  }
}

std::string IdentifierSystem(const care::v1::PatientIdentifier& id) {
  if (!id.system().empty()) return id.system();
  switch (id.kind()) {
    case care::v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER:
      return kPersonnummerSystem;
    case care::v1::PATIENT_IDENTIFIER_KIND_SAMORDNINGSNUMMER:
      return kSamordningsnummerSystem;
    default:
      return absl::StrCat(kHubNamingSystem, "reservnummer");
  }
}

// A personnummer or samordningsnummer (normalised: 12 digits YYYYMMDDNNNC) states the birth date
// (for a samordningsnummer the day plus 60) and the legal sex as folkbokföringen records it (the
// third serial digit: odd for men, even for women), which is what Swedish EHRs show as
// Patient.birthDate and Patient.gender. A reservnummer states neither: nothing is set.
void SetBirthDateAndGender(const care::v1::PatientIdentifier& id, Json& patient) {
  const bool coordination = id.kind() == care::v1::PATIENT_IDENTIFIER_KIND_SAMORDNINGSNUMMER;
  if (!coordination && id.kind() != care::v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER) return;
  const std::string& v = id.value();
  if (v.size() != 12 || v.find_first_not_of("0123456789") != std::string::npos) return;
  int day = (v[6] - '0') * 10 + (v[7] - '0');
  if (coordination) day -= 60;
  const int month = (v[4] - '0') * 10 + (v[5] - '0');
  if (day < 1 || day > 31 || month < 1 || month > 12) return;
  patient["birthDate"] = absl::StrCat(v.substr(0, 4), "-", v.substr(4, 2), "-", day < 10 ? "0" : "",
                                      day);
  patient["gender"] = (v[10] - '0') % 2 == 1 ? "male" : "female";
}

// Consent.provision.actor entries for receiving (or blocked-from) organisations.
Json Recipients(const google::protobuf::RepeatedPtrField<care::v1::Organisation>& orgs) {
  Json actors = Json::array();
  for (const care::v1::Organisation& org : orgs) {
    Json ref = OrganizationRef(org);
    if (ref.is_null()) continue;
    actors.push_back({{"role", Concept(kParticipationTypeSystem, "IRCP", "information recipient")},
                      {"reference", ref}});
  }
  return actors;
}

Json NewConsent(ProjectionContext& ctx, std::string_view kind, std::string_view internal_id) {
  Json consent = Json::object();
  consent["identifier"] = Json::array({HubIdentifier(kind, internal_id)});
  consent["status"] = "active";
  consent["scope"] = Concept(kConsentScopeSystem, "patient-privacy", "Privacy Consent");
  consent["category"] = Json::array({Concept("http://loinc.org", "59284-0", "Patient Consent")});
  consent["patient"] = ctx.PatientRef();
  consent["dateTime"] = ctx.OccurredAt();
  return consent;
}

}  // namespace

absl::Status ProjectPatientEnrolled(ProjectionContext& ctx, const care::v1::PatientEnrolled& e) {
  RETURN_IF_ERROR(Patient(ctx).status());
  const std::string plan_id = ResourceId("CarePlan", e.care_plan_id());
  const std::string team_id = ResourceId("CareTeam", e.care_team_id());
  Json org = OrganizationRef(e.enrolling_unit());

  ASSIGN_OR_RETURN(Json * team, ctx.FindOrCreate("CareTeam", team_id));
  if (!team->contains("status")) {
    (*team)["identifier"] = Json::array({HubIdentifier("care-team-id", e.care_team_id())});
    (*team)["status"] = "proposed";
    (*team)["name"] = "Vårdteam";
    (*team)["subject"] = ctx.PatientRef();
    (*team)["period"] = {{"start", ctx.OccurredAt()}};
    if (!org.is_null()) (*team)["managingOrganization"] = Json::array({org});
  }

  ASSIGN_OR_RETURN(Json * plan, ctx.FindOrCreate("CarePlan", plan_id));
  if (!plan->contains("status")) {
    (*plan)["identifier"] = Json::array({HubIdentifier("care-plan-id", e.care_plan_id())});
    (*plan)["status"] = "draft";
    (*plan)["intent"] = "plan";
    (*plan)["subject"] = ctx.PatientRef();
  }
  if (const char* code = TargetGroupCode(e.target_group())) {
    Json& categories = ArrayMember(*plan, "category");
    Json category = HubConcept(code);
    if (std::find(categories.begin(), categories.end(), category) == categories.end()) {
      categories.insert(categories.begin(), category);
    }
  }
  if (!plan->contains("created")) (*plan)["created"] = ctx.OccurredAt();
  if (!org.is_null() && !plan->contains("author")) (*plan)["author"] = org;
  Json& teams = ArrayMember(*plan, "careTeam");
  Json team_ref = Ref("CareTeam", team_id);
  if (std::find(teams.begin(), teams.end(), team_ref) == teams.end()) teams.push_back(team_ref);

  ctx.SetState(absl::StrCat("plan-team/", e.care_plan_id()), e.care_team_id());
  const std::string plans_key = absl::StrCat("patient-plans/", ctx.event().patient_id());
  ASSIGN_OR_RETURN(std::optional<std::string> plans, ctx.State(plans_key));
  const std::string line = absl::StrCat(e.care_plan_id(), "\n");
  if (!plans.has_value() || plans->find(line) == std::string::npos) {
    ctx.SetState(plans_key, absl::StrCat(plans.value_or(""), line));
  }
  return absl::OkStatus();
}

absl::Status ProjectIdentifierLinked(ProjectionContext& ctx,
                                     const care::v1::PatientIdentifierLinked& e) {
  ASSIGN_OR_RETURN(Json * patient, Patient(ctx));
  Json& identifiers = ArrayMember(*patient, "identifier");
  if (e.has_supersedes()) {
    const std::string old_system = IdentifierSystem(e.supersedes());
    for (Json& id : identifiers) {
      if (id.value("system", "") == old_system && id.value("value", "") == e.supersedes().value()) {
        id["use"] = "old";
        id["period"] = {{"end", ctx.OccurredAt()}};
      }
    }
  }
  Json id = {{"use", "official"},
             {"system", IdentifierSystem(e.identifier())},
             {"value", e.identifier().value()}};
  for (const Json& existing : identifiers) {
    if (existing.value("system", "") == id["system"] &&
        existing.value("value", "") == id["value"]) {
      return absl::OkStatus();
    }
  }
  identifiers.push_back(id);
  SetBirthDateAndGender(e.identifier(), *patient);
  return absl::OkStatus();
}

absl::Status ProjectDemographics(ProjectionContext& ctx, const care::v1::DemographicsUpdated& e) {
  ASSIGN_OR_RETURN(Json * patient, Patient(ctx));
  Json name = {{"use", "official"}};
  if (!e.family_name().empty()) name["family"] = e.family_name();
  for (const std::string& given : e.given_names()) ArrayMember(name, "given").push_back(given);
  if (name.size() > 1) (*patient)["name"] = Json::array({name});
  patient->erase("telecom");
  for (const std::string& phone : e.phone_numbers()) {
    ArrayMember(*patient, "telecom").push_back({{"system", "phone"}, {"value", phone}});
  }
  if (auto deceased = Instant(e.deceased_at())) (*patient)["deceasedDateTime"] = *deceased;
  // Skyddade personuppgifter: the address is neither stored nor shown.
  patient->erase("address");
  if (!e.protected_identity() && (e.address_lines_size() > 0 || !e.city().empty())) {
    Json address = {{"use", "home"}, {"type", "physical"}};
    for (const std::string& line : e.address_lines()) ArrayMember(address, "line").push_back(line);
    if (!e.city().empty()) address["city"] = e.city();
    if (!e.postal_code().empty()) address["postalCode"] = e.postal_code();
    address["country"] = "SE";
    (*patient)["address"] = Json::array({address});
  }
  if (e.protected_identity()) {
    // meta.security is a Coding (not a CodeableConcept).
    (*patient)["meta"]["security"] =
        Json::array({Concept("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R",
                             "restricted")["coding"][0]});
  } else if (patient->contains("meta")) {
    (*patient)["meta"].erase("security");
  }

  if (!e.preferred_language().empty()) {
    (*patient)["communication"] =
        Json::array({{{"language", Concept("urn:ietf:bcp:47", e.preferred_language(), "")},
                      {"preferred", true}}});
  }
  return absl::OkStatus();
}

absl::Status ProjectConsentGiven(ProjectionContext& ctx, const care::v1::ConsentGiven& e) {
  ASSIGN_OR_RETURN(Json * consent,
                   ctx.FindOrCreate("Consent", ResourceId("Consent", e.consent_id())));
  Json body = NewConsent(ctx, "consent-id", e.consent_id());
  const char* rule = e.scope() == care::v1::CONSENT_SCOPE_SIP ? hub::kSip : nullptr;
  body["policyRule"] =
      rule != nullptr ? HubConcept(rule) : Concept(kActReasonSystem, "OPTIN", "opt-in");
  Json provision = {{"type", "permit"}};
  Json period = {{"start", ctx.OccurredAt()}};
  if (auto until = Instant(e.valid_until())) period["end"] = *until;
  provision["period"] = period;
  Json actors = Recipients(e.receiving_organisations());
  if (!actors.empty()) provision["actor"] = actors;
  body["provision"] = provision;
  for (auto it = body.begin(); it != body.end(); ++it) (*consent)[it.key()] = it.value();
  return absl::OkStatus();
}

absl::Status ProjectConsentWithdrawn(ProjectionContext& ctx, const care::v1::ConsentWithdrawn& e) {
  ASSIGN_OR_RETURN(Json * consent, ctx.Find("Consent", ResourceId("Consent", e.consent_id())));
  if (consent == nullptr) return absl::OkStatus();
  (*consent)["status"] = "inactive";
  (*consent)["provision"]["period"]["end"] = ctx.OccurredAt();
  return absl::OkStatus();
}

absl::Status ProjectRecordBlocked(ProjectionContext& ctx, const care::v1::RecordBlocked& e) {
  ASSIGN_OR_RETURN(Json * consent, ctx.FindOrCreate("Consent", ResourceId("Block", e.block_id())));
  Json body = NewConsent(ctx, "block-id", e.block_id());
  body["policyRule"] = Concept(kActReasonSystem, "OPTOUT", "opt-out");
  care::v1::Organisation owner;
  owner.set_hsa_id(e.blocked_owner().organisation_hsa_id());
  Json owner_ref = OrganizationRef(e.has_blocked_unit() ? e.blocked_unit() : owner);
  if (!owner_ref.is_null()) body["organization"] = Json::array({owner_ref});
  // Spärr: deny, to the listed providers or (no list) to every other provider.
  Json provision = {{"type", "deny"}, {"period", {{"start", ctx.OccurredAt()}}}};
  Json actors = Recipients(e.blocked_from());
  if (!actors.empty()) provision["actor"] = actors;
  body["provision"] = provision;
  for (auto it = body.begin(); it != body.end(); ++it) (*consent)[it.key()] = it.value();
  return absl::OkStatus();
}

absl::Status ProjectRecordUnblocked(ProjectionContext& ctx, const care::v1::RecordUnblocked& e) {
  ASSIGN_OR_RETURN(Json * consent, ctx.Find("Consent", ResourceId("Block", e.block_id())));
  if (consent == nullptr) return absl::OkStatus();
  (*consent)["status"] = "inactive";
  (*consent)["provision"]["period"]["end"] = ctx.OccurredAt();
  return absl::OkStatus();
}

}  // namespace carehub::fhir::internal
