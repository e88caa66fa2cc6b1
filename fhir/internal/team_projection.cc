// CareTeam participants: members added and removed (period.end, never deleted) and the fast
// vårdkontakt.
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "fhir/internal/projections.h"

namespace carehub::fhir::internal {
namespace {

using care::v1::CareEvent;
using care::v1::CareTeamMember;

// Who a member is, as CareTeamMemberRemoved identifies them: the HSA-id for staff, else kind,
// name and role. Hashed into the participant's element id, so no name reaches an id.
std::string MemberKey(const CareTeamMember& m) {
  if (!m.hsa_id().empty()) return absl::StrCat("hsa|", m.hsa_id());
  return absl::StrCat("kind|", static_cast<int>(m.kind()), "|", m.name(), "|", m.role().code());
}

std::string ParticipantPrefix(const CareTeamMember& m, bool primary_contact) {
  return ResourceId(primary_contact ? "primary-contact" : "member", MemberKey(m));
}

Json Member(ProjectionContext& ctx, const CareTeamMember& m) {
  if (m.kind() == care::v1::MEMBER_KIND_PATIENT) {
    Json ref = ctx.PatientRef();
    if (!m.name().empty()) ref["display"] = m.name();
    return ref;
  }
  if (m.kind() == care::v1::MEMBER_KIND_RELATED_PERSON || m.hsa_id().empty()) {
    // Närstående have no resource of their own yet: a display-only reference.
    Json ref = Json::object();
    ref["type"] =
        m.kind() == care::v1::MEMBER_KIND_RELATED_PERSON ? "RelatedPerson" : "Practitioner";
    ref["display"] = m.name().empty() ? std::string("Okänd") : m.name();
    return ref;
  }
  care::v1::Actor actor;
  actor.set_hsa_id(m.hsa_id());
  actor.set_name(m.name());
  return PractitionerRef(actor);
}

// The member's role at the organisation they act for: one PractitionerRole per (HSA-id,
// organisation), created when first seen in a team.
absl::Status AddPractitionerRole(ProjectionContext& ctx, const CareTeamMember& m,
                                 const Json& practitioner, const Json& organization) {
  const std::string org_key = organization.contains("identifier")
                                  ? organization["identifier"].value("value", "")
                                  : organization.value("display", "");
  ASSIGN_OR_RETURN(
      Json * role,
      ctx.FindOrCreate("PractitionerRole",
                       ResourceId("PractitionerRole", absl::StrCat(m.hsa_id(), "|", org_key))));
  if (role->contains("practitioner")) return absl::OkStatus();
  (*role)["active"] = true;
  (*role)["practitioner"] = practitioner;
  (*role)["organization"] = organization;
  if (!m.role().code().empty() || !m.role().display().empty()) {
    (*role)["code"] = Json::array({ConceptOf(m.role())});
  }
  return absl::OkStatus();
}

// The participant element ids are "<prefix>-<n>" for the n-th time the same member joined.
Json* OpenParticipant(Json& team, std::string_view prefix) {
  for (Json& p : ArrayMember(team, "participant")) {
    const std::string id = p.value("id", "");
    if (id.rfind(prefix, 0) == 0 && !(p.contains("period") && p["period"].contains("end"))) {
      return &p;
    }
  }
  return nullptr;
}

absl::Status AddParticipant(ProjectionContext& ctx, std::string_view care_team_id,
                            const CareTeamMember& m, bool primary_contact) {
  ASSIGN_OR_RETURN(Json * team, ctx.Find("CareTeam", ResourceId("CareTeam", care_team_id)));
  if (team == nullptr) return absl::OkStatus();  // a team this projection never saw opened
  const std::string prefix = ParticipantPrefix(m, primary_contact);
  if (OpenParticipant(*team, prefix) != nullptr) return absl::OkStatus();  // already a member
  Json& participants = ArrayMember(*team, "participant");
  int n = 1;
  for (const Json& p : participants) {
    if (p.value("id", "").rfind(prefix, 0) == 0) ++n;
  }
  Json participant = Json::object();
  participant["id"] = absl::StrCat(prefix, "-", n);
  Json& roles = ArrayMember(participant, "role");
  if (primary_contact) roles.push_back(HubConcept(hub::kPrimaryContact));
  if (!m.role().code().empty() || !m.role().display().empty()) roles.push_back(ConceptOf(m.role()));
  if (roles.empty()) participant.erase("role");
  participant["member"] = Member(ctx, m);
  // ctm-1: onBehalfOf only for a Practitioner member.
  const bool practitioner = participant["member"].value("type", "") == "Practitioner";
  Json on_behalf = OrganizationRef(m.has_on_behalf_of() ? m.on_behalf_of() : m.organisation());
  if (practitioner && !on_behalf.is_null()) participant["onBehalfOf"] = on_behalf;
  participant["period"] = {{"start", ctx.OccurredAt()}};
  participants.push_back(participant);
  if (practitioner && !m.hsa_id().empty() && !on_behalf.is_null()) {
    return AddPractitionerRole(ctx, m, participant["member"], on_behalf);
  }
  return absl::OkStatus();
}

absl::Status EndParticipant(ProjectionContext& ctx, std::string_view care_team_id,
                            const CareTeamMember& m, bool primary_contact) {
  ASSIGN_OR_RETURN(Json * team, ctx.Find("CareTeam", ResourceId("CareTeam", care_team_id)));
  if (team == nullptr) return absl::OkStatus();
  Json* p = OpenParticipant(*team, ParticipantPrefix(m, primary_contact));
  if (p != nullptr) (*p)["period"]["end"] = ctx.OccurredAt();
  return absl::OkStatus();
}

absl::Status PrimaryContactAssigned(ProjectionContext& ctx,
                                    const care::v1::PrimaryContactAssigned& e) {
  if (!e.replaces_hsa_id().empty()) {
    CareTeamMember previous;
    previous.set_hsa_id(e.replaces_hsa_id());
    RETURN_IF_ERROR(EndParticipant(ctx, e.care_team_id(), previous, /*primary_contact=*/true));
  }
  return AddParticipant(ctx, e.care_team_id(), e.contact(), /*primary_contact=*/true);
}

}  // namespace

absl::Status ProjectTeamEvent(ProjectionContext& ctx, const CareEvent& e) {
  switch (e.payload_case()) {
    case CareEvent::kCareTeamMemberAdded:
      return AddParticipant(ctx, e.care_team_member_added().care_team_id(),
                            e.care_team_member_added().member(), false);
    case CareEvent::kCareTeamMemberRemoved: {
      const care::v1::CareTeamMemberRemoved& r = e.care_team_member_removed();
      RETURN_IF_ERROR(EndParticipant(ctx, r.care_team_id(), r.member(), false));
      // Removing a member also ends their role as fast vårdkontakt, if they had it.
      if (!r.member().hsa_id().empty()) {
        return EndParticipant(ctx, r.care_team_id(), r.member(), true);
      }
      return absl::OkStatus();
    }
    case CareEvent::kPrimaryContactAssigned:
      return PrimaryContactAssigned(ctx, e.primary_contact_assigned());
    default:
      return absl::InternalError("not a care team event");
  }
}

}  // namespace carehub::fhir::internal
