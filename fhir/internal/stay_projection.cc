// The hospital stay (Encounter, class IMP) and the discharge workflow of Lag (2017:612): Tasks
// with due times (restriction.period.end) and Communications for each notice.
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "fhir/internal/projections.h"

namespace carehub::fhir::internal {
namespace {

using care::v1::CareEvent;

constexpr char kExpectedDischargeExtension[] =
    "https://carehub.se/fhir/StructureDefinition/expected-discharge";

// L5: the end of the third local day after the local date of the ready-for-discharge notice
// (as services/care's DeadlineCalendar counts it without the working-day rule). The Task's due
// time is replaced by the care service's own when a DeadlineMet/Breached names it.
absl::Time SipInvitationDue(absl::Time declared) {
  static const absl::TimeZone* const kStockholm = [] {
    auto* zone = new absl::TimeZone(absl::FixedTimeZone(3600));
    absl::LoadTimeZone("Europe/Stockholm", zone);
    return zone;
  }();
  return absl::FromCivil(absl::ToCivilDay(declared, *kStockholm) + 4, *kStockholm);
}

std::string VisitNumberSystem(std::string_view assigner) {
  if (assigner.empty()) return absl::StrCat(kHubNamingSystem, "visit-number");
  bool oid = true;
  std::string safe;
  for (char c : assigner) {
    oid = oid && ((c >= '0' && c <= '9') || c == '.');
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '-';
    safe += plain ? c : '-';
  }
  if (oid) return absl::StrCat("urn:oid:", Sv(assigner));
  return absl::StrCat(kHubNamingSystem, "visit-number/", safe);
}

Json LocationEntry(const care::v1::CareLocation& l, const std::string& start) {
  Json location = Json::object();
  if (!l.unit_hsa_id().empty()) {
    location["identifier"] = {{"system", kHsaIdSystem}, {"value", l.unit_hsa_id()}};
  }
  std::string display = l.unit_name();
  if (display.empty()) {
    display = absl::StrCat(l.point_of_care(), l.room().empty() ? "" : " sal ", l.room(),
                           l.bed().empty() ? "" : " säng ", l.bed());
  }
  location["display"] = display.empty() ? std::string("Okänd vårdplats") : display;
  return {{"location", location}, {"status", "active"}, {"period", {{"start", start}}}};
}

void CloseActiveLocations(Json& encounter, const std::string& end) {
  for (Json& l : ArrayMember(encounter, "location")) {
    if (l.value("status", "") == "active") {
      l["status"] = "completed";
      l["period"]["end"] = end;
    }
  }
}

std::string Or(const google::protobuf::Timestamp& t, const std::string& fallback) {
  return Instant(t).value_or(fallback);
}

void SetExpectedDischarge(Json& encounter, const google::protobuf::Timestamp& t) {
  if (!IsSet(t)) return;
  Json& extensions = ArrayMember(encounter, "extension");
  for (Json& ext : extensions) {
    if (ext.value("url", "") == kExpectedDischargeExtension) {
      ext["valueDateTime"] = *Instant(t);
      return;
    }
  }
  extensions.push_back({{"url", kExpectedDischargeExtension}, {"valueDateTime", *Instant(t)}});
}

absl::StatusOr<Json*> StayEncounter(ProjectionContext& ctx, const care::v1::HospitalStay& stay) {
  const std::string id = StayEncounterId(ctx, stay);
  ASSIGN_OR_RETURN(Json * encounter, ctx.FindOrCreate("Encounter", id));
  if (!encounter->contains("status")) {
    Json identifier = {{"system", VisitNumberSystem(stay.visit_number_assigner())},
                       {"value", stay.visit_number()}};
    (*encounter)["identifier"] = Json::array({identifier});
    (*encounter)["status"] = "in-progress";
    (*encounter)["class"] = {
        {"system", kActCodeSystem}, {"code", "IMP"}, {"display", "inpatient encounter"}};
    (*encounter)["subject"] = ctx.PatientRef();
  }
  return encounter;
}

// Communication of one notice of the workflow; one per event.
Json& NewCommunication(ProjectionContext& ctx, Json& communication, std::string_view code,
                       const std::string& sent) {
  communication["status"] = "completed";
  communication["category"] = Json::array({HubConcept(code)});
  communication["subject"] = ctx.PatientRef();
  communication["sent"] = sent;
  care::v1::Organisation sender;
  sender.set_hsa_id(ctx.event().source().organisation_hsa_id());
  Json sender_ref = OrganizationRef(sender);
  if (!sender_ref.is_null()) communication["sender"] = sender_ref;
  return communication;
}

Json PartyRef(const care::v1::Party& party) {
  Json ref = OrganizationRef(party.organisation());
  if (ref.is_null()) ref = {{"display", PartyRoleDisplay(party.role())}};
  return ref;
}

absl::StatusOr<Json*> Communication(ProjectionContext& ctx, std::string_view code,
                                    const std::string& sent,
                                    const google::protobuf::RepeatedPtrField<care::v1::Party>& to,
                                    const std::string& encounter_id) {
  ASSIGN_OR_RETURN(Json * c, ctx.FindOrCreate("Communication",
                                              ResourceId("Communication", ctx.event().event_id())));
  NewCommunication(ctx, *c, code, sent);
  if (!encounter_id.empty()) (*c)["encounter"] = Ref("Encounter", encounter_id);
  for (const care::v1::Party& p : to) ArrayMember(*c, "recipient").push_back(PartyRef(p));
  return c;
}

absl::StatusOr<Json*> WorkflowTask(ProjectionContext& ctx, const std::string& task_id,
                                   std::string_view code, const std::string& encounter_id) {
  ASSIGN_OR_RETURN(Json * task, ctx.FindOrCreate("Task", task_id));
  if (!task->contains("status")) {
    (*task)["status"] = "requested";
    (*task)["intent"] = "order";
    (*task)["code"] = HubConcept(code);
    (*task)["for"] = ctx.PatientRef();
    (*task)["encounter"] = Ref("Encounter", encounter_id);
  }
  return task;
}

// Cancels a Task of the stay unless it has already ended.
absl::Status CancelTask(ProjectionContext& ctx, const std::string& task_id, std::string_view why) {
  ASSIGN_OR_RETURN(Json * task, ctx.Find("Task", task_id));
  if (task == nullptr) return absl::OkStatus();
  const std::string status = task->value("status", "");
  if (status == "completed" || status == "cancelled" || status == "failed") return absl::OkStatus();
  (*task)["status"] = "cancelled";
  (*task)["statusReason"] = {{"text", std::string(why)}};
  (*task)["lastModified"] = ctx.OccurredAt();
  return absl::OkStatus();
}

absl::Status Admitted(ProjectionContext& ctx, const care::v1::InpatientAdmitted& e) {
  ASSIGN_OR_RETURN(Json * enc, StayEncounter(ctx, e.stay()));
  const std::string id = (*enc)["id"];
  const std::string start = Or(e.admitted_at(), ctx.OccurredAt());
  (*enc)["status"] = "in-progress";
  Json physician = PractitionerRef(e.attending_physician());
  if (!physician.is_null()) {
    Json type =
        Concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "ATND", "attender");
    (*enc)["participant"] =
        Json::array({{{"type", Json::array({type})}, {"individual", physician}}});
  }
  (*enc)["period"] = {{"start", start}};
  if (!e.admission_type().empty()) {
    (*enc)["hospitalization"]["admitSource"] = {{"text", e.admission_type()}};
  }
  SetExpectedDischarge(*enc, e.expected_discharge_at());
  if (ArrayMember(*enc, "location").empty()) {
    (*enc)["location"].push_back(LocationEntry(e.location(), start));
  }
  care::v1::Organisation provider;
  provider.set_hsa_id(ctx.event().source().organisation_hsa_id());
  Json provider_ref = OrganizationRef(provider);
  if (!provider_ref.is_null()) (*enc)["serviceProvider"] = provider_ref;
  const absl::Time admitted =
      IsSet(e.admitted_at()) ? ToTime(e.admitted_at()) : ToTime(ctx.event().occurred_at());
  ctx.SetState(absl::StrCat("stay-admitted/", id), absl::StrCat(absl::ToUnixMicros(admitted)));
  return PauseHomeActivities(ctx, id);
}

absl::Status Transferred(ProjectionContext& ctx, const care::v1::InpatientTransferred& e) {
  ASSIGN_OR_RETURN(Json * enc, StayEncounter(ctx, e.stay()));
  const std::string at = Or(e.transferred_at(), ctx.OccurredAt());
  CloseActiveLocations(*enc, at);
  (*enc)["location"].push_back(LocationEntry(e.to_location(), at));
  return absl::OkStatus();
}

absl::Status Discharged(ProjectionContext& ctx, const care::v1::InpatientDischarged& e) {
  ASSIGN_OR_RETURN(Json * enc, StayEncounter(ctx, e.stay()));
  const std::string at = Or(e.discharged_at(), ctx.OccurredAt());
  (*enc)["status"] = "finished";
  if (!(*enc)["period"].contains("start") && IsSet(e.admitted_at())) {
    (*enc)["period"]["start"] = *Instant(e.admitted_at());
  }
  (*enc)["period"]["end"] = at;
  CloseActiveLocations(*enc, at);
  Json& hospitalization = (*enc)["hospitalization"];
  if (!e.disposition().code().empty())
    hospitalization["dischargeDisposition"] = ConceptOf(e.disposition());
  std::string destination = e.discharged_to().name();
  if (destination.empty()) destination = e.discharged_to_code();
  if (!destination.empty()) hospitalization["destination"] = {{"display", destination}};
  if (hospitalization.empty()) enc->erase("hospitalization");
  return ResumeHomeActivities(ctx, (*enc)["id"].get<std::string>());
}

absl::Status AdmissionCancelled(ProjectionContext& ctx, const care::v1::AdmissionCancelled& e) {
  ASSIGN_OR_RETURN(Json * enc, StayEncounter(ctx, e.stay()));
  const std::string id = (*enc)["id"];
  (*enc)["status"] = "entered-in-error";
  RETURN_IF_ERROR(CancelTask(ctx, AdmissionNoticeTaskId(id), "Inskrivningen makulerad"));
  RETURN_IF_ERROR(CancelTask(ctx, SipInvitationTaskId(id), "Inskrivningen makulerad"));
  return ResumeHomeActivities(ctx, id);
}

absl::Status DischargeCancelled(ProjectionContext& ctx, const care::v1::DischargeCancelled& e) {
  ASSIGN_OR_RETURN(Json * enc, StayEncounter(ctx, e.stay()));
  (*enc)["status"] = "in-progress";
  if (enc->contains("period")) (*enc)["period"].erase("end");
  if (enc->contains("hospitalization")) {
    (*enc)["hospitalization"].erase("dischargeDisposition");
    (*enc)["hospitalization"].erase("destination");
    if ((*enc)["hospitalization"].empty()) enc->erase("hospitalization");
  }
  if (e.has_location()) {
    CloseActiveLocations(*enc, ctx.OccurredAt());
    (*enc)["location"].push_back(LocationEntry(e.location(), ctx.OccurredAt()));
  } else if (enc->contains("location") && (*enc)["location"].is_array() &&
             !(*enc)["location"].empty()) {
    // A13 without a location: the patient never left, so the place the discharge closed is
    // theirs again, as if the discharge had not happened.
    Json& last = (*enc)["location"].back();
    last["status"] = "active";
    if (last.contains("period")) last["period"].erase("end");
  }
  return PauseHomeActivities(ctx, (*enc)["id"].get<std::string>());
}

absl::Status NeedsAssessed(ProjectionContext& ctx, const care::v1::PostDischargeNeedsAssessed& e) {
  ASSIGN_OR_RETURN(Json * enc, StayEncounter(ctx, e.stay()));
  const std::string enc_id = (*enc)["id"];
  // L1: due 24 elapsed hours after the admission or the assessment, whichever is later.
  absl::Time from =
      IsSet(e.assessed_at()) ? ToTime(e.assessed_at()) : ToTime(ctx.event().occurred_at());
  ASSIGN_OR_RETURN(std::optional<std::string> admitted,
                   ctx.State(absl::StrCat("stay-admitted/", enc_id)));
  int64_t micros = 0;
  if (admitted.has_value() && absl::SimpleAtoi(*admitted, &micros)) {
    from = std::max(from, absl::FromUnixMicros(micros));
  }
  ASSIGN_OR_RETURN(Json * task,
                   WorkflowTask(ctx, AdmissionNoticeTaskId(enc_id), hub::kAdmissionNotice, enc_id));
  (*task)["authoredOn"] = Or(e.assessed_at(), ctx.OccurredAt());
  Json restriction = {{"period", {{"end", Instant(from + absl::Hours(24))}}}};
  for (const care::v1::Party& p : e.expected_receivers()) {
    ArrayMember(restriction, "recipient").push_back(PartyRef(p));
  }
  (*task)["restriction"] = restriction;
  return absl::OkStatus();
}

absl::Status NoticeSent(ProjectionContext& ctx, const care::v1::AdmissionNoticeSent& e) {
  ASSIGN_OR_RETURN(Json * enc, StayEncounter(ctx, e.stay()));
  const std::string enc_id = (*enc)["id"];
  const std::string sent = Or(e.sent_at(), ctx.OccurredAt());
  SetExpectedDischarge(*enc, e.expected_discharge_at());
  const std::string task_id = AdmissionNoticeTaskId(enc_id);
  ASSIGN_OR_RETURN(Json * c,
                   Communication(ctx, hub::kAdmissionNotice, sent, e.receivers(), enc_id));
  if (!e.notice_id().empty()) {
    (*c)["identifier"] = Json::array({HubIdentifier("admission-notice-id", e.notice_id())});
    ctx.SetState(absl::StrCat("notice/", e.notice_id()), (*c)["id"].get<std::string>());
  }
  if (!e.task_id().empty()) ctx.SetState(absl::StrCat("task/", e.task_id()), task_id);
  ASSIGN_OR_RETURN(Json * task, ctx.Find("Task", task_id));
  if (task != nullptr) {
    (*c)["basedOn"] = Json::array({Ref("Task", task_id)});
    (*task)["status"] = "completed";
    (*task)["executionPeriod"]["end"] = sent;
    (*task)["lastModified"] = sent;
    (*task)["output"] =
        Json::array({{{"type", HubConcept(hub::kAdmissionNotice)},
                      {"valueReference", Ref("Communication", (*c)["id"].get<std::string>())}}});
  }
  return absl::OkStatus();
}

absl::Status NoticeAcknowledged(ProjectionContext& ctx,
                                const care::v1::AdmissionNoticeAcknowledged& e) {
  ASSIGN_OR_RETURN(Json * c, ctx.FindOrCreate("Communication",
                                              ResourceId("Communication", ctx.event().event_id())));
  NewCommunication(ctx, *c, hub::kAdmissionNoticeAck, Or(e.acknowledged_at(), ctx.OccurredAt()));
  Json sender = PartyRef(e.acknowledged_by());
  (*c)["sender"] = sender;
  ASSIGN_OR_RETURN(std::optional<std::string> notice,
                   ctx.State(absl::StrCat("notice/", e.notice_id())));
  if (notice.has_value()) (*c)["inResponseTo"] = Json::array({Ref("Communication", *notice)});
  return absl::OkStatus();
}

absl::Status ExpectedDischargeChanged(ProjectionContext& ctx,
                                      const care::v1::ExpectedDischargeChanged& e) {
  ASSIGN_OR_RETURN(Json * enc, StayEncounter(ctx, e.stay()));
  SetExpectedDischarge(*enc, e.expected_discharge_at());
  ASSIGN_OR_RETURN(Json * c, Communication(ctx, hub::kExpectedDischargeChanged, ctx.OccurredAt(),
                                           {}, (*enc)["id"].get<std::string>()));
  if (auto at = Instant(e.expected_discharge_at())) {
    std::string text = absl::StrCat("Beräknad utskrivning: ", *at);
    if (!e.reason().empty()) absl::StrAppend(&text, " (", e.reason(), ")");
    (*c)["payload"] = Json::array({{{"contentString", text}}});
  }
  return absl::OkStatus();
}

absl::Status ReadyDeclared(ProjectionContext& ctx, const care::v1::DischargeReadyDeclared& e) {
  ASSIGN_OR_RETURN(Json * enc, StayEncounter(ctx, e.stay()));
  const std::string enc_id = (*enc)["id"];
  const absl::Time declared =
      IsSet(e.declared_at()) ? ToTime(e.declared_at()) : ToTime(ctx.event().occurred_at());
  RETURN_IF_ERROR(
      Communication(ctx, hub::kDischargeReady, Instant(declared), e.receivers(), enc_id).status());
  ASSIGN_OR_RETURN(Json * task,
                   WorkflowTask(ctx, SipInvitationTaskId(enc_id), hub::kSipInvitation, enc_id));
  // Declared again after a revocation: the same Task is requested again with a new due time.
  (*task)["status"] = "requested";
  task->erase("statusReason");
  (*task)["authoredOn"] = Instant(declared);
  Json restriction = {{"period", {{"end", Instant(SipInvitationDue(declared))}}}};
  for (const care::v1::Party& p : e.receivers()) {
    ArrayMember(restriction, "recipient").push_back(PartyRef(p));
  }
  (*task)["restriction"] = restriction;
  return absl::OkStatus();
}

absl::Status ReadyRevoked(ProjectionContext& ctx, const care::v1::DischargeReadyRevoked& e) {
  ASSIGN_OR_RETURN(Json * enc, StayEncounter(ctx, e.stay()));
  const std::string enc_id = (*enc)["id"];
  ASSIGN_OR_RETURN(Json * c, Communication(ctx, hub::kDischargeReadyRevoked,
                                           Or(e.revoked_at(), ctx.OccurredAt()), {}, enc_id));
  if (!e.reason().empty()) (*c)["payload"] = Json::array({{{"contentString", e.reason()}}});
  return CancelTask(ctx, SipInvitationTaskId(enc_id),
                    e.reason().empty() ? std::string("Utskrivningsklar återkallad") : e.reason());
}

absl::Status InformationSent(ProjectionContext& ctx, const care::v1::DischargeInformationSent& e) {
  static constexpr const char* kKinds[] = {"", "Utskrivningsinformation", "Läkemedelsberättelse",
                                           "Omvårdnadsepikris"};
  ASSIGN_OR_RETURN(Json * enc, StayEncounter(ctx, e.stay()));
  ASSIGN_OR_RETURN(Json * c,
                   Communication(ctx, hub::kDischargeInformation, Or(e.sent_at(), ctx.OccurredAt()),
                                 e.receivers(), (*enc)["id"].get<std::string>()));
  if (!e.document_id().empty()) {
    (*c)["identifier"] = Json::array({HubIdentifier("discharge-document-id", e.document_id())});
  }
  for (int kind : e.document_kinds()) {
    if (kind > 0 && kind < 4)
      ArrayMember(*c, "payload").push_back({{"contentString", kKinds[kind]}});
  }
  return absl::OkStatus();
}

}  // namespace

std::string StayEncounterId(const ProjectionContext& ctx, const care::v1::HospitalStay& stay) {
  return ResourceId("stay", absl::StrCat(ctx.event().patient_id(), "|",
                                         stay.visit_number_assigner(), "|", stay.visit_number()));
}

std::string AdmissionNoticeTaskId(std::string_view encounter_id) {
  return ResourceId("Task", absl::StrCat(Sv(encounter_id), "|", hub::kAdmissionNotice));
}

std::string SipInvitationTaskId(std::string_view encounter_id) {
  return ResourceId("Task", absl::StrCat(Sv(encounter_id), "|", hub::kSipInvitation));
}

absl::Status ProjectStayEvent(ProjectionContext& ctx, const CareEvent& e) {
  switch (e.payload_case()) {
    case CareEvent::kInpatientAdmitted:
      return Admitted(ctx, e.inpatient_admitted());
    case CareEvent::kInpatientTransferred:
      return Transferred(ctx, e.inpatient_transferred());
    case CareEvent::kInpatientDischarged:
      return Discharged(ctx, e.inpatient_discharged());
    case CareEvent::kAdmissionCancelled:
      return AdmissionCancelled(ctx, e.admission_cancelled());
    case CareEvent::kDischargeCancelled:
      return DischargeCancelled(ctx, e.discharge_cancelled());
    case CareEvent::kPostDischargeNeedsAssessed:
      return NeedsAssessed(ctx, e.post_discharge_needs_assessed());
    case CareEvent::kAdmissionNoticeSent:
      return NoticeSent(ctx, e.admission_notice_sent());
    case CareEvent::kAdmissionNoticeAcknowledged:
      return NoticeAcknowledged(ctx, e.admission_notice_acknowledged());
    case CareEvent::kExpectedDischargeChanged:
      return ExpectedDischargeChanged(ctx, e.expected_discharge_changed());
    case CareEvent::kDischargeReadyDeclared:
      return ReadyDeclared(ctx, e.discharge_ready_declared());
    case CareEvent::kDischargeReadyRevoked:
      return ReadyRevoked(ctx, e.discharge_ready_revoked());
    case CareEvent::kDischargeInformationSent:
      return InformationSent(ctx, e.discharge_information_sent());
    default:
      return absl::InternalError("not a stay event");
  }
}

}  // namespace carehub::fhir::internal
