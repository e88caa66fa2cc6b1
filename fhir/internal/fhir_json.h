// Building blocks of FHIR R4 JSON shared by the projections: code systems, identifiers,
// references, times. nlohmann::ordered_json keeps members in the order we insert them, so the
// same sequence of changes serialises to the same bytes.
#ifndef CAREHUB_FHIR_INTERNAL_FHIR_JSON_H_
#define CAREHUB_FHIR_INTERNAL_FHIR_JSON_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "carehub/care/v1/events.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "nlohmann/json.hpp"

namespace carehub::fhir::internal {

using Json = nlohmann::ordered_json;

// The hub's CodeSystem (fhir/codesystem/carehub.json) for concepts without a national code.
inline constexpr char kHubCodeSystem[] = "https://carehub.se/fhir/CodeSystem/carehub";
// Hub naming systems for the hub's own identifiers.
inline constexpr char kHubNamingSystem[] = "https://carehub.se/fhir/NamingSystem/";
inline constexpr char kPersonnummerSystem[] = "http://electronichealth.se/identifier/personnummer";
inline constexpr char kSamordningsnummerSystem[] =
    "http://electronichealth.se/identifier/samordningsnummer";
inline constexpr char kHsaIdSystem[] = "urn:oid:1.2.752.29.4.19";
inline constexpr char kOrganisationNumberSystem[] = "urn:oid:2.5.4.97";
inline constexpr char kActCodeSystem[] = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

// Hub concept codes (must match fhir/codesystem/carehub.json).
namespace hub {
inline constexpr char kMostIll[] = "mest-sjuka";
inline constexpr char kPeriodicallyFailing[] = "periodvis-sviktande";
inline constexpr char kAtRisk[] = "riskgrupper";
inline constexpr char kPrimaryContact[] = "fast-vardkontakt";
inline constexpr char kSip[] = "sip";
inline constexpr char kSipInvitation[] = "kallelse-sip";
inline constexpr char kAdmissionNotice[] = "inskrivningsmeddelande";
inline constexpr char kAdmissionNoticeAck[] = "kvittens-inskrivningsmeddelande";
inline constexpr char kDischargeReady[] = "utskrivningsklar";
inline constexpr char kDischargeReadyRevoked[] = "utskrivningsklar-aterkallad";
inline constexpr char kExpectedDischargeChanged[] = "andrad-utskrivningstidpunkt";
inline constexpr char kDischargeInformation[] = "information-vid-utskrivning";
inline constexpr char kDeteriorationAlert[] = "forsamringslarm";
inline constexpr char kDeadlineMet[] = "tidsfrist-uppfylld";
inline constexpr char kDeadlineBreached[] = "tidsfrist-overskriden";
inline constexpr char kCarePlanOverallResponsibility[] = "huvudansvar";
}  // namespace hub

// {"coding":[{"system":kHubCodeSystem,"code":code,"display":...}]}; the display comes from the
// CodeSystem's table.
Json HubConcept(std::string_view code);
// A CodeableConcept of one coding.
Json Concept(std::string_view system, std::string_view code, std::string_view display);
// A CodeableConcept from an event's Coding (text only when it has no code).
Json ConceptOf(const care::v1::Coding& coding);

// FHIR instant/dateTime in UTC with milliseconds: "2026-03-01T02:10:00.000Z".
std::string Instant(absl::Time t);
// nullopt for an unset timestamp.
std::optional<std::string> Instant(const google::protobuf::Timestamp& t);
bool IsSet(const google::protobuf::Timestamp& t);
absl::Time ToTime(const google::protobuf::Timestamp& t);

// {"reference":"Type/id"}.
Json Ref(std::string_view type, std::string_view id);
// A reference to an organisation by HSA-id (or organisationsnummer): the literal reference to
// the Organization the projection keeps for it (ProjectionContext creates it on first use), the
// identifier and the display. Display only if there is no identifier; null if empty.
Json OrganizationRef(const care::v1::Organisation& org);
// The same for staff by HSA-id (Practitioner); null if empty.
Json PractitionerRef(const care::v1::Actor& actor);
// An identifier of the hub's own naming system `name`.
Json HubIdentifier(std::string_view name, std::string_view value);

// Swedish display of a party role, e.g. "Kommunal hälso- och sjukvård".
std::string PartyRoleDisplay(care::v1::PartyRole role);

// object[key] as an array, created empty when missing.
Json& ArrayMember(Json& object, const char* key);

}  // namespace carehub::fhir::internal

#endif  // CAREHUB_FHIR_INTERNAL_FHIR_JSON_H_
