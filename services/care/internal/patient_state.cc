#include "services/care/internal/patient_state.h"

#include <algorithm>
#include <iterator>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"

namespace carehub::care::internal {
namespace {

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// The time a fact names itself, else when it occurred.
absl::Time FactTime(const google::protobuf::Timestamp& own, const v1::CareEvent& event) {
  return own.seconds() != 0 || own.nanos() != 0 ? ToTime(own) : ToTime(event.occurred_at());
}

std::string_view KindSlug(v1::DeadlineKind kind) {
  switch (kind) {
    case v1::DEADLINE_KIND_ADMISSION_NOTICE_24H: return "admission-notice";
    case v1::DEADLINE_KIND_SIP_INVITATION_3_DAYS: return "sip-invitation";
    case v1::DEADLINE_KIND_DISCHARGE_INFORMATION_SAME_DAY: return "discharge-information";
    case v1::DEADLINE_KIND_PRIMARY_CONTACT_BEFORE_DISCHARGE: return "primary-contact";
    case v1::DEADLINE_KIND_PAYMENT_RESPONSIBILITY: return "payment-responsibility";
    default: return "deadline";
  }
}

}  // namespace

std::string CommandKey(const std::string& source_system, const std::string& command_id) {
  return absl::StrCat(source_system.size(), ":", source_system, "/", command_id);
}

std::string MemberKey(const v1::CareTeamMember& member) {
  if (!member.hsa_id().empty()) return member.hsa_id();
  return absl::StrCat(member.name(), "|", member.role().code());
}

std::string TaskId(const std::string& opening_event_id, v1::DeadlineKind kind) {
  return absl::StrCat(opening_event_id, ":", std::string(KindSlug(kind)));
}

absl::Status PatientState::Apply(const eventstore::RecordedEvent& recorded) {
  v1::CareEvent event;
  if (!event.ParseFromString(recorded.data)) {
    return absl::DataLossError(absl::StrCat("event at position ", recorded.position,
                                            " in ", recorded.stream_id, " is not a CareEvent"));
  }
  Apply(event, recorded.version, recorded.position);
  return absl::OkStatus();
}

void PatientState::Apply(const v1::CareEvent& event, uint64_t version, uint64_t position) {
  Apply(event);
  version_ = version;
  if (!event.causation_id().empty()) {
    CommandRecord& record = commands_[CommandKey(event.source().system(), event.causation_id())];
    if (record.event_ids.empty()) {
      record.first_version = version;
      record.first_position = position;
    }
    record.event_ids.push_back(event.event_id());
    record.last_version = version;
    record.last_position = position;
  }
}

void PatientState::Apply(const v1::CareEvent& event) {
  ApplyPlan(event);
  ApplyCare(event);
  ApplyStay(event);
  ApplyWorkflow(event);
}

absl::Time PatientState::EarliestDue() const {
  absl::Time earliest = absl::InfiniteFuture();
  for (const auto& [id, task] : open_tasks_) earliest = std::min(earliest, task.due);
  return earliest;
}

const CommandRecord* PatientState::FindCommand(const std::string& key) const {
  auto it = commands_.find(key);
  return it == commands_.end() ? nullptr : &it->second;
}

void PatientState::OpenTask(const v1::CareEvent& event, v1::DeadlineKind kind, absl::Time due,
                            const v1::HospitalStay& stay, std::string agreement_id,
                            std::string agreement_version) {
  DeadlineTask task{.task_id = TaskId(event.event_id(), kind),
                    .kind = kind,
                    .due = due,
                    .stay = stay,
                    .agreement_id = std::move(agreement_id),
                    .agreement_version = std::move(agreement_version),
                    .data_owner = event.data_owner()};
  open_tasks_[task.task_id] = std::move(task);
}

void PatientState::CloseTasks(const std::string& visit_number, std::set<v1::DeadlineKind> kinds) {
  for (auto it = open_tasks_.begin(); it != open_tasks_.end();) {
    const bool match = it->second.stay.visit_number() == visit_number &&
                       (kinds.empty() || kinds.count(it->second.kind) > 0);
    it = match ? open_tasks_.erase(it) : std::next(it);
  }
}

// Plan, goals, consent and block.
void PatientState::ApplyPlan(const v1::CareEvent& event) {
  switch (event.payload_case()) {
    case v1::CareEvent::kPatientEnrolled:
      plan_status_ = PlanStatus::kDraft;
      care_plan_id_ = event.patient_enrolled().care_plan_id();
      care_team_id_ = event.patient_enrolled().care_team_id();
      break;
    case v1::CareEvent::kCarePlanAgreed:
      plan_status_ = PlanStatus::kActive;
      break;
    case v1::CareEvent::kCarePlanClosed:
      plan_status_ = PlanStatus::kClosed;
      break;
    case v1::CareEvent::kGoalSet:
      goals_.insert(event.goal_set().goal_id());
      break;
    case v1::CareEvent::kConsentGiven: {
      ConsentState& consent = consents_[event.consent_given().consent_id()];
      consent.scope = event.consent_given().scope();
      consent.active = true;
      for (const v1::Organisation& org : event.consent_given().receiving_organisations()) {
        consent.receiver_hsa_ids.insert(org.hsa_id());
      }
      break;
    }
    case v1::CareEvent::kConsentWithdrawn:
      consents_[event.consent_withdrawn().consent_id()].active = false;
      break;
    case v1::CareEvent::kRecordBlocked:
      active_blocks_.insert(event.record_blocked().block_id());
      break;
    case v1::CareEvent::kRecordUnblocked:
      active_blocks_.erase(event.record_unblocked().block_id());
      break;
    default:
      break;
  }
}

// Activities and the care team.
void PatientState::ApplyCare(const v1::CareEvent& event) {
  switch (event.payload_case()) {
    case v1::CareEvent::kActivityPlanned:
      activities_[event.activity_planned().activity_id()] = ActivityState{
          .in_home = event.activity_planned().in_home(),
          .data_owner = event.activity_planned().has_data_owner()
                            ? event.activity_planned().data_owner()
                            : event.data_owner()};
      break;
    case v1::CareEvent::kActivityStarted:
      activities_[event.activity_started().activity_id()].status = ActivityStatus::kInProgress;
      break;
    case v1::CareEvent::kActivityPaused: {
      ActivityState& activity = activities_[event.activity_paused().activity_id()];
      activity.status = ActivityStatus::kOnHold;
      activity.paused_by_stay = event.activity_paused().stay().visit_number();
      break;
    }
    case v1::CareEvent::kActivityResumed: {
      ActivityState& activity = activities_[event.activity_resumed().activity_id()];
      activity.status = ActivityStatus::kInProgress;
      activity.paused_by_stay.clear();
      break;
    }
    case v1::CareEvent::kActivityCompleted:
      activities_[event.activity_completed().activity_id()].status = ActivityStatus::kCompleted;
      break;
    case v1::CareEvent::kActivityCancelled:
      activities_[event.activity_cancelled().activity_id()].status = ActivityStatus::kCancelled;
      break;
    case v1::CareEvent::kCareTeamMemberAdded: {
      const v1::CareTeamMember& member = event.care_team_member_added().member();
      team_[MemberKey(member)] = TeamMemberState{.role_code = member.role().code(),
                                                 .start = ToTime(event.occurred_at())};
      break;
    }
    case v1::CareEvent::kCareTeamMemberRemoved: {
      auto it = team_.find(MemberKey(event.care_team_member_removed().member()));
      if (it != team_.end()) it->second.end = ToTime(event.occurred_at());
      if (event.care_team_member_removed().member().hsa_id() == primary_contact_hsa_id_) {
        primary_contact_hsa_id_.clear();
      }
      break;
    }
    case v1::CareEvent::kPrimaryContactAssigned: {
      const v1::PrimaryContactAssigned& assigned = event.primary_contact_assigned();
      auto replaced = team_.find(assigned.replaces_hsa_id());
      if (replaced != team_.end()) replaced->second.end = ToTime(event.occurred_at());
      primary_contact_hsa_id_ = assigned.contact().hsa_id();
      team_[MemberKey(assigned.contact())] = TeamMemberState{
          .role_code = assigned.contact().role().code(), .start = ToTime(event.occurred_at())};
      break;
    }
    default:
      break;
  }
}

// Hospital stays (HL7 v2 ADT).
void PatientState::ApplyStay(const v1::CareEvent& event) {
  switch (event.payload_case()) {
    case v1::CareEvent::kInpatientAdmitted: {
      const v1::InpatientAdmitted& admitted = event.inpatient_admitted();
      StayState& stay = stays_[admitted.stay().visit_number()];
      stay = StayState{.stay = admitted.stay(),
                       .admitted_event_id = event.event_id(),
                       .admitted_at = FactTime(admitted.admitted_at(), event)};
      open_stay_ = admitted.stay().visit_number();
      break;
    }
    case v1::CareEvent::kInpatientDischarged: {
      const v1::InpatientDischarged& discharged = event.inpatient_discharged();
      StayState& stay = stays_[discharged.stay().visit_number()];
      stay.status = StayStatus::kDischarged;
      stay.discharged_event_id = event.event_id();
      stay.discharged_at = FactTime(discharged.discharged_at(), event);
      if (open_stay_ == discharged.stay().visit_number()) open_stay_.clear();
      // L6: information the same local day.
      OpenTask(event, v1::DEADLINE_KIND_DISCHARGE_INFORMATION_SAME_DAY,
               calendar_->DischargeInformationDue(stay.discharged_at), discharged.stay());
      break;
    }
    case v1::CareEvent::kAdmissionCancelled: {
      const std::string& visit = event.admission_cancelled().stay().visit_number();
      stays_[visit].status = StayStatus::kCancelled;
      if (open_stay_ == visit) open_stay_.clear();
      // A cancelled admission never breaches a deadline: its tasks end without an outcome.
      CloseTasks(visit, {});
      break;
    }
    case v1::CareEvent::kDischargeCancelled: {
      const std::string& visit = event.discharge_cancelled().stay().visit_number();
      stays_[visit].status = StayStatus::kAdmitted;
      open_stay_ = visit;
      CloseTasks(visit, {v1::DEADLINE_KIND_DISCHARGE_INFORMATION_SAME_DAY});
      break;
    }
    default:
      break;
  }
}

// The discharge workflow of Lag (2017:612) and deadline outcomes.
void PatientState::ApplyWorkflow(const v1::CareEvent& event) {
  switch (event.payload_case()) {
    case v1::CareEvent::kPostDischargeNeedsAssessed: {
      const v1::PostDischargeNeedsAssessed& assessed = event.post_discharge_needs_assessed();
      StayState& stay = stays_[assessed.stay().visit_number()];
      stay.needs_assessed = true;
      // A second assessment does not restart the clock of a notice already due.
      CloseTasks(assessed.stay().visit_number(), {v1::DEADLINE_KIND_ADMISSION_NOTICE_24H});
      OpenTask(event, v1::DEADLINE_KIND_ADMISSION_NOTICE_24H,
               calendar_->AdmissionNoticeDue(stay.admitted_at,
                                             FactTime(assessed.assessed_at(), event)),
               assessed.stay());
      break;
    }
    case v1::CareEvent::kAdmissionNoticeSent:
      admission_notices_.insert(event.admission_notice_sent().notice_id());
      break;
    case v1::CareEvent::kDischargeReadyDeclared: {
      const v1::DischargeReadyDeclared& ready = event.discharge_ready_declared();
      stays_[ready.stay().visit_number()].ready_for_discharge = true;
      const absl::Time ready_at = FactTime(ready.declared_at(), event);
      // L5 applies when the municipality will give care too. Receivers that name no municipal
      // party say it will not; no receivers say nothing, and the task is opened to be safe.
      bool municipal = ready.receivers().empty();
      for (const v1::Party& party : ready.receivers()) {
        municipal |= party.role() == v1::PARTY_ROLE_MUNICIPALITY_HSL ||
                     party.role() == v1::PARTY_ROLE_MUNICIPALITY_SOL;
      }
      if (municipal) {
        OpenTask(event, v1::DEADLINE_KIND_SIP_INVITATION_3_DAYS,
                 calendar_->SipInvitationDue(ready_at), ready.stay());
      }
      if (const PaymentAgreement* agreement = calendar_->AgreementAt(ready_at)) {
        OpenTask(event, v1::DEADLINE_KIND_PAYMENT_RESPONSIBILITY,
                 calendar_->PaymentResponsibilityStart(ready_at, *agreement), ready.stay(),
                 agreement->agreement_id, agreement->version);
      }
      break;
    }
    case v1::CareEvent::kDischargeReadyRevoked: {
      const std::string& visit = event.discharge_ready_revoked().stay().visit_number();
      stays_[visit].ready_for_discharge = false;
      CloseTasks(visit, {v1::DEADLINE_KIND_SIP_INVITATION_3_DAYS,
                         v1::DEADLINE_KIND_PAYMENT_RESPONSIBILITY});
      break;
    }
    case v1::CareEvent::kSipMeetingInvited:
      sip_meetings_.insert(event.sip_meeting_invited().meeting_id());
      break;
    case v1::CareEvent::kDeadlineMet:
      open_tasks_.erase(event.deadline_met().task_id());
      break;
    case v1::CareEvent::kDeadlineBreached:
      open_tasks_.erase(event.deadline_breached().task_id());
      break;
    default:
      break;
  }
}

}  // namespace carehub::care::internal
