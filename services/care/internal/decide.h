// Decide: (patient state, command) -> the events to append, or the reason the command is refused.
// Pure: no I/O, no clock (the recorded-at time comes in), deterministic event ids derived from the
// command's idempotency key, so a retried command produces the same events.
//
// The command's own fact comes first; consequences follow in the same batch:
//   - InpatientAdmitted / DischargeCancelled: ActivityPaused for each in-home activity in progress;
//   - InpatientDischarged / AdmissionCancelled: ActivityResumed for those the stay paused;
//   - a fact that fulfils an open Lag (2017:612) task: DeadlineMet if it happened before the due
//     time, else DeadlineBreached with the actual time (the task closes either way);
//   - InpatientDischarged: the payment-responsibility task is met (discharged before it started)
//     and the "fast vårdkontakt before discharge" check is recorded as met or breached, for a stay
//     with a post-discharge needs assessment.
//
// Errors name the field ("inpatient_admitted.stay.visit_number: required") and use the house
// codes: InvalidArgument malformed, FailedPrecondition illegal transition, NotFound missing
// reference, AlreadyExists id taken.
#ifndef CAREHUB_SERVICES_CARE_INTERNAL_DECIDE_H_
#define CAREHUB_SERVICES_CARE_INTERNAL_DECIDE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/care/v1/care_service.pb.h"
#include "carehub/care/v1/events.pb.h"
#include "services/care/internal/patient_state.h"

namespace carehub::care::internal {

// The source.system the care service uses for the events it originates (deadline breaches).
inline constexpr char kCareServiceSystem[] = "carehub-care";

// Checks the envelope fields every command needs; InvalidArgument naming the field.
absl::Status ValidateEnvelope(const v1::CommandRequest& command);

// The prefix of every event id of a command: "ev-" + 40 hex digits of SHA-256 over its
// idempotency key. Event i of the command is EventIdBase(...) + "-" + i.
std::string EventIdBase(const v1::CommandRequest& command);

// Decides a fact command (not link_identifier) for the patient `patient_id` whose record is
// `state`. `recorded_at` is the care service's clock.
absl::StatusOr<std::vector<v1::CareEvent>> Decide(const PatientState& state,
                                                  const v1::CommandRequest& command,
                                                  const std::string& patient_id,
                                                  absl::Time recorded_at);

// DeadlineBreached for every open task due at or before `now`; empty if none. Event ids are
// derived from the task ids, so a task breaches once, whoever appends first.
std::vector<v1::CareEvent> DecideBreaches(const PatientState& state,
                                          const std::string& patient_id, absl::Time now);

// The checks per kind of command, against the state (decide_rules.cc). `event` is the command's
// fact as an event; rules may fill in ids the hub mints.
absl::Status CheckPlanRules(const PatientState& state, v1::CareEvent& event);
absl::Status CheckStayRules(const PatientState& state, v1::CareEvent& event);

// Protobuf Timestamp <-> absl::Time.
absl::Time ToAbslTime(const google::protobuf::Timestamp& ts);
google::protobuf::Timestamp ToProtoTime(absl::Time t);
bool IsSet(const google::protobuf::Timestamp& ts);

}  // namespace carehub::care::internal

#endif  // CAREHUB_SERVICES_CARE_INTERNAL_DECIDE_H_
