#include "services/care/internal/decide.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "carehub/base/sha256.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace carehub::care::internal {
namespace {

absl::Status Invalid(std::string_view field, std::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(Sv(field), ": ", Sv(reason)));
}

// The envelope every event of the command shares.
v1::CareEvent Envelope(const v1::CommandRequest& command, const std::string& patient_id,
                       absl::Time recorded_at) {
  v1::CareEvent event;
  event.set_patient_id(patient_id);
  *event.mutable_occurred_at() = command.occurred_at();
  *event.mutable_recorded_at() = ToProtoTime(recorded_at);
  *event.mutable_source() = command.source();
  *event.mutable_data_owner() = command.data_owner();
  event.set_correlation_id(command.correlation_id().empty() ? command.command_id()
                                                            : command.correlation_id());
  event.set_causation_id(command.command_id());
  event.set_source_message_id(command.source_message_id());
  return event;
}

// Copies the command's payload into the event's payload of the same field number (the two
// oneofs are numbered alike by contract; see care_service.proto).
absl::Status CopyPayload(const v1::CommandRequest& command, v1::CareEvent& event) {
  const google::protobuf::Reflection* command_reflection = command.GetReflection();
  const google::protobuf::OneofDescriptor* oneof =
      command.GetDescriptor()->FindOneofByName("command");
  const google::protobuf::FieldDescriptor* field =
      command_reflection->GetOneofFieldDescriptor(command, oneof);
  if (field == nullptr) return Invalid("command", "required: one command payload");
  const google::protobuf::FieldDescriptor* target =
      event.GetDescriptor()->FindFieldByNumber(field->number());
  if (target == nullptr || target->message_type() != field->message_type()) {
    return Invalid(field->name(), "not a fact the care service records this way");
  }
  event.GetReflection()
      ->MutableMessage(&event, target)
      ->CopyFrom(command_reflection->GetMessage(command, field));
  return absl::OkStatus();
}

// Whether the fact `event` fulfils `task`, and when it happened.
bool Fulfils(const v1::CareEvent& event, const DeadlineTask& task, absl::Time* actual) {
  const absl::Time occurred = ToAbslTime(event.occurred_at());
  auto at = [&](const google::protobuf::Timestamp& own) {
    *actual = IsSet(own) ? ToAbslTime(own) : occurred;
    return true;
  };
  const std::string& visit = task.stay.visit_number();
  switch (event.payload_case()) {
    case v1::CareEvent::kAdmissionNoticeSent:
      return task.kind == v1::DEADLINE_KIND_ADMISSION_NOTICE_24H &&
             event.admission_notice_sent().stay().visit_number() == visit &&
             at(event.admission_notice_sent().sent_at());
    case v1::CareEvent::kSipMeetingInvited:
      // A SIP invitation during a stay may leave the stay unnamed: it serves the stay's task.
      return task.kind == v1::DEADLINE_KIND_SIP_INVITATION_3_DAYS &&
             (event.sip_meeting_invited().stay().visit_number().empty() ||
              event.sip_meeting_invited().stay().visit_number() == visit) &&
             at(google::protobuf::Timestamp());
    case v1::CareEvent::kDischargeInformationSent:
      return task.kind == v1::DEADLINE_KIND_DISCHARGE_INFORMATION_SAME_DAY &&
             event.discharge_information_sent().stay().visit_number() == visit &&
             at(event.discharge_information_sent().sent_at());
    case v1::CareEvent::kInpatientDischarged:
      return task.kind == v1::DEADLINE_KIND_PAYMENT_RESPONSIBILITY &&
             event.inpatient_discharged().stay().visit_number() == visit &&
             at(event.inpatient_discharged().discharged_at());
    default:
      return false;
  }
}

v1::CareEvent Outcome(const v1::CareEvent& envelope, const DeadlineTask& task, absl::Time actual,
                      const std::string& fulfilled_by) {
  v1::CareEvent event = envelope;
  if (actual < task.due) {
    v1::DeadlineMet* met = event.mutable_deadline_met();
    met->set_kind(task.kind);
    met->set_task_id(task.task_id);
    *met->mutable_due() = ToProtoTime(task.due);
    *met->mutable_actual() = ToProtoTime(actual);
    *met->mutable_stay() = task.stay;
    met->set_fulfilled_by_event_id(fulfilled_by);
  } else {
    v1::DeadlineBreached* breached = event.mutable_deadline_breached();
    breached->set_kind(task.kind);
    breached->set_task_id(task.task_id);
    *breached->mutable_due() = ToProtoTime(task.due);
    *breached->mutable_actual() = ToProtoTime(actual);
    *breached->mutable_stay() = task.stay;
    breached->set_agreement_id(task.agreement_id);
    breached->set_agreement_version(task.agreement_version);
  }
  return event;
}

// Home activities paused by an admission (or a reopened stay), resumed when the stay ends.
void AddActivityConsequences(const PatientState& before, const v1::CareEvent& fact,
                             const v1::CareEvent& envelope, std::vector<v1::CareEvent>& out) {
  const v1::HospitalStay* pausing = nullptr;
  const v1::HospitalStay* ending = nullptr;
  switch (fact.payload_case()) {
    case v1::CareEvent::kInpatientAdmitted: pausing = &fact.inpatient_admitted().stay(); break;
    case v1::CareEvent::kDischargeCancelled: pausing = &fact.discharge_cancelled().stay(); break;
    case v1::CareEvent::kInpatientDischarged: ending = &fact.inpatient_discharged().stay(); break;
    case v1::CareEvent::kAdmissionCancelled: ending = &fact.admission_cancelled().stay(); break;
    default: return;
  }
  for (const auto& [activity_id, activity] : before.activities()) {
    v1::CareEvent event = envelope;
    if (activity.data_owner.kind() != v1::DATA_OWNER_KIND_UNSPECIFIED) {
      *event.mutable_data_owner() = activity.data_owner;
    }
    if (pausing != nullptr && activity.in_home && activity.status == ActivityStatus::kInProgress) {
      v1::ActivityPaused* paused = event.mutable_activity_paused();
      paused->set_activity_id(activity_id);
      paused->set_reason("inpatient stay");
      *paused->mutable_stay() = *pausing;
      out.push_back(std::move(event));
    } else if (ending != nullptr && activity.status == ActivityStatus::kOnHold &&
               activity.paused_by_stay == ending->visit_number()) {
      v1::ActivityResumed* resumed = event.mutable_activity_resumed();
      resumed->set_activity_id(activity_id);
      resumed->set_reason(fact.has_admission_cancelled() ? "admission cancelled" : "discharged");
      out.push_back(std::move(event));
    }
  }
}

// L3: at discharge after a needs assessment, was a fast vårdkontakt appointed?
void AddPrimaryContactOutcome(const PatientState& before, const v1::CareEvent& fact,
                              const v1::CareEvent& envelope, std::vector<v1::CareEvent>& out) {
  if (!fact.has_inpatient_discharged()) return;
  const v1::InpatientDischarged& discharged = fact.inpatient_discharged();
  auto stay = before.stays().find(discharged.stay().visit_number());
  if (stay == before.stays().end() || !stay->second.needs_assessed) return;
  const absl::Time at = IsSet(discharged.discharged_at()) ? ToAbslTime(discharged.discharged_at())
                                                          : ToAbslTime(fact.occurred_at());
  const DeadlineTask task{.task_id = TaskId(fact.event_id(),
                                            v1::DEADLINE_KIND_PRIMARY_CONTACT_BEFORE_DISCHARGE),
                          .kind = v1::DEADLINE_KIND_PRIMARY_CONTACT_BEFORE_DISCHARGE,
                          .due = at,
                          .stay = discharged.stay()};
  // Met: actual is when the contact joined the team; breached: the discharge itself.
  absl::Time actual = at;
  auto contact = before.team().find(before.primary_contact_hsa_id());
  if (!before.primary_contact_hsa_id().empty() && contact != before.team().end()) {
    actual = std::min(contact->second.start, at - absl::Nanoseconds(1));
  }
  out.push_back(Outcome(envelope, task, actual, fact.event_id()));
}

}  // namespace

absl::Time ToAbslTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t nanos = absl::ToUnixNanos(t);
  ts.set_seconds(nanos / 1000000000);
  ts.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  if (ts.nanos() < 0) {
    ts.set_seconds(ts.seconds() - 1);
    ts.set_nanos(ts.nanos() + 1000000000);
  }
  return ts;
}

bool IsSet(const google::protobuf::Timestamp& ts) { return ts.seconds() != 0 || ts.nanos() != 0; }

absl::Status ValidateEnvelope(const v1::CommandRequest& command) {
  if (command.command_id().empty()) return Invalid("command_id", "required");
  if (command.command_id().size() > 64) return Invalid("command_id", "longer than 64 bytes");
  if (command.source().system().empty()) return Invalid("source.system", "required");
  if (command.data_owner().kind() == v1::DATA_OWNER_KIND_UNSPECIFIED) {
    return Invalid("data_owner.kind", "required");
  }
  if (!IsSet(command.occurred_at())) return Invalid("occurred_at", "required");
  if (command.patient().ref_case() == v1::PatientRef::REF_NOT_SET) {
    return Invalid("patient", "required: patient_id or identifier");
  }
  return absl::OkStatus();
}

std::string EventIdBase(const v1::CommandRequest& command) {
  const std::string key = CommandKey(command.source().system(), command.command_id());
  const std::string hex = Sha256Hex({key});
  return absl::StrCat("ev-", hex.substr(0, 40));
}

absl::StatusOr<std::vector<v1::CareEvent>> Decide(const PatientState& state,
                                                  const v1::CommandRequest& command,
                                                  const std::string& patient_id,
                                                  absl::Time recorded_at) {
  RETURN_IF_ERROR(ValidateEnvelope(command));
  const v1::CareEvent envelope = Envelope(command, patient_id, recorded_at);
  v1::CareEvent fact = envelope;
  if (command.has_link_identifier()) {
    // Normalised by the caller; the registry holds the mapping, the patient's stream the record.
    if (command.link_identifier().identifier().value().empty()) {
      return Invalid("link_identifier.identifier", "required");
    }
    v1::PatientIdentifierLinked* linked = fact.mutable_patient_identifier_linked();
    *linked->mutable_identifier() = command.link_identifier().identifier();
    if (command.link_identifier().has_supersedes()) {
      *linked->mutable_supersedes() = command.link_identifier().supersedes();
    }
  } else {
    RETURN_IF_ERROR(CopyPayload(command, fact));
  }
  const std::string base = EventIdBase(command);
  fact.set_event_id(absl::StrCat(base, "-0"));
  RETURN_IF_ERROR(CheckPlanRules(state, fact));
  RETURN_IF_ERROR(CheckStayRules(state, fact));

  std::vector<v1::CareEvent> events = {fact};
  AddActivityConsequences(state, fact, envelope, events);
  for (const auto& [task_id, task] : state.open_tasks()) {
    absl::Time actual;
    if (Fulfils(fact, task, &actual)) {
      events.push_back(Outcome(envelope, task, actual, fact.event_id()));
    }
  }
  AddPrimaryContactOutcome(state, fact, envelope, events);
  for (size_t i = 1; i < events.size(); ++i) {
    events[i].set_event_id(absl::StrCat(base, "-", i));
  }
  return events;
}

std::vector<v1::CareEvent> DecideBreaches(const PatientState& state,
                                          const std::string& patient_id, absl::Time now) {
  std::vector<v1::CareEvent> events;
  for (const auto& [task_id, task] : state.open_tasks()) {
    if (task.due > now) continue;
    v1::CareEvent event;
    event.set_event_id(absl::StrCat("breach-", task_id));
    event.set_patient_id(patient_id);
    // The breach happened at the due time, whenever the check noticed it.
    *event.mutable_occurred_at() = ToProtoTime(task.due);
    *event.mutable_recorded_at() = ToProtoTime(now);
    event.mutable_source()->set_system(kCareServiceSystem);
    *event.mutable_data_owner() = task.data_owner;
    event.set_causation_id(task_id);
    event.set_correlation_id(task.stay.visit_number());
    v1::DeadlineBreached* breached = event.mutable_deadline_breached();
    breached->set_kind(task.kind);
    breached->set_task_id(task_id);
    *breached->mutable_due() = ToProtoTime(task.due);
    *breached->mutable_stay() = task.stay;
    breached->set_agreement_id(task.agreement_id);
    breached->set_agreement_version(task.agreement_version);
    events.push_back(std::move(event));
  }
  return events;
}

}  // namespace carehub::care::internal
