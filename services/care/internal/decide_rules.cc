// The rules each command's fact must satisfy against the patient's record. Each returns OK for
// facts of other areas, so Decide can run every rule set in turn.
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "services/care/internal/decide.h"

namespace carehub::care::internal {
namespace {

absl::Status Invalid(std::string_view field, std::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(Sv(field), ": ", Sv(reason)));
}
absl::Status Illegal(std::string_view field, std::string_view reason) {
  return absl::FailedPreconditionError(absl::StrCat(Sv(field), ": ", Sv(reason)));
}
absl::Status Missing(std::string_view field, std::string_view id) {
  return absl::NotFoundError(absl::StrCat(Sv(field), ": no ", Sv(id), " in the patient's record"));
}
absl::Status Required(std::string_view field) { return Invalid(field, "required"); }

std::string_view ActivityStatusName(ActivityStatus status) {
  switch (status) {
    case ActivityStatus::kNotStarted: return "not-started";
    case ActivityStatus::kInProgress: return "in-progress";
    case ActivityStatus::kOnHold: return "on-hold";
    case ActivityStatus::kCompleted: return "completed";
    case ActivityStatus::kCancelled: return "cancelled";
  }
  return "unknown";
}

// An open plan (draft or active) to attach things to; fills in the plan id when not given.
absl::Status RequireOpenPlan(const PatientState& state, std::string_view field,
                             std::string* care_plan_id) {
  if (state.plan_status() == PlanStatus::kNone) return Missing(field, "care plan (not enrolled)");
  if (state.plan_status() == PlanStatus::kClosed) return Illegal(field, "the care plan is closed");
  if (care_plan_id->empty()) *care_plan_id = state.care_plan_id();
  if (*care_plan_id != state.care_plan_id()) return Missing(field, "such care plan");
  return absl::OkStatus();
}

// Activity transitions: not-started -> in-progress <-> on-hold -> completed; any open -> cancelled.
absl::Status CheckActivityTransition(const PatientState& state, std::string_view field,
                                     const std::string& activity_id,
                                     std::set<ActivityStatus> from, std::string_view to) {
  if (activity_id.empty()) return Required(field);
  auto it = state.activities().find(activity_id);
  if (it == state.activities().end()) return Missing(field, "such activity");
  if (from.count(it->second.status) == 0) {
    return Illegal(field, absl::StrCat("activity is ", Sv(ActivityStatusName(it->second.status)),
                                       ", cannot become ", Sv(to)));
  }
  return absl::OkStatus();
}

absl::Status CheckConsent(const PatientState& state, const v1::CareEvent& event) {
  switch (event.payload_case()) {
    case v1::CareEvent::kConsentGiven: {
      const v1::ConsentGiven& given = event.consent_given();
      if (given.consent_id().empty()) return Required("consent_given.consent_id");
      if (given.scope() == v1::CONSENT_SCOPE_UNSPECIFIED) return Required("consent_given.scope");
      if (given.receiving_organisations().empty()) {
        return Required("consent_given.receiving_organisations");
      }
      for (const v1::Organisation& org : given.receiving_organisations()) {
        if (org.hsa_id().empty()) return Required("consent_given.receiving_organisations.hsa_id");
      }
      auto it = state.consents().find(given.consent_id());
      if (it != state.consents().end() && it->second.active) {
        return absl::AlreadyExistsError("consent_given.consent_id: an active consent has this id");
      }
      return absl::OkStatus();
    }
    case v1::CareEvent::kConsentWithdrawn: {
      auto it = state.consents().find(event.consent_withdrawn().consent_id());
      if (it == state.consents().end()) {
        return Missing("consent_withdrawn.consent_id", "such consent");
      }
      if (!it->second.active) return Illegal("consent_withdrawn.consent_id", "already withdrawn");
      return absl::OkStatus();
    }
    case v1::CareEvent::kRecordBlocked:
      if (event.record_blocked().block_id().empty()) return Required("record_blocked.block_id");
      if (state.active_blocks().count(event.record_blocked().block_id()) > 0) {
        return absl::AlreadyExistsError("record_blocked.block_id: an active block has this id");
      }
      return absl::OkStatus();
    case v1::CareEvent::kRecordUnblocked:
      if (state.active_blocks().count(event.record_unblocked().block_id()) == 0) {
        return Missing("record_unblocked.block_id", "active block");
      }
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

// SIP requires the person's consent (HSL 16 kap 4 §, SoL 2 kap 7 §): every organisation that
// agrees the plan or holds responsibility must be a receiver of an active SIP consent.
absl::Status CheckSipConsent(const PatientState& state, const v1::CarePlanAgreed& agreed) {
  std::set<std::string> covered;
  for (const auto& [id, consent] : state.consents()) {
    if (consent.active && consent.scope == v1::CONSENT_SCOPE_SIP) {
      covered.insert(consent.receiver_hsa_ids.begin(), consent.receiver_hsa_ids.end());
    }
  }
  if (covered.empty()) return Illegal("care_plan_agreed.is_sip", "no active SIP consent");
  std::vector<const v1::Party*> parties;
  for (const v1::Party& party : agreed.agreed_by()) parties.push_back(&party);
  parties.push_back(&agreed.overall_responsibility());
  for (const v1::Party* party : parties) {
    const std::string& hsa_id = party->organisation().hsa_id();
    if (hsa_id.empty()) continue;  // the patient, a related person
    if (covered.count(hsa_id) == 0) {
      return Illegal("care_plan_agreed.agreed_by",
                     absl::StrCat("no active SIP consent covers organisation ", hsa_id));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPlan(const PatientState& state, v1::CareEvent& event) {
  switch (event.payload_case()) {
    case v1::CareEvent::kPatientEnrolled: {
      v1::PatientEnrolled* enrolled = event.mutable_patient_enrolled();
      if (enrolled->target_group() == v1::TARGET_GROUP_UNSPECIFIED) {
        return Required("patient_enrolled.target_group");
      }
      if (state.plan_status() == PlanStatus::kDraft || state.plan_status() == PlanStatus::kActive) {
        return Illegal("patient_enrolled", "the patient already has an open care plan");
      }
      if (enrolled->care_plan_id().empty()) {
        enrolled->set_care_plan_id(absl::StrCat("careplan-", event.event_id()));
      }
      if (enrolled->care_team_id().empty()) {
        enrolled->set_care_team_id(absl::StrCat("careteam-", event.event_id()));
      }
      return absl::OkStatus();
    }
    case v1::CareEvent::kCarePlanAgreed: {
      v1::CarePlanAgreed* agreed = event.mutable_care_plan_agreed();
      RETURN_IF_ERROR(RequireOpenPlan(state, "care_plan_agreed.care_plan_id",
                                       agreed->mutable_care_plan_id()));
      if (state.plan_status() != PlanStatus::kDraft) {
        return Illegal("care_plan_agreed", "the plan is not a draft (revise an active plan)");
      }
      if (agreed->overall_responsibility().role() == v1::PARTY_ROLE_UNSPECIFIED) {
        return Required("care_plan_agreed.overall_responsibility.role");
      }
      if (agreed->is_sip()) return CheckSipConsent(state, *agreed);
      return absl::OkStatus();
    }
    case v1::CareEvent::kCarePlanRevised:
      RETURN_IF_ERROR(RequireOpenPlan(state, "care_plan_revised.care_plan_id",
                                       event.mutable_care_plan_revised()->mutable_care_plan_id()));
      if (state.plan_status() != PlanStatus::kActive) {
        return Illegal("care_plan_revised", "only an active plan can be revised");
      }
      return absl::OkStatus();
    case v1::CareEvent::kCarePlanClosed:
      if (event.care_plan_closed().closure() == v1::CARE_PLAN_CLOSURE_UNSPECIFIED) {
        return Required("care_plan_closed.closure");
      }
      return RequireOpenPlan(state, "care_plan_closed.care_plan_id",
                             event.mutable_care_plan_closed()->mutable_care_plan_id());
    case v1::CareEvent::kGoalSet:
      if (event.goal_set().goal_id().empty()) return Required("goal_set.goal_id");
      if (state.goals().count(event.goal_set().goal_id()) > 0) {
        return absl::AlreadyExistsError("goal_set.goal_id: a goal has this id");
      }
      return RequireOpenPlan(state, "goal_set.care_plan_id",
                             event.mutable_goal_set()->mutable_care_plan_id());
    case v1::CareEvent::kGoalStatusChanged:
      if (state.goals().count(event.goal_status_changed().goal_id()) == 0) {
        return Missing("goal_status_changed.goal_id", "such goal");
      }
      return absl::OkStatus();
    default:
      return CheckConsent(state, event);
  }
}

absl::Status CheckActivity(const PatientState& state, v1::CareEvent& event) {
  using S = ActivityStatus;
  switch (event.payload_case()) {
    case v1::CareEvent::kActivityPlanned: {
      v1::ActivityPlanned* planned = event.mutable_activity_planned();
      if (planned->activity_id().empty()) return Required("activity_planned.activity_id");
      if (state.activities().count(planned->activity_id()) > 0) {
        return absl::AlreadyExistsError("activity_planned.activity_id: an activity has this id");
      }
      for (const std::string& goal : planned->goal_ids()) {
        if (state.goals().count(goal) == 0) {
          return Missing("activity_planned.goal_ids", "such goal");
        }
      }
      return RequireOpenPlan(state, "activity_planned.care_plan_id",
                             planned->mutable_care_plan_id());
    }
    case v1::CareEvent::kActivityStarted:
      return CheckActivityTransition(state, "activity_started.activity_id",
                                     event.activity_started().activity_id(), {S::kNotStarted},
                                     "in-progress");
    case v1::CareEvent::kActivityPaused:
      return CheckActivityTransition(state, "activity_paused.activity_id",
                                     event.activity_paused().activity_id(), {S::kInProgress},
                                     "on-hold");
    case v1::CareEvent::kActivityResumed:
      return CheckActivityTransition(state, "activity_resumed.activity_id",
                                     event.activity_resumed().activity_id(), {S::kOnHold},
                                     "in-progress");
    case v1::CareEvent::kActivityCompleted:
      return CheckActivityTransition(state, "activity_completed.activity_id",
                                     event.activity_completed().activity_id(),
                                     {S::kInProgress, S::kOnHold}, "completed");
    case v1::CareEvent::kActivityCancelled:
      return CheckActivityTransition(state, "activity_cancelled.activity_id",
                                     event.activity_cancelled().activity_id(),
                                     {S::kNotStarted, S::kInProgress, S::kOnHold}, "cancelled");
    case v1::CareEvent::kHomeVisitPerformed:
    case v1::CareEvent::kSelfMonitoringObservationRecorded: {
      const std::string& activity =
          event.has_home_visit_performed()
              ? event.home_visit_performed().activity_id()
              : event.self_monitoring_observation_recorded().activity_id();
      if (!activity.empty() && state.activities().count(activity) == 0) {
        return Missing("activity_id", "such activity");
      }
      return absl::OkStatus();
    }
    case v1::CareEvent::kAgreedTimeBooked: {
      v1::AgreedTimeBooked* booked = event.mutable_agreed_time_booked();
      if (booked->appointment_id().empty()) return Required("agreed_time_booked.appointment_id");
      if (!booked->activity_id().empty() && state.activities().count(booked->activity_id()) == 0) {
        return Missing("agreed_time_booked.activity_id", "such activity");
      }
      return RequireOpenPlan(state, "agreed_time_booked.care_plan_id",
                             booked->mutable_care_plan_id());
    }
    default:
      return absl::OkStatus();
  }
}

absl::Status CheckTeam(const PatientState& state, v1::CareEvent& event) {
  auto team_id = [&](std::string_view field, std::string* id) -> absl::Status {
    if (state.care_team_id().empty()) return Missing(field, "care team (not enrolled)");
    if (id->empty()) *id = state.care_team_id();
    if (*id != state.care_team_id()) return Missing(field, "such care team");
    return absl::OkStatus();
  };
  switch (event.payload_case()) {
    case v1::CareEvent::kCareTeamMemberAdded: {
      v1::CareTeamMemberAdded* added = event.mutable_care_team_member_added();
      RETURN_IF_ERROR(team_id("care_team_member_added.care_team_id",
                               added->mutable_care_team_id()));
      if (added->member().kind() == v1::MEMBER_KIND_UNSPECIFIED) {
        return Required("care_team_member_added.member.kind");
      }
      if (added->member().kind() == v1::MEMBER_KIND_PRACTITIONER &&
          added->member().hsa_id().empty()) {
        return Invalid("care_team_member_added.member.hsa_id", "required for staff");
      }
      auto it = state.team().find(MemberKey(added->member()));
      if (it != state.team().end() && !it->second.end.has_value()) {
        return absl::AlreadyExistsError("care_team_member_added.member: already on the team");
      }
      return absl::OkStatus();
    }
    case v1::CareEvent::kCareTeamMemberRemoved: {
      v1::CareTeamMemberRemoved* removed = event.mutable_care_team_member_removed();
      RETURN_IF_ERROR(team_id("care_team_member_removed.care_team_id",
                               removed->mutable_care_team_id()));
      auto it = state.team().find(MemberKey(removed->member()));
      if (it == state.team().end() || it->second.end.has_value()) {
        return Missing("care_team_member_removed.member", "current team member");
      }
      return absl::OkStatus();
    }
    case v1::CareEvent::kPrimaryContactAssigned: {
      v1::PrimaryContactAssigned* assigned = event.mutable_primary_contact_assigned();
      RETURN_IF_ERROR(team_id("primary_contact_assigned.care_team_id",
                               assigned->mutable_care_team_id()));
      if (assigned->contact().hsa_id().empty()) {
        return Required("primary_contact_assigned.contact.hsa_id");
      }
      if (assigned->replaces_hsa_id().empty() && !state.primary_contact_hsa_id().empty() &&
          state.primary_contact_hsa_id() != assigned->contact().hsa_id()) {
        assigned->set_replaces_hsa_id(state.primary_contact_hsa_id());
      }
      if (assigned->stay().visit_number().empty() && !state.open_stay().empty()) {
        *assigned->mutable_stay() = state.stays().at(state.open_stay()).stay;
      }
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

}  // namespace

absl::Status CheckPlanRules(const PatientState& state, v1::CareEvent& event) {
  RETURN_IF_ERROR(CheckPlan(state, event));
  RETURN_IF_ERROR(CheckActivity(state, event));
  return CheckTeam(state, event);
}

}  // namespace carehub::care::internal
