#include "services/care/internal/decide.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/care/internal/patient_state.h"

namespace carehub::care::internal {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1795000000);  // 2026-11-18, a Wednesday
constexpr char kPatient[] = "3b0c5e8a-1f2d-4c7e-9a61-0d2f4e8b7c15";
constexpr char kRegionHsa[] = "SE2321000131-E000000000001";
constexpr char kKommunHsa[] = "SE2120000829-E000000000002";

class DecideTest : public ::testing::Test {
 protected:
  DecideTest() : calendar_(*DeadlineCalendar::Create()), state_(&calendar_) {}

  v1::CommandRequest Command(const std::string& id, absl::Time at = kT0) {
    v1::CommandRequest command;
    command.set_command_id(id);
    command.mutable_patient()->set_patient_id(kPatient);
    command.mutable_source()->set_system("test-system");
    command.mutable_data_owner()->set_kind(v1::DATA_OWNER_KIND_REGION);
    *command.mutable_occurred_at() = ToProtoTime(at);
    return command;
  }

  // Decides and, when accepted, folds the events into the state as if appended.
  absl::StatusOr<std::vector<v1::CareEvent>> Run(const v1::CommandRequest& command) {
    absl::StatusOr<std::vector<v1::CareEvent>> events =
        Decide(state_, command, kPatient, command.occurred_at().seconds() > 0
                                              ? ToAbslTime(command.occurred_at())
                                              : kT0);
    if (events.ok()) {
      for (const v1::CareEvent& event : *events) state_.Apply(event);
    }
    return events;
  }

  void MustRun(const v1::CommandRequest& command) {
    absl::StatusOr<std::vector<v1::CareEvent>> events = Run(command);
    ASSERT_TRUE(events.ok()) << events.status();
  }

  void Enroll() {
    v1::CommandRequest enroll = Command("enroll");
    enroll.mutable_patient_enrolled()->set_target_group(v1::TARGET_GROUP_MOST_ILL);
    MustRun(enroll);
  }

  void PlanActivity(const std::string& id, bool in_home, bool start,
                    v1::DataOwnerKind owner = v1::DATA_OWNER_KIND_UNSPECIFIED) {
    v1::CommandRequest plan = Command("plan-" + id);
    plan.mutable_activity_planned()->set_activity_id(id);
    plan.mutable_activity_planned()->set_in_home(in_home);
    if (owner != v1::DATA_OWNER_KIND_UNSPECIFIED) {
      plan.mutable_activity_planned()->mutable_data_owner()->set_kind(owner);
    }
    MustRun(plan);
    if (start) {
      v1::CommandRequest started = Command("start-" + id);
      started.mutable_activity_started()->set_activity_id(id);
      MustRun(started);
    }
  }

  void Admit(const std::string& visit, absl::Time at) {
    v1::CommandRequest admit = Command("admit-" + visit, at);
    admit.mutable_inpatient_admitted()->mutable_stay()->set_visit_number(visit);
    MustRun(admit);
  }

  void GiveSipConsent(std::vector<std::string> receivers) {
    v1::CommandRequest consent = Command("consent");
    consent.mutable_consent_given()->set_consent_id("consent-sip");
    consent.mutable_consent_given()->set_scope(v1::CONSENT_SCOPE_SIP);
    for (const std::string& hsa : receivers) {
      consent.mutable_consent_given()->add_receiving_organisations()->set_hsa_id(hsa);
    }
    MustRun(consent);
  }

  DeadlineCalendar calendar_;
  PatientState state_;
};

TEST_F(DecideTest, EventIdsAreDeterministicFromTheCommand) {
  Enroll();
  v1::CommandRequest goal = Command("goal-1");
  goal.mutable_goal_set()->set_goal_id("goal-home");
  absl::StatusOr<std::vector<v1::CareEvent>> first = Decide(state_, goal, kPatient, kT0);
  absl::StatusOr<std::vector<v1::CareEvent>> again =
      Decide(state_, goal, kPatient, kT0 + absl::Hours(1));
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ((*first)[0].event_id(), (*again)[0].event_id());
  EXPECT_EQ((*first)[0].event_id(), EventIdBase(goal) + "-0");
  EXPECT_EQ((*first)[0].causation_id(), "goal-1");
  EXPECT_EQ((*first)[0].goal_set().care_plan_id(), state_.care_plan_id());  // filled in
}

TEST_F(DecideTest, EnvelopeFieldsAreRequiredAndNamed) {
  v1::CommandRequest command = Command("");
  command.mutable_patient_enrolled()->set_target_group(v1::TARGET_GROUP_MOST_ILL);
  absl::StatusOr<std::vector<v1::CareEvent>> events = Run(command);
  EXPECT_EQ(events.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(events.status().message().find("command_id"), std::string::npos);
  command = Command("x");
  events = Run(command);
  EXPECT_EQ(events.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(events.status().message().find("command"), std::string::npos);
}

TEST_F(DecideTest, AdmissionPausesHomeActivitiesAndDischargeResumesThem) {
  Enroll();
  PlanActivity("home-nursing", /*in_home=*/true, /*start=*/true);
  PlanActivity("home-help", /*in_home=*/true, /*start=*/true, v1::DATA_OWNER_KIND_MUNICIPALITY_SOL);
  PlanActivity("medication-review", /*in_home=*/false, /*start=*/true);
  PlanActivity("not-yet", /*in_home=*/true, /*start=*/false);

  v1::CommandRequest admit = Command("a01", kT0);
  admit.mutable_inpatient_admitted()->mutable_stay()->set_visit_number("V1");
  absl::StatusOr<std::vector<v1::CareEvent>> admitted = Run(admit);
  ASSERT_TRUE(admitted.ok()) << admitted.status();
  ASSERT_EQ(admitted->size(), 3u);
  EXPECT_TRUE((*admitted)[0].has_inpatient_admitted());
  EXPECT_EQ((*admitted)[1].activity_paused().activity_id(), "home-help");
  EXPECT_EQ((*admitted)[2].activity_paused().activity_id(), "home-nursing");
  EXPECT_EQ(state_.activities().at("home-nursing").status, ActivityStatus::kOnHold);
  EXPECT_EQ(state_.activities().at("medication-review").status, ActivityStatus::kInProgress);
  // Pauses are recorded under the activity's owner when the plan names one.
  EXPECT_EQ((*admitted)[1].data_owner().kind(), v1::DATA_OWNER_KIND_MUNICIPALITY_SOL);
  EXPECT_EQ((*admitted)[2].data_owner().kind(), v1::DATA_OWNER_KIND_REGION);

  v1::CommandRequest discharge = Command("a03", kT0 + absl::Hours(30));
  discharge.mutable_inpatient_discharged()->mutable_stay()->set_visit_number("V1");
  absl::StatusOr<std::vector<v1::CareEvent>> discharged = Run(discharge);
  ASSERT_TRUE(discharged.ok()) << discharged.status();
  int resumed = 0;
  for (const v1::CareEvent& event : *discharged) resumed += event.has_activity_resumed();
  EXPECT_EQ(resumed, 2);
  EXPECT_EQ(state_.activities().at("home-nursing").status, ActivityStatus::kInProgress);
}

TEST_F(DecideTest, AdmissionCancelledResumesAndNeverBreaches) {
  Enroll();
  PlanActivity("home-help", true, true);
  Admit("V1", kT0);
  v1::CommandRequest assessed = Command("assess", kT0 + absl::Hours(1));
  assessed.mutable_post_discharge_needs_assessed();
  MustRun(assessed);
  ASSERT_EQ(state_.open_tasks().size(), 1u);

  v1::CommandRequest a11 = Command("a11", kT0 + absl::Hours(2));
  a11.mutable_admission_cancelled()->mutable_stay()->set_visit_number("V1");
  absl::StatusOr<std::vector<v1::CareEvent>> cancelled = Run(a11);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_FALSE((*cancelled)[0].admission_cancelled().cancelled_event_id().empty());
  ASSERT_EQ(cancelled->size(), 2u);
  EXPECT_TRUE((*cancelled)[1].has_activity_resumed());
  EXPECT_TRUE(state_.open_tasks().empty());
  EXPECT_TRUE(DecideBreaches(state_, kPatient, kT0 + absl::Hours(100)).empty());
}

TEST_F(DecideTest, AdmissionNoticeMetInTimeBreachedLate) {
  Admit("V1", kT0);
  v1::CommandRequest assessed = Command("assess", kT0 + absl::Hours(2));
  assessed.mutable_post_discharge_needs_assessed()->mutable_stay()->set_visit_number("V1");
  MustRun(assessed);
  ASSERT_EQ(state_.open_tasks().size(), 1u);
  EXPECT_EQ(state_.open_tasks().begin()->second.due, kT0 + absl::Hours(26));

  v1::CommandRequest sent = Command("notice", kT0 + absl::Hours(20));
  sent.mutable_admission_notice_sent()->set_notice_id("N1");
  absl::StatusOr<std::vector<v1::CareEvent>> events = Run(sent);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].deadline_met().kind(), v1::DEADLINE_KIND_ADMISSION_NOTICE_24H);
  EXPECT_EQ((*events)[1].deadline_met().fulfilled_by_event_id(), (*events)[0].event_id());
  EXPECT_TRUE(state_.open_tasks().empty());
}

TEST_F(DecideTest, BreachesAreDueOnlyAndOncePerTask) {
  Admit("V1", kT0);
  v1::CommandRequest ready = Command("ready", kT0 + absl::Hours(5));
  ready.mutable_discharge_ready_declared();
  MustRun(ready);
  const DeadlineTask task = state_.open_tasks().begin()->second;  // a copy: Apply erases it
  EXPECT_EQ(task.kind, v1::DEADLINE_KIND_SIP_INVITATION_3_DAYS);
  EXPECT_TRUE(DecideBreaches(state_, kPatient, task.due - absl::Seconds(1)).empty());
  std::vector<v1::CareEvent> breaches = DecideBreaches(state_, kPatient, task.due);
  ASSERT_EQ(breaches.size(), 1u);
  EXPECT_EQ(breaches[0].event_id(), "breach-" + task.task_id);
  EXPECT_EQ(breaches[0].data_owner().kind(), v1::DATA_OWNER_KIND_REGION);
  state_.Apply(breaches[0]);
  EXPECT_TRUE(DecideBreaches(state_, kPatient, task.due + absl::Hours(1)).empty());
}

TEST_F(DecideTest, NoSipTaskWhenOnlyTheRegionWillGiveCare) {
  Admit("V1", kT0);
  v1::CommandRequest ready = Command("ready", kT0 + absl::Hours(5));
  ready.mutable_discharge_ready_declared()->add_receivers()->set_role(
      v1::PARTY_ROLE_PRIMARY_CARE);
  MustRun(ready);
  EXPECT_TRUE(state_.open_tasks().empty());
}

TEST_F(DecideTest, RevokedReadyCancelsTheSipTask) {
  Admit("V1", kT0);
  v1::CommandRequest ready = Command("ready", kT0 + absl::Hours(5));
  ready.mutable_discharge_ready_declared();
  MustRun(ready);
  v1::CommandRequest revoked = Command("revoked", kT0 + absl::Hours(6));
  revoked.mutable_discharge_ready_revoked()->set_reason("pneumonia");
  MustRun(revoked);
  EXPECT_TRUE(state_.open_tasks().empty());
  // Revoking twice is an illegal transition.
  revoked.set_command_id("revoked-again");
  EXPECT_EQ(Run(revoked).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(DecideTest, SipPlanNeedsConsentForEveryOrganisation) {
  Enroll();
  v1::CommandRequest agree = Command("agree");
  v1::CarePlanAgreed* agreed = agree.mutable_care_plan_agreed();
  agreed->set_is_sip(true);
  agreed->mutable_overall_responsibility()->set_role(v1::PARTY_ROLE_PRIMARY_CARE);
  agreed->mutable_overall_responsibility()->mutable_organisation()->set_hsa_id(kRegionHsa);
  agreed->add_agreed_by()->mutable_organisation()->set_hsa_id(kKommunHsa);

  absl::StatusOr<std::vector<v1::CareEvent>> refused = Run(agree);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  GiveSipConsent({kRegionHsa});
  refused = Run(agree);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(kKommunHsa), std::string::npos);
  EXPECT_EQ(state_.plan_status(), PlanStatus::kDraft);  // nothing changed

  v1::CommandRequest more = Command("consent-2");
  more.mutable_consent_given()->set_consent_id("consent-sip-2");
  more.mutable_consent_given()->set_scope(v1::CONSENT_SCOPE_SIP);
  more.mutable_consent_given()->add_receiving_organisations()->set_hsa_id(kKommunHsa);
  MustRun(more);
  MustRun(agree);
  EXPECT_EQ(state_.plan_status(), PlanStatus::kActive);
  // Active -> agreed again is illegal; active -> revised is fine.
  agree.set_command_id("agree-again");
  EXPECT_EQ(Run(agree).status().code(), absl::StatusCode::kFailedPrecondition);
  v1::CommandRequest revise = Command("revise");
  revise.mutable_care_plan_revised()->set_summary("after stay");
  MustRun(revise);
}

TEST_F(DecideTest, ActivityTransitions) {
  Enroll();
  PlanActivity("a", false, false);
  v1::CommandRequest complete = Command("complete");
  complete.mutable_activity_completed()->set_activity_id("a");
  EXPECT_EQ(Run(complete).status().code(), absl::StatusCode::kFailedPrecondition);
  v1::CommandRequest unknown = Command("unknown");
  unknown.mutable_activity_started()->set_activity_id("nope");
  EXPECT_EQ(Run(unknown).status().code(), absl::StatusCode::kNotFound);
  v1::CommandRequest missing = Command("missing");
  missing.mutable_activity_started();
  EXPECT_EQ(Run(missing).status().code(), absl::StatusCode::kInvalidArgument);
  v1::CommandRequest duplicate = Command("duplicate");
  duplicate.mutable_activity_planned()->set_activity_id("a");
  EXPECT_EQ(Run(duplicate).status().code(), absl::StatusCode::kAlreadyExists);

  v1::CommandRequest start = Command("start");
  start.mutable_activity_started()->set_activity_id("a");
  MustRun(start);
  v1::CommandRequest pause = Command("pause");
  pause.mutable_activity_paused()->set_activity_id("a");
  MustRun(pause);
  v1::CommandRequest resume = Command("resume");
  resume.mutable_activity_resumed()->set_activity_id("a");
  MustRun(resume);
  complete.set_command_id("complete-2");
  MustRun(complete);
  v1::CommandRequest cancel = Command("cancel");
  cancel.mutable_activity_cancelled()->set_activity_id("a");
  EXPECT_EQ(Run(cancel).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(DecideTest, RemovedTeamMemberKeepsHistory) {
  Enroll();
  v1::CommandRequest add = Command("add");
  add.mutable_care_team_member_added()->mutable_member()->set_kind(v1::MEMBER_KIND_PRACTITIONER);
  add.mutable_care_team_member_added()->mutable_member()->set_hsa_id("SE2321000131-P000000000009");
  MustRun(add);
  v1::CommandRequest remove = Command("remove", kT0 + absl::Hours(48));
  *remove.mutable_care_team_member_removed()->mutable_member() =
      add.care_team_member_added().member();
  MustRun(remove);
  const TeamMemberState& member = state_.team().at("SE2321000131-P000000000009");
  EXPECT_EQ(member.start, kT0);
  ASSERT_TRUE(member.end.has_value());
  EXPECT_EQ(*member.end, kT0 + absl::Hours(48));
  remove.set_command_id("remove-again");
  EXPECT_EQ(Run(remove).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DecideTest, DischargeChecksPrimaryContactAndOpensInformationTask) {
  Enroll();
  Admit("V1", kT0);
  v1::CommandRequest assessed = Command("assess", kT0 + absl::Hours(1));
  assessed.mutable_post_discharge_needs_assessed();
  MustRun(assessed);
  v1::CommandRequest discharge = Command("a03", kT0 + absl::Hours(10));
  discharge.mutable_inpatient_discharged()->mutable_stay()->set_visit_number("V1");
  absl::StatusOr<std::vector<v1::CareEvent>> events = Run(discharge);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(events->back().deadline_breached().kind(),
            v1::DEADLINE_KIND_PRIMARY_CONTACT_BEFORE_DISCHARGE);
  bool information_task = false;
  for (const auto& [id, task] : state_.open_tasks()) {
    information_task |= task.kind == v1::DEADLINE_KIND_DISCHARGE_INFORMATION_SAME_DAY;
  }
  EXPECT_TRUE(information_task);
  // Discharging again is illegal.
  discharge.set_command_id("a03-again");
  EXPECT_EQ(Run(discharge).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(DecideTest, DischargeCancelledReopensTheStayAndPausesAgain) {
  Enroll();
  PlanActivity("home-help", true, true);
  Admit("V1", kT0);
  v1::CommandRequest discharge = Command("a03", kT0 + absl::Hours(10));
  discharge.mutable_inpatient_discharged()->mutable_stay()->set_visit_number("V1");
  MustRun(discharge);
  EXPECT_EQ(state_.activities().at("home-help").status, ActivityStatus::kInProgress);

  v1::CommandRequest a13 = Command("a13", kT0 + absl::Hours(11));
  a13.mutable_discharge_cancelled()->mutable_stay()->set_visit_number("V1");
  absl::StatusOr<std::vector<v1::CareEvent>> events = Run(a13);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ((*events)[0].discharge_cancelled().cancelled_event_id(), EventIdBase(discharge) + "-0");
  ASSERT_EQ(events->size(), 2u);
  EXPECT_TRUE((*events)[1].has_activity_paused());
  EXPECT_EQ(state_.open_stay(), "V1");
  // The discharge-information task of the cancelled discharge is gone.
  EXPECT_TRUE(state_.open_tasks().empty());
  // A13 twice: the stay is no longer discharged.
  a13.set_command_id("a13-again");
  EXPECT_EQ(Run(a13).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(DecideTest, ReadyRevokedThenDeclaredAgainOpensANewSipTask) {
  Admit("V1", kT0);
  v1::CommandRequest ready = Command("ready", kT0 + absl::Hours(5));
  ready.mutable_discharge_ready_declared();
  MustRun(ready);
  v1::CommandRequest revoked = Command("revoked", kT0 + absl::Hours(6));
  revoked.mutable_discharge_ready_revoked()->set_reason("pneumonia");
  MustRun(revoked);
  v1::CommandRequest again = Command("ready-again", kT0 + absl::Hours(96));
  again.mutable_discharge_ready_declared();
  MustRun(again);
  ASSERT_EQ(state_.open_tasks().size(), 1u);
  const DeadlineTask& task = state_.open_tasks().begin()->second;
  EXPECT_EQ(task.due, calendar_.SipInvitationDue(kT0 + absl::Hours(96)));
  EXPECT_EQ(task.task_id,
            TaskId(EventIdBase(again) + "-0", v1::DEADLINE_KIND_SIP_INVITATION_3_DAYS));
}

TEST_F(DecideTest, SipInvitationNeedsSipConsentAndMeetsTheTask) {
  Admit("V1", kT0);
  v1::CommandRequest ready = Command("ready", kT0 + absl::Hours(5));
  ready.mutable_discharge_ready_declared();
  MustRun(ready);
  v1::CommandRequest invite = Command("invite", kT0 + absl::Hours(30));
  invite.mutable_sip_meeting_invited()->set_meeting_id("sip-1");
  EXPECT_EQ(Run(invite).status().code(), absl::StatusCode::kFailedPrecondition);
  GiveSipConsent({kRegionHsa, kKommunHsa});
  absl::StatusOr<std::vector<v1::CareEvent>> events = Run(invite);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ((*events)[0].sip_meeting_invited().consent_id(), "consent-sip");
  EXPECT_EQ((*events)[0].sip_meeting_invited().stay().visit_number(), "V1");
  EXPECT_EQ((*events)[0].sip_meeting_invited().care_plan_id(), "");  // not enrolled: no plan
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].deadline_met().kind(), v1::DEADLINE_KIND_SIP_INVITATION_3_DAYS);
}

TEST_F(DecideTest, SipInvitationBelongsToTheOpenPlan) {
  Enroll();
  GiveSipConsent({kRegionHsa, kKommunHsa});
  v1::CommandRequest invite = Command("invite", kT0 + absl::Hours(1));
  invite.mutable_sip_meeting_invited()->set_meeting_id("sip-1");
  absl::StatusOr<std::vector<v1::CareEvent>> events = Run(invite);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_FALSE(state_.care_plan_id().empty());
  EXPECT_EQ((*events)[0].sip_meeting_invited().care_plan_id(), state_.care_plan_id());
}

TEST_F(DecideTest, LateFactRecordsTheBreachWithItsActualTime) {
  Admit("V1", kT0);
  v1::CommandRequest assessed = Command("assess", kT0);
  assessed.mutable_post_discharge_needs_assessed();
  MustRun(assessed);
  v1::CommandRequest sent = Command("notice", kT0 + absl::Hours(30));
  sent.mutable_admission_notice_sent()->set_notice_id("N1");
  absl::StatusOr<std::vector<v1::CareEvent>> events = Run(sent);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  const v1::DeadlineBreached& breached = (*events)[1].deadline_breached();
  EXPECT_EQ(breached.kind(), v1::DEADLINE_KIND_ADMISSION_NOTICE_24H);
  EXPECT_EQ(ToAbslTime(breached.due()), kT0 + absl::Hours(24));
  EXPECT_EQ(ToAbslTime(breached.actual()), kT0 + absl::Hours(30));
}

}  // namespace
}  // namespace carehub::care::internal
