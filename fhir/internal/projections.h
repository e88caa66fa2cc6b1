// The projection of each kind of care event, one function per payload, grouped by area in
// patient_projection.cc, stay_projection.cc, plan_projection.cc, team_projection.cc and
// home_projection.cc and appointment_projection.cc. Each changes resources through the context
// only.
//
// Projection state keys (values are internal ids, never a national identifier or a body):
//   patient-plans/<patient_id>   care plan ids of the patient, '\n'-separated, in enrolment order
//   plan-team/<care_plan_id>     the plan's care team id
//   activity/<activity_id>       "<care_plan_id>\t<in_home 0|1>"
//   home-activities/<patient_id> ids of the patient's in-home activities, '\n'-terminated
//   stay-admitted/<encounter id> admission time, Unix microseconds
//   stay-paused/<encounter id>   activities the stay put on hold, "<activity_id>\t<prior status>"
//                                lines
//   task/<task_id>               the Task resource id a care-service task id denotes
//   notice/<notice_id>           the Communication resource id of an admission notice
#ifndef CAREHUB_FHIR_INTERNAL_PROJECTIONS_H_
#define CAREHUB_FHIR_INTERNAL_PROJECTIONS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "carehub/care/v1/events.pb.h"
#include "fhir/internal/context.h"

namespace carehub::fhir::internal {

// patient_projection.cc
absl::Status ProjectPatientEnrolled(ProjectionContext& ctx, const care::v1::PatientEnrolled& e);
absl::Status ProjectIdentifierLinked(ProjectionContext& ctx,
                                     const care::v1::PatientIdentifierLinked& e);
absl::Status ProjectDemographics(ProjectionContext& ctx, const care::v1::DemographicsUpdated& e);
absl::Status ProjectConsentGiven(ProjectionContext& ctx, const care::v1::ConsentGiven& e);
absl::Status ProjectConsentWithdrawn(ProjectionContext& ctx, const care::v1::ConsentWithdrawn& e);
absl::Status ProjectRecordBlocked(ProjectionContext& ctx, const care::v1::RecordBlocked& e);
absl::Status ProjectRecordUnblocked(ProjectionContext& ctx, const care::v1::RecordUnblocked& e);

// stay_projection.cc
absl::Status ProjectStayEvent(ProjectionContext& ctx, const care::v1::CareEvent& e);

// plan_projection.cc
absl::Status ProjectPlanEvent(ProjectionContext& ctx, const care::v1::CareEvent& e);
// Puts the patient's in-home activities that are not-started, scheduled or in-progress on hold
// for the stay (remembering their status), or returns those still on hold to that status.
absl::Status PauseHomeActivities(ProjectionContext& ctx, std::string_view encounter_id);
absl::Status ResumeHomeActivities(ProjectionContext& ctx, std::string_view encounter_id);
// A not-started activity becomes scheduled (an agreed time was booked for it).
absl::Status ScheduleActivity(ProjectionContext& ctx, std::string_view activity_id);
// Appends a progress note to an activity; nothing if the activity is unknown.
absl::Status AddActivityProgress(ProjectionContext& ctx, std::string_view activity_id,
                                 std::string_view text);
// The care plan id an activity belongs to; nullopt if unknown.
absl::StatusOr<std::optional<std::string>> ActivityPlanId(ProjectionContext& ctx,
                                                          std::string_view activity_id);
// Adds {"reference": ref} as an activity of the plan, once.
absl::Status AddActivityReference(ProjectionContext& ctx, std::string_view care_plan_id,
                                  const Json& ref);

// team_projection.cc
absl::Status ProjectTeamEvent(ProjectionContext& ctx, const care::v1::CareEvent& e);

// appointment_projection.cc: agreed times and SIP meetings.
absl::Status ProjectAppointmentEvent(ProjectionContext& ctx, const care::v1::CareEvent& e);

// home_projection.cc
absl::Status ProjectHomeEvent(ProjectionContext& ctx, const care::v1::CareEvent& e);

// Encounter id of a hospital stay: patient + visit-number assigner + visit number.
std::string StayEncounterId(const ProjectionContext& ctx, const care::v1::HospitalStay& stay);
// Task ids of the discharge workflow of a stay.
std::string AdmissionNoticeTaskId(std::string_view encounter_id);
std::string SipInvitationTaskId(std::string_view encounter_id);
// Ids of the urgent Task and of the Flag of a deterioration alert.
std::string AlertTaskId(std::string_view alert_id);
std::string AlertFlagId(std::string_view alert_id);

}  // namespace carehub::fhir::internal

#endif  // CAREHUB_FHIR_INTERNAL_PROJECTIONS_H_
