#include "carehub/fhir/projection.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/sha256.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "carehub/care/v1/events.pb.h"
#include "fhir/internal/context.h"
#include "fhir/internal/parsed_resource.h"
#include "fhir/internal/projections.h"

namespace carehub::fhir {
namespace {

using care::v1::CareEvent;
using internal::ProjectionContext;

constexpr char kCareEventTypePrefix[] = "carehub.care.v1.";
// A patient's record is the patient's own stream. The care service's identifier registry
// ("pid-" streams) copies each link into it, so the registry is not projected: a replay of the
// patient's stream then gives the very versions (and lastUpdated times) the server projected.
constexpr char kPatientStreamPrefix[] = "patient-";

absl::Status Dispatch(ProjectionContext& ctx, const CareEvent& e) {
  switch (e.payload_case()) {
    case CareEvent::kPatientEnrolled:
      return internal::ProjectPatientEnrolled(ctx, e.patient_enrolled());
    case CareEvent::kPatientIdentifierLinked:
      return internal::ProjectIdentifierLinked(ctx, e.patient_identifier_linked());
    case CareEvent::kDemographicsUpdated:
      return internal::ProjectDemographics(ctx, e.demographics_updated());
    case CareEvent::kConsentGiven:
      return internal::ProjectConsentGiven(ctx, e.consent_given());
    case CareEvent::kConsentWithdrawn:
      return internal::ProjectConsentWithdrawn(ctx, e.consent_withdrawn());
    case CareEvent::kRecordBlocked:
      return internal::ProjectRecordBlocked(ctx, e.record_blocked());
    case CareEvent::kRecordUnblocked:
      return internal::ProjectRecordUnblocked(ctx, e.record_unblocked());
    case CareEvent::kInpatientAdmitted:
    case CareEvent::kInpatientTransferred:
    case CareEvent::kInpatientDischarged:
    case CareEvent::kAdmissionCancelled:
    case CareEvent::kDischargeCancelled:
    case CareEvent::kPostDischargeNeedsAssessed:
    case CareEvent::kAdmissionNoticeSent:
    case CareEvent::kAdmissionNoticeAcknowledged:
    case CareEvent::kExpectedDischargeChanged:
    case CareEvent::kDischargeReadyDeclared:
    case CareEvent::kDischargeReadyRevoked:
    case CareEvent::kDischargeInformationSent:
      return internal::ProjectStayEvent(ctx, e);
    case CareEvent::kSipMeetingInvited:
    case CareEvent::kSipMeetingHeld:
    case CareEvent::kAgreedTimeBooked:
      return internal::ProjectAppointmentEvent(ctx, e);
    case CareEvent::kCarePlanAgreed:
    case CareEvent::kCarePlanRevised:
    case CareEvent::kCarePlanClosed:
    case CareEvent::kGoalSet:
    case CareEvent::kGoalStatusChanged:
    case CareEvent::kActivityPlanned:
    case CareEvent::kActivityStarted:
    case CareEvent::kActivityPaused:
    case CareEvent::kActivityResumed:
    case CareEvent::kActivityCompleted:
    case CareEvent::kActivityCancelled:
      return internal::ProjectPlanEvent(ctx, e);
    case CareEvent::kCareTeamMemberAdded:
    case CareEvent::kCareTeamMemberRemoved:
    case CareEvent::kPrimaryContactAssigned:
      return internal::ProjectTeamEvent(ctx, e);
    case CareEvent::kHomeVisitPerformed:
    case CareEvent::kSelfMonitoringObservationRecorded:
    case CareEvent::kDeteriorationAlertRaised:
    case CareEvent::kDeadlineMet:
    case CareEvent::kDeadlineBreached:
      return internal::ProjectHomeEvent(ctx, e);
    case CareEvent::PAYLOAD_NOT_SET:
      break;
  }
  return absl::InternalError("unreachable: payload checked by the caller");
}

}  // namespace

std::string ResourceId(std::string_view kind, std::string_view internal_id) {
  return Sha256Hex({kind, "|", internal_id}).substr(0, 32);
}

absl::StatusOr<ProjectionOutput> Project(const ProjectionLookup& lookup,
                                         const eventstore::RecordedEvent& event) {
  ProjectionOutput skipped;
  if (!absl::StartsWith(event.type, kCareEventTypePrefix)) {
    skipped.skipped_reason = "not a care event";
    return skipped;
  }
  if (!absl::StartsWith(event.stream_id, kPatientStreamPrefix)) {
    skipped.skipped_reason = "not in a patient's stream";
    return skipped;
  }
  CareEvent care_event;
  if (!care_event.ParseFromString(event.data)) {
    return absl::DataLossError(
        absl::StrCat("event at position ", event.position, " is not a CareEvent"));
  }
  if (care_event.payload_case() == CareEvent::PAYLOAD_NOT_SET) {
    skipped.skipped_reason = "payload unknown to this version";
    return skipped;
  }
  ProjectionContext ctx(lookup, event, care_event);
  // The one place where a nlohmann exception (a stored resource of an unexpected shape) becomes
  // a status; no exception leaves the projection.
  try {
    RETURN_IF_ERROR(Dispatch(ctx, care_event));
    return ctx.Finish();
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("projection of position ", event.position, " failed: ", e.what()));
  }
}

absl::StatusOr<std::shared_ptr<const internal::ParsedResource>> ProjectionLookup::CurrentParsed(
    std::string_view type, std::string_view id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> stored, CurrentResource(type, id));
  if (!stored.has_value()) return nullptr;
  return internal::ParseStoredResource(type, id, *stored);
}

absl::StatusOr<std::optional<std::string>> InMemoryProjectionState::CurrentResource(
    std::string_view type, std::string_view id) const {
  auto it = versions_.find(std::make_pair(std::string(type), std::string(id)));
  if (it == versions_.end() || it->second.empty()) return std::optional<std::string>();
  return std::optional<std::string>(it->second.back());
}

absl::StatusOr<std::optional<std::string>> InMemoryProjectionState::State(
    std::string_view key) const {
  auto it = state_.find(key);
  if (it == state_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

void InMemoryProjectionState::Apply(const ProjectionOutput& output) {
  for (const ResourceVersion& v : output.resources) {
    versions_[std::make_pair(v.type, v.id)].push_back(v.json);
  }
  for (const auto& [key, value] : output.state) state_[key] = value;
}

}  // namespace carehub::fhir
