// The rules for hospital-stay (HL7 v2 ADT) and discharge-workflow (Lag (2017:612)) facts.
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "services/care/internal/decide.h"

namespace carehub::care::internal {
namespace {

absl::Status Required(std::string_view field) {
  return absl::InvalidArgumentError(absl::StrCat(Sv(field), ": required"));
}
absl::Status Illegal(std::string_view field, std::string_view reason) {
  return absl::FailedPreconditionError(absl::StrCat(Sv(field), ": ", Sv(reason)));
}

// The stay a workflow fact names; an unnamed stay means the stay in progress (filled in).
absl::StatusOr<const StayState*> FindStay(const PatientState& state, std::string_view prefix,
                                          v1::HospitalStay* stay) {
  const std::string field = absl::StrCat(Sv(prefix), ".stay.visit_number");
  if (stay->visit_number().empty()) {
    if (state.open_stay().empty()) return Required(field);
    *stay = state.stays().at(state.open_stay()).stay;
  }
  auto it = state.stays().find(stay->visit_number());
  if (it == state.stays().end()) {
    return absl::NotFoundError(absl::StrCat(field, ": no such hospital stay"));
  }
  return &it->second;
}

absl::Status RequireAdmitted(const PatientState& state, std::string_view prefix,
                             v1::HospitalStay* stay) {
  ASSIGN_OR_RETURN(const StayState* found, FindStay(state, prefix, stay));
  if (found->status != StayStatus::kAdmitted) {
    return Illegal(absl::StrCat(Sv(prefix), ".stay"), "the patient is not admitted in this stay");
  }
  return absl::OkStatus();
}

absl::Status CheckAdmission(const PatientState& state, v1::CareEvent& event) {
  v1::InpatientAdmitted* admitted = event.mutable_inpatient_admitted();
  if (admitted->stay().visit_number().empty()) {
    return Required("inpatient_admitted.stay.visit_number");
  }
  if (!state.open_stay().empty()) {
    return Illegal("inpatient_admitted", "the patient is already admitted (another open stay)");
  }
  auto it = state.stays().find(admitted->stay().visit_number());
  if (it != state.stays().end() && it->second.status != StayStatus::kCancelled) {
    return Illegal("inpatient_admitted.stay.visit_number", "this stay was already admitted");
  }
  if (!IsSet(admitted->admitted_at())) *admitted->mutable_admitted_at() = event.occurred_at();
  return absl::OkStatus();
}

absl::Status CheckAdt(const PatientState& state, v1::CareEvent& event) {
  switch (event.payload_case()) {
    case v1::CareEvent::kInpatientAdmitted:
      return CheckAdmission(state, event);
    case v1::CareEvent::kInpatientTransferred:
      return RequireAdmitted(state, "inpatient_transferred",
                             event.mutable_inpatient_transferred()->mutable_stay());
    case v1::CareEvent::kInpatientDischarged: {
      v1::InpatientDischarged* discharged = event.mutable_inpatient_discharged();
      RETURN_IF_ERROR(RequireAdmitted(state, "inpatient_discharged", discharged->mutable_stay()));
      if (!IsSet(discharged->discharged_at())) {
        *discharged->mutable_discharged_at() = event.occurred_at();
      }
      return absl::OkStatus();
    }
    case v1::CareEvent::kAdmissionCancelled: {
      v1::AdmissionCancelled* cancelled = event.mutable_admission_cancelled();
      ASSIGN_OR_RETURN(const StayState* stay,
                       FindStay(state, "admission_cancelled", cancelled->mutable_stay()));
      if (stay->status != StayStatus::kAdmitted) {
        return Illegal("admission_cancelled.stay", "only an admitted, not discharged, stay");
      }
      cancelled->set_cancelled_event_id(stay->admitted_event_id);
      return absl::OkStatus();
    }
    case v1::CareEvent::kDischargeCancelled: {
      v1::DischargeCancelled* cancelled = event.mutable_discharge_cancelled();
      if (cancelled->stay().visit_number().empty()) {
        return Required("discharge_cancelled.stay.visit_number");
      }
      ASSIGN_OR_RETURN(const StayState* stay,
                       FindStay(state, "discharge_cancelled", cancelled->mutable_stay()));
      if (stay->status != StayStatus::kDischarged) {
        return Illegal("discharge_cancelled.stay", "the stay is not discharged");
      }
      if (!state.open_stay().empty()) {
        return Illegal("discharge_cancelled", "another stay is open");
      }
      cancelled->set_cancelled_event_id(stay->discharged_event_id);
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

absl::Status CheckWorkflow(const PatientState& state, v1::CareEvent& event) {
  switch (event.payload_case()) {
    case v1::CareEvent::kPostDischargeNeedsAssessed:
      return RequireAdmitted(state, "post_discharge_needs_assessed",
                             event.mutable_post_discharge_needs_assessed()->mutable_stay());
    case v1::CareEvent::kAdmissionNoticeSent: {
      v1::AdmissionNoticeSent* sent = event.mutable_admission_notice_sent();
      if (sent->notice_id().empty()) return Required("admission_notice_sent.notice_id");
      return RequireAdmitted(state, "admission_notice_sent", sent->mutable_stay());
    }
    case v1::CareEvent::kAdmissionNoticeAcknowledged:
      if (state.admission_notices().count(event.admission_notice_acknowledged().notice_id()) == 0) {
        return absl::NotFoundError("admission_notice_acknowledged.notice_id: no such notice");
      }
      return absl::OkStatus();
    case v1::CareEvent::kExpectedDischargeChanged:
      return RequireAdmitted(state, "expected_discharge_changed",
                             event.mutable_expected_discharge_changed()->mutable_stay());
    case v1::CareEvent::kDischargeReadyDeclared: {
      v1::DischargeReadyDeclared* ready = event.mutable_discharge_ready_declared();
      RETURN_IF_ERROR(RequireAdmitted(state, "discharge_ready_declared", ready->mutable_stay()));
      if (state.stays().at(ready->stay().visit_number()).ready_for_discharge) {
        return Illegal("discharge_ready_declared", "already declared ready for discharge");
      }
      if (!IsSet(ready->declared_at())) *ready->mutable_declared_at() = event.occurred_at();
      return absl::OkStatus();
    }
    case v1::CareEvent::kDischargeReadyRevoked: {
      v1::DischargeReadyRevoked* revoked = event.mutable_discharge_ready_revoked();
      RETURN_IF_ERROR(RequireAdmitted(state, "discharge_ready_revoked", revoked->mutable_stay()));
      if (!state.stays().at(revoked->stay().visit_number()).ready_for_discharge) {
        return Illegal("discharge_ready_revoked", "the patient is not declared ready");
      }
      return absl::OkStatus();
    }
    case v1::CareEvent::kSipMeetingInvited: {
      v1::SipMeetingInvited* invited = event.mutable_sip_meeting_invited();
      if (invited->meeting_id().empty()) return Required("sip_meeting_invited.meeting_id");
      if (state.sip_meetings().count(invited->meeting_id()) > 0) {
        return absl::AlreadyExistsError("sip_meeting_invited.meeting_id: already invited");
      }
      // SIP rests on the person's consent.
      bool consented = false;
      for (const auto& [id, consent] : state.consents()) {
        if (consent.active && consent.scope == v1::CONSENT_SCOPE_SIP &&
            (invited->consent_id().empty() || invited->consent_id() == id)) {
          consented = true;
          if (invited->consent_id().empty()) invited->set_consent_id(id);
        }
      }
      if (!consented) return Illegal("sip_meeting_invited.consent_id", "no active SIP consent");
      if (invited->stay().visit_number().empty() && !state.open_stay().empty()) {
        *invited->mutable_stay() = state.stays().at(state.open_stay()).stay;
      }
      // The meeting is an activity of the patient's open plan, if there is one (a SIP may also
      // come before enrolment, e.g. for a patient known only from the hospital).
      const bool open_plan = state.plan_status() == PlanStatus::kDraft ||
                             state.plan_status() == PlanStatus::kActive;
      if (invited->care_plan_id().empty() && open_plan) {
        invited->set_care_plan_id(state.care_plan_id());
      }
      return absl::OkStatus();
    }
    case v1::CareEvent::kSipMeetingHeld:
      if (state.sip_meetings().count(event.sip_meeting_held().meeting_id()) == 0) {
        return absl::NotFoundError("sip_meeting_held.meeting_id: no such meeting invited");
      }
      return absl::OkStatus();
    case v1::CareEvent::kDischargeInformationSent: {
      v1::DischargeInformationSent* sent = event.mutable_discharge_information_sent();
      if (sent->stay().visit_number().empty()) {
        return Required("discharge_information_sent.stay.visit_number");
      }
      ASSIGN_OR_RETURN(const StayState* stay,
                       FindStay(state, "discharge_information_sent", sent->mutable_stay()));
      if (stay->status != StayStatus::kDischarged) {
        return Illegal("discharge_information_sent.stay", "the stay is not discharged");
      }
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

}  // namespace

absl::Status CheckStayRules(const PatientState& state, v1::CareEvent& event) {
  RETURN_IF_ERROR(CheckAdt(state, event));
  return CheckWorkflow(state, event);
}

}  // namespace carehub::care::internal
