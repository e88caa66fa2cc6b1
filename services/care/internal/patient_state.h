// PatientState: a patient's care record folded from their stream ("patient-<id>"), as much of it
// as the care service needs to decide commands: the plan's status, activities and their states,
// team members with their periods, consents and blocks, hospital stays and the discharge workflow,
// the open Lag (2017:612) deadline tasks, and which commands the stream already holds.
//
//   PatientState state(&calendar);
//   for (const eventstore::RecordedEvent& e : events) RETURN_IF_ERROR(state.Apply(e));
//
// Open deadline tasks are derived while folding (the opening events carry the times the deadline
// counts from, the calendar turns them into due times), and closed by DeadlineMet /
// DeadlineBreached, by a cancelled admission, or by a revoked ready-for-discharge.
//
// Thread-compatible. The calendar is not owned and must outlive the state.
#ifndef CAREHUB_SERVICES_CARE_INTERNAL_PATIENT_STATE_H_
#define CAREHUB_SERVICES_CARE_INTERNAL_PATIENT_STATE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "carehub/care/deadlines.h"
#include "carehub/care/v1/events.pb.h"
#include "carehub/eventstore/types.h"

namespace carehub::care::internal {

namespace v1 = ::carehub::care::v1;

enum class PlanStatus { kNone, kDraft, kActive, kClosed };
enum class ActivityStatus { kNotStarted, kInProgress, kOnHold, kCompleted, kCancelled };
enum class StayStatus { kAdmitted, kDischarged, kCancelled };

struct ActivityState {
  ActivityStatus status = ActivityStatus::kNotStarted;
  bool in_home = false;
  // The visit number of the stay whose admission paused it; empty otherwise.
  std::string paused_by_stay;
  // Whose record the activity belongs to (ActivityPlanned.data_owner, else the planner's), so
  // that its pauses and resumptions are recorded under the same owner.
  v1::DataOwner data_owner;
};

struct ConsentState {
  v1::ConsentScope scope = v1::CONSENT_SCOPE_UNSPECIFIED;
  std::set<std::string> receiver_hsa_ids;
  bool active = true;
};

struct TeamMemberState {
  std::string role_code;
  absl::Time start;
  std::optional<absl::Time> end;  // set when removed: the history stays
};

struct StayState {
  v1::HospitalStay stay;
  StayStatus status = StayStatus::kAdmitted;
  std::string admitted_event_id;
  std::string discharged_event_id;
  absl::Time admitted_at;
  absl::Time discharged_at;
  bool needs_assessed = false;
  bool ready_for_discharge = false;
};

struct DeadlineTask {
  std::string task_id;
  v1::DeadlineKind kind = v1::DEADLINE_KIND_UNSPECIFIED;
  absl::Time due;
  v1::HospitalStay stay;
  std::string agreement_id;
  std::string agreement_version;
  // The owner of the event that opened the task; its outcome is recorded under the same owner.
  v1::DataOwner data_owner;
};

// Where a command's events went, so that a repeated command returns the original result.
struct CommandRecord {
  std::vector<std::string> event_ids;
  uint64_t first_version = 0;
  uint64_t last_version = 0;
  uint64_t first_position = 0;
  uint64_t last_position = 0;
};

// The idempotency key of a command: (source system, command id).
std::string CommandKey(const std::string& source_system, const std::string& command_id);

class PatientState {
 public:
  explicit PatientState(const DeadlineCalendar* calendar) : calendar_(calendar) {}

  // Folds one stored event. DataLoss if it is not a CareEvent.
  absl::Status Apply(const eventstore::RecordedEvent& recorded);
  // Folds an event this process has just appended, at `version` and `position` of the stream,
  // without reading it back.
  void Apply(const v1::CareEvent& event, uint64_t version, uint64_t position);
  // Folds one event (version/position unknown; for deciding consequences in memory).
  void Apply(const v1::CareEvent& event);

  // The stream's last version; nullopt for a stream without events.
  std::optional<uint64_t> version() const { return version_; }

  PlanStatus plan_status() const { return plan_status_; }
  const std::string& care_plan_id() const { return care_plan_id_; }
  const std::string& care_team_id() const { return care_team_id_; }
  const std::map<std::string, ActivityState>& activities() const { return activities_; }
  const std::map<std::string, ConsentState>& consents() const { return consents_; }
  const std::set<std::string>& active_blocks() const { return active_blocks_; }
  const std::set<std::string>& goals() const { return goals_; }
  const std::set<std::string>& sip_meetings() const { return sip_meetings_; }
  const std::set<std::string>& admission_notices() const { return admission_notices_; }
  // Keyed by HSA-id, or "name|role" for members without one.
  const std::map<std::string, TeamMemberState>& team() const { return team_; }
  const std::string& primary_contact_hsa_id() const { return primary_contact_hsa_id_; }
  // Keyed by visit number.
  const std::map<std::string, StayState>& stays() const { return stays_; }
  // The visit number of the stay in progress (admitted, not discharged or cancelled); or empty.
  const std::string& open_stay() const { return open_stay_; }
  const std::map<std::string, DeadlineTask>& open_tasks() const { return open_tasks_; }
  // Earliest due time of an open task; InfiniteFuture if none.
  absl::Time EarliestDue() const;
  const CommandRecord* FindCommand(const std::string& key) const;

 private:
  void ApplyPlan(const v1::CareEvent& event);
  void ApplyCare(const v1::CareEvent& event);
  void ApplyStay(const v1::CareEvent& event);
  void ApplyWorkflow(const v1::CareEvent& event);
  void OpenTask(const v1::CareEvent& event, v1::DeadlineKind kind, absl::Time due,
                const v1::HospitalStay& stay, std::string agreement_id = {},
                std::string agreement_version = {});
  void CloseTasks(const std::string& visit_number, std::set<v1::DeadlineKind> kinds);

  const DeadlineCalendar* calendar_;
  std::optional<uint64_t> version_;
  PlanStatus plan_status_ = PlanStatus::kNone;
  std::string care_plan_id_;
  std::string care_team_id_;
  std::map<std::string, ActivityState> activities_;
  std::map<std::string, ConsentState> consents_;
  std::set<std::string> active_blocks_;
  std::set<std::string> goals_;
  std::set<std::string> sip_meetings_;
  std::set<std::string> admission_notices_;
  std::map<std::string, TeamMemberState> team_;
  std::string primary_contact_hsa_id_;
  std::map<std::string, StayState> stays_;
  std::string open_stay_;
  std::map<std::string, DeadlineTask> open_tasks_;
  std::map<std::string, CommandRecord> commands_;
};

// The key of a team member as PatientState stores it.
std::string MemberKey(const v1::CareTeamMember& member);
// Task ids are derived from the opening event, so a replay derives the same ids.
std::string TaskId(const std::string& opening_event_id, v1::DeadlineKind kind);

}  // namespace carehub::care::internal

#endif  // CAREHUB_SERVICES_CARE_INTERNAL_PATIENT_STATE_H_
