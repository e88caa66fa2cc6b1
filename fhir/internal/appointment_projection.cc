// Appointment: SIP meetings (proposed -> fulfilled) and agreed times (överenskommen tid, booked),
// each also an activity of the plan that refers to it.
#include <string>

#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "fhir/internal/projections.h"

namespace carehub::fhir::internal {
namespace {

using care::v1::CareEvent;

const char* ModeText(care::v1::MeetingMode mode) {
  switch (mode) {
    case care::v1::MEETING_MODE_IN_PERSON:
      return "Fysiskt möte";
    case care::v1::MEETING_MODE_VIDEO:
      return "Videomöte";
    case care::v1::MEETING_MODE_PHONE:
      return "Telefonmöte";
    default:
      return nullptr;
  }
}

// app-1: a participant names an actor or a type. Organisations cannot be Appointment actors in
// R4, so an invited party is a participant by type (role and organisation as text).
Json PartyParticipant(ProjectionContext& ctx, const care::v1::Party& party) {
  if (party.role() == care::v1::PARTY_ROLE_PATIENT) {
    return {{"actor", ctx.PatientRef()}, {"required", "required"}, {"status", "needs-action"}};
  }
  std::string text = PartyRoleDisplay(party.role());
  if (!party.organisation().name().empty())
    absl::StrAppend(&text, ", ", party.organisation().name());
  return {{"type", Json::array({{{"text", text}}})}, {"status", "needs-action"}};
}

absl::Status SipInvited(ProjectionContext& ctx, const care::v1::SipMeetingInvited& e) {
  const std::string id = ResourceId("Appointment", e.meeting_id());
  ASSIGN_OR_RETURN(Json * a, ctx.FindOrCreate("Appointment", id));
  (*a)["identifier"] = Json::array({HubIdentifier("meeting-id", e.meeting_id())});
  (*a)["status"] = "proposed";
  (*a)["serviceType"] = Json::array({HubConcept(hub::kSip)});
  (*a)["description"] = "SIP-möte";
  // app-2: start and end together or not at all.
  if (IsSet(e.proposed_start()) && IsSet(e.proposed_end())) {
    (*a)["start"] = *Instant(e.proposed_start());
    (*a)["end"] = *Instant(e.proposed_end());
  }
  (*a)["created"] = ctx.OccurredAt().substr(0, 10);
  if (const char* mode = ModeText(e.mode())) (*a)["comment"] = mode;
  if (!e.consent_id().empty()) {
    (*a)["supportingInformation"] =
        Json::array({Ref("Consent", ResourceId("Consent", e.consent_id()))});
  }
  Json participants = Json::array();
  bool patient = false;
  for (const care::v1::Party& p : e.invitees()) {
    patient = patient || p.role() == care::v1::PARTY_ROLE_PATIENT;
    participants.push_back(PartyParticipant(ctx, p));
  }
  if (!patient) {
    care::v1::Party p;
    p.set_role(care::v1::PARTY_ROLE_PATIENT);
    participants.insert(participants.begin(), PartyParticipant(ctx, p));
  }
  Json inviter = PractitionerRef(e.invited_by());
  if (!inviter.is_null()) participants.push_back({{"actor", inviter}, {"status", "accepted"}});
  (*a)["participant"] = participants;
  RETURN_IF_ERROR(AddActivityReference(ctx, e.care_plan_id(), Ref("Appointment", id)));
  // L5 is met by the invitation: the stay's "kallelse SIP" Task completes.
  if (e.has_stay()) {
    const std::string task_id = SipInvitationTaskId(StayEncounterId(ctx, e.stay()));
    ASSIGN_OR_RETURN(Json * task, ctx.Find("Task", task_id));
    if (task != nullptr && (*task)["status"] == "requested") {
      (*task)["status"] = "completed";
      (*task)["executionPeriod"]["end"] = ctx.OccurredAt();
      (*task)["lastModified"] = ctx.OccurredAt();
      (*task)["output"] = Json::array({{{"type", HubConcept(hub::kSipInvitation)},
                                        {"valueReference", Ref("Appointment", id)}}});
    }
  }
  return absl::OkStatus();
}

absl::Status SipHeld(ProjectionContext& ctx, const care::v1::SipMeetingHeld& e) {
  ASSIGN_OR_RETURN(Json * a, ctx.Find("Appointment", ResourceId("Appointment", e.meeting_id())));
  if (a == nullptr) return absl::OkStatus();
  (*a)["status"] = "fulfilled";
  if (IsSet(e.started_at()) && IsSet(e.ended_at())) {
    (*a)["start"] = *Instant(e.started_at());
    (*a)["end"] = *Instant(e.ended_at());
  }
  for (Json& p : ArrayMember(*a, "participant")) {
    const bool is_patient = p.contains("actor") && p["actor"] == ctx.PatientRef();
    p["status"] = is_patient && !e.patient_participated() ? "declined" : "accepted";
  }
  return absl::OkStatus();
}

absl::Status AgreedTimeBooked(ProjectionContext& ctx, const care::v1::AgreedTimeBooked& e) {
  const std::string id = ResourceId("Appointment", e.appointment_id());
  ASSIGN_OR_RETURN(Json * a, ctx.FindOrCreate("Appointment", id));
  (*a)["identifier"] = Json::array({HubIdentifier("appointment-id", e.appointment_id())});
  // app-3: only a proposed appointment may lack start and end.
  const bool timed = IsSet(e.start()) && IsSet(e.end());
  (*a)["status"] = timed ? "booked" : "proposed";
  if (!e.description().empty()) (*a)["description"] = e.description();
  if (timed) {
    (*a)["start"] = *Instant(e.start());
    (*a)["end"] = *Instant(e.end());
  }
  (*a)["created"] = ctx.OccurredAt().substr(0, 10);
  if (const char* mode = ModeText(e.mode())) (*a)["comment"] = mode;
  Json participants = Json::array({{{"actor", ctx.PatientRef()}, {"status", "accepted"}}});
  Json practitioner = PractitionerRef(e.practitioner());
  if (!practitioner.is_null())
    participants.push_back({{"actor", practitioner}, {"status", "accepted"}});
  if (!e.performer().name().empty()) {
    participants.push_back(
        {{"type", Json::array({{{"text", e.performer().name()}}})}, {"status", "accepted"}});
  }
  if (!e.location().empty()) {
    participants.push_back(
        {{"actor", {{"type", "Location"}, {"display", e.location()}}}, {"status", "accepted"}});
  }
  (*a)["participant"] = participants;
  RETURN_IF_ERROR(AddActivityReference(ctx, e.care_plan_id(), Ref("Appointment", id)));
  if (!e.activity_id().empty()) return ScheduleActivity(ctx, e.activity_id());
  return absl::OkStatus();
}

}  // namespace

absl::Status ProjectAppointmentEvent(ProjectionContext& ctx, const CareEvent& e) {
  switch (e.payload_case()) {
    case CareEvent::kSipMeetingInvited:
      return SipInvited(ctx, e.sip_meeting_invited());
    case CareEvent::kSipMeetingHeld:
      return SipHeld(ctx, e.sip_meeting_held());
    case CareEvent::kAgreedTimeBooked:
      return AgreedTimeBooked(ctx, e.agreed_time_booked());
    default:
      return absl::InternalError("not an appointment event");
  }
}

}  // namespace carehub::fhir::internal
