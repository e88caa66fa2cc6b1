// Care at home (home visits as Encounter class HH, self-monitoring Observations, deterioration
// alerts as a Flag on the record and an urgent Task for the team) and deadlines (Task
// businessStatus).
#include <string>

#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "fhir/internal/projections.h"

namespace carehub::fhir::internal {
namespace {

using care::v1::CareEvent;

absl::Status HomeVisit(ProjectionContext& ctx, const care::v1::HomeVisitPerformed& e) {
  ASSIGN_OR_RETURN(Json * enc,
                   ctx.FindOrCreate("Encounter", ResourceId("home-visit", e.visit_id())));
  (*enc)["identifier"] = Json::array({HubIdentifier("home-visit-id", e.visit_id())});
  (*enc)["status"] = IsSet(e.ended_at()) ? "finished" : "in-progress";
  (*enc)["class"] = {{"system", kActCodeSystem}, {"code", "HH"}, {"display", "home health"}};
  (*enc)["subject"] = ctx.PatientRef();
  Json participants = Json::array();
  for (const care::v1::Actor& actor : e.performers()) {
    Json ref = PractitionerRef(actor);
    if (ref.is_null()) continue;
    Json type = Concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF",
                        "primary performer");
    participants.push_back({{"type", Json::array({type})}, {"individual", ref}});
  }
  if (!participants.empty()) (*enc)["participant"] = participants;
  Json period = Json::object();
  period["start"] = Instant(e.started_at()).value_or(ctx.OccurredAt());
  if (auto end = Instant(e.ended_at())) period["end"] = *end;
  (*enc)["period"] = period;
  const char* reason = e.reason() == care::v1::HOME_VISIT_REASON_PLANNED ? "Planerat hembesök"
                       : e.reason() == care::v1::HOME_VISIT_REASON_ALERT
                           ? "Hembesök efter försämringslarm"
                           : "Oplanerat hembesök";
  (*enc)["reasonCode"] = Json::array({{{"text", reason}}});
  Json org = OrganizationRef(e.performing_organisation());
  if (!org.is_null()) (*enc)["serviceProvider"] = org;
  if (!e.activity_id().empty()) {
    RETURN_IF_ERROR(AddActivityProgress(ctx, e.activity_id(), e.outcome()));
  }
  // The same-day visit answers the alert: its Task completes and its Flag is lowered.
  if (!e.alert_id().empty()) {
    ASSIGN_OR_RETURN(Json * task, ctx.Find("Task", AlertTaskId(e.alert_id())));
    if (task != nullptr && (*task)["status"] == "requested") {
      (*task)["status"] = "completed";
      (*task)["lastModified"] = ctx.OccurredAt();
      (*task)["output"] =
          Json::array({{{"type", {{"text", "Hembesök"}}},
                        {"valueReference", Ref("Encounter", (*enc)["id"].get<std::string>())}}});
    }
    ASSIGN_OR_RETURN(Json * flag, ctx.Find("Flag", AlertFlagId(e.alert_id())));
    if (flag != nullptr && (*flag)["status"] == "active") {
      (*flag)["status"] = "inactive";
      (*flag)["period"]["end"] = period.value("end", period["start"].get<std::string>());
    }
  }
  return absl::OkStatus();
}

absl::Status SelfMonitoring(ProjectionContext& ctx,
                            const care::v1::SelfMonitoringObservationRecorded& e) {
  ASSIGN_OR_RETURN(Json * obs,
                   ctx.FindOrCreate("Observation", ResourceId("Observation", e.observation_id())));
  (*obs)["identifier"] = Json::array({HubIdentifier("observation-id", e.observation_id())});
  if (!e.activity_id().empty()) {
    ASSIGN_OR_RETURN(std::optional<std::string> plan_id, ActivityPlanId(ctx, e.activity_id()));
    if (plan_id.has_value()) {
      (*obs)["basedOn"] = Json::array({Ref("CarePlan", ResourceId("CarePlan", *plan_id))});
    }
  }
  (*obs)["status"] = "final";
  Json code = ConceptOf(e.code());
  if (code.empty()) code = {{"text", "Egenmätning"}};
  (*obs)["code"] = code;
  (*obs)["subject"] = ctx.PatientRef();
  (*obs)["effectiveDateTime"] = Instant(e.measured_at()).value_or(ctx.OccurredAt());
  (*obs)["performer"] = Json::array({ctx.PatientRef()});
  if (!e.value_text().empty() && e.unit().empty()) {
    (*obs)["valueString"] = e.value_text();
  } else {
    Json quantity = {{"value", e.value()}};
    if (!e.unit().empty()) {
      quantity["unit"] = e.unit();
      quantity["system"] = "http://unitsofmeasure.org";
      quantity["code"] = e.unit();
    }
    (*obs)["valueQuantity"] = quantity;
  }
  if (!e.device().device_id().empty()) {
    Json device = {{"type", "Device"},
                   {"identifier", HubIdentifier("device-id", e.device().device_id())}};
    std::string display = absl::StrCat(e.device().manufacturer(),
                                       e.device().model().empty() ? "" : " ", e.device().model());
    if (!display.empty()) device["display"] = display;
    (*obs)["device"] = device;
  }
  return absl::OkStatus();
}

absl::Status Alert(ProjectionContext& ctx, const care::v1::DeteriorationAlertRaised& e) {
  const std::string task_id = AlertTaskId(e.alert_id());
  ASSIGN_OR_RETURN(Json * task, ctx.FindOrCreate("Task", task_id));
  (*task)["identifier"] = Json::array({HubIdentifier("alert-id", e.alert_id())});
  (*task)["status"] = "requested";
  (*task)["intent"] = "order";
  (*task)["priority"] = e.severity() == care::v1::ALERT_SEVERITY_HIGH  ? "asap"
                        : e.severity() == care::v1::ALERT_SEVERITY_LOW ? "routine"
                                                                       : "urgent";
  (*task)["code"] = HubConcept(hub::kDeteriorationAlert);
  if (!e.rule().empty()) (*task)["description"] = e.rule();
  (*task)["for"] = ctx.PatientRef();
  (*task)["authoredOn"] = ctx.OccurredAt();
  Json owner = OrganizationRef(e.assigned_to());
  if (!owner.is_null()) (*task)["owner"] = owner;
  if (auto by = Instant(e.respond_by())) (*task)["restriction"] = {{"period", {{"end", *by}}}};
  for (const std::string& obs : e.observation_ids()) {
    ArrayMember(*task, "input")
        .push_back({{"type", {{"text", "Observation"}}},
                    {"valueReference", Ref("Observation", ResourceId("Observation", obs))}});
  }
  if (!e.task_id().empty()) ctx.SetState(absl::StrCat("task/", e.task_id()), task_id);

  // The Flag warns whoever opens the record until a visit answers the alert.
  ASSIGN_OR_RETURN(Json * flag, ctx.FindOrCreate("Flag", AlertFlagId(e.alert_id())));
  (*flag)["identifier"] = Json::array({HubIdentifier("alert-id", e.alert_id())});
  (*flag)["status"] = "active";
  (*flag)["category"] = Json::array(
      {{{"coding", Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/flag-category"},
                                 {"code", "clinical"},
                                 {"display", "Clinical"}}})}}});
  Json code = HubConcept(hub::kDeteriorationAlert);
  if (!e.rule().empty()) code["text"] = absl::StrCat(code["coding"][0].value("display", ""), ": ", e.rule());
  (*flag)["code"] = code;
  (*flag)["subject"] = ctx.PatientRef();
  (*flag)["period"] = {{"start", ctx.OccurredAt()}};
  Json author = ctx.SourceOrganizationRef();
  if (!author.is_null()) (*flag)["author"] = author;
  return absl::OkStatus();
}

// The Task a deadline is about: the stay's workflow Task of that kind, else the care service's
// task id as linked by an earlier event. Empty if there is none (e.g. payment responsibility,
// which has no Task).
absl::StatusOr<std::string> DeadlineTaskId(ProjectionContext& ctx, care::v1::DeadlineKind kind,
                                           const care::v1::HospitalStay& stay,
                                           const std::string& task_id) {
  if (!stay.visit_number().empty()) {
    const std::string enc = StayEncounterId(ctx, stay);
    if (kind == care::v1::DEADLINE_KIND_ADMISSION_NOTICE_24H) return AdmissionNoticeTaskId(enc);
    if (kind == care::v1::DEADLINE_KIND_SIP_INVITATION_3_DAYS) return SipInvitationTaskId(enc);
  }
  if (task_id.empty()) return std::string();
  ASSIGN_OR_RETURN(std::optional<std::string> linked, ctx.State(absl::StrCat("task/", task_id)));
  return linked.value_or("");
}

template <typename Deadline>
absl::Status DeadlineReached(ProjectionContext& ctx, const Deadline& e, bool met) {
  ASSIGN_OR_RETURN(std::string task_id, DeadlineTaskId(ctx, e.kind(), e.stay(), e.task_id()));
  if (task_id.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(Json * task, ctx.Find("Task", task_id));
  if (task == nullptr) return absl::OkStatus();
  (*task)["businessStatus"] = HubConcept(met ? hub::kDeadlineMet : hub::kDeadlineBreached);
  // The care service's due time is the authority (it knows the regional calendar options).
  if (auto due = Instant(e.due())) (*task)["restriction"]["period"]["end"] = *due;
  if (auto actual = Instant(e.actual())) {
    const std::string status = task->value("status", "");
    if (status != "completed" && status != "cancelled") (*task)["status"] = "completed";
    if (!(*task)["executionPeriod"].contains("end")) (*task)["executionPeriod"]["end"] = *actual;
  }
  (*task)["lastModified"] = ctx.OccurredAt();
  return absl::OkStatus();
}

}  // namespace

std::string AlertTaskId(std::string_view alert_id) {
  return ResourceId("Task", absl::StrCat("alert|", std::string(alert_id)));
}

std::string AlertFlagId(std::string_view alert_id) {
  return ResourceId("Flag", absl::StrCat("alert|", std::string(alert_id)));
}

absl::Status ProjectHomeEvent(ProjectionContext& ctx, const CareEvent& e) {
  switch (e.payload_case()) {
    case CareEvent::kHomeVisitPerformed:
      return HomeVisit(ctx, e.home_visit_performed());
    case CareEvent::kSelfMonitoringObservationRecorded:
      return SelfMonitoring(ctx, e.self_monitoring_observation_recorded());
    case CareEvent::kDeteriorationAlertRaised:
      return Alert(ctx, e.deterioration_alert_raised());
    case CareEvent::kDeadlineMet:
      return DeadlineReached(ctx, e.deadline_met(), true);
    case CareEvent::kDeadlineBreached:
      return DeadlineReached(ctx, e.deadline_breached(), false);
    default:
      return absl::InternalError("not a home or deadline event");
  }
}

}  // namespace carehub::fhir::internal
