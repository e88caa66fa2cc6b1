// The care service over real gRPC (127.0.0.1:0, data in a temp dir): Märta's scenario from
// DOMAIN.md, driven through the CareService API, asserted on the events in the log.
#include "carehub/services/care_service.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "carehub/care/hub_key.h"
#include "carehub/services/common/grpc_server.h"
#include "carehub/services/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "services/care/testing/care_service_fixture.h"

namespace carehub::services {
namespace {

namespace v1 = ::carehub::care::v1;
namespace es = ::carehub::eventstore;

// Märta: a number in Skatteverket's test series (serial 98x), born 1947.
constexpr char kMarta[] = "19470301-9820";
constexpr char kRegion[] = "SE2321000131-E000000000001";       // vårdcentralen
constexpr char kHospital[] = "SE2321000131-E000000000010";     // the hospital
constexpr char kKommunHsl[] = "SE2120000829-E000000000002";    // hemsjukvård
constexpr char kKommunSol[] = "SE2120000829-E000000000003";    // hemtjänst

absl::TimeZone Stockholm() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &zone));
  return zone;
}

absl::Time Local(int month, int day, int hour) {
  return absl::FromCivil(absl::CivilSecond(2026, month, day, hour, 0, 0), Stockholm());
}

google::protobuf::Timestamp Proto(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

v1::Party PartyOf(v1::PartyRole role, const std::string& hsa_id) {
  v1::Party party;
  party.set_role(role);
  party.mutable_organisation()->set_hsa_id(hsa_id);
  return party;
}

class CareServiceTest : public testing::CareServiceFixture {
 protected:
  CareServiceTest() : CareServiceFixture(Local(11, 2, 9), /*seed=*/7) {}

  v1::CommandRequest Command(const std::string& id, const std::string& system,
                             v1::DataOwnerKind owner, const std::string& owner_hsa) {
    v1::CommandRequest command;
    command.set_command_id(id);
    if (patient_id_.empty()) {
      command.mutable_patient()->mutable_identifier()->set_kind(
          v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
      command.mutable_patient()->mutable_identifier()->set_value(kMarta);
    } else {
      command.mutable_patient()->set_patient_id(patient_id_);
    }
    command.mutable_source()->set_system(system);
    command.mutable_source()->set_organisation_hsa_id(owner_hsa);
    command.mutable_data_owner()->set_kind(owner);
    command.mutable_data_owner()->set_organisation_hsa_id(owner_hsa);
    *command.mutable_occurred_at() = Proto(clock_.Now());
    command.set_source_message_id(absl::StrCat("msg-", id));
    return command;
  }
  v1::CommandRequest Primary(const std::string& id) {
    return Command(id, "vardcentral-journal", v1::DATA_OWNER_KIND_REGION, kRegion);
  }
  v1::CommandRequest Hospital(const std::string& id) {
    return Command(id, "cosmic-test", v1::DATA_OWNER_KIND_REGION, kHospital);
  }

  v1::CommandResponse Execute(const v1::CommandRequest& command) {
    grpc::ClientContext context;
    v1::CommandResponse response;
    const grpc::Status status = stub_->Execute(&context, command, &response);
    EXPECT_TRUE(status.ok()) << command.command_id() << ": " << status.error_message();
    if (patient_id_.empty()) patient_id_ = response.patient_id();
    return response;
  }

  // `n` goal commands with ids prefix-0 .. prefix-(n-1).
  v1::ExecuteBatchRequest GoalBatch(const std::string& prefix, int n) {
    v1::ExecuteBatchRequest batch;
    for (int i = 0; i < n; ++i) {
      v1::CommandRequest* goal = batch.add_commands();
      *goal = Primary(absl::StrCat(prefix, "-", i));
      goal->mutable_goal_set()->set_goal_id(absl::StrCat(prefix, "-", i));
    }
    return batch;
  }

  std::vector<std::string> CheckDeadlines() {
    grpc::ClientContext context;
    v1::CheckDeadlinesResponse response;
    const grpc::Status status = stub_->CheckDeadlines(&context, {}, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.event_ids().begin(), response.event_ids().end()};
  }

  std::vector<v1::CareEvent> PatientEvents() {
    std::vector<v1::CareEvent> events;
    absl::StatusOr<std::vector<es::RecordedEvent>> stream =
        store_->ReadStream({.stream_id = "patient-" + patient_id_});
    EXPECT_TRUE(stream.ok()) << stream.status();
    if (!stream.ok()) return events;
    for (const es::RecordedEvent& recorded : *stream) {
      events.emplace_back().ParseFromString(recorded.data);
    }
    return events;
  }

  // The payload names of a response's events, e.g. "inpatient_admitted".
  std::vector<std::string> Kinds(const v1::CommandResponse& response) {
    std::vector<std::string> kinds;
    for (const v1::CareEvent& event : PatientEvents()) {
      for (const std::string& id : response.event_ids()) {
        if (event.event_id() == id) {
          kinds.push_back(event.GetReflection()
                              ->GetOneofFieldDescriptor(event, event.GetDescriptor()->oneof_decl(0))
                              ->name());
        }
      }
    }
    return kinds;
  }

  void EnrolAndAgreePlan();

  std::string patient_id_;
};

void CareServiceTest::EnrolAndAgreePlan() {
  v1::CommandRequest enrol = Primary("enrol");
  enrol.mutable_patient_enrolled()->set_target_group(v1::TARGET_GROUP_MOST_ILL);
  const v1::CommandResponse enrolled = Execute(enrol);
  ASSERT_TRUE(enrolled.patient_created());

  v1::CommandRequest consent = Primary("consent-sip");
  consent.mutable_consent_given()->set_consent_id("consent-sip-1");
  consent.mutable_consent_given()->set_scope(v1::CONSENT_SCOPE_SIP);
  consent.mutable_consent_given()->set_given_by(v1::CONSENT_GRANTOR_PATIENT);
  for (const char* hsa : {kRegion, kHospital, kKommunHsl, kKommunSol}) {
    consent.mutable_consent_given()->add_receiving_organisations()->set_hsa_id(hsa);
  }
  Execute(consent);

  v1::CommandRequest contact = Primary("contact");
  v1::CareTeamMember* member = contact.mutable_primary_contact_assigned()->mutable_contact();
  member->set_kind(v1::MEMBER_KIND_PRACTITIONER);
  member->set_hsa_id("SE2321000131-P000000000001");
  member->mutable_role()->set_code("fast-vardkontakt");
  Execute(contact);
  v1::CommandRequest nurse = Command("nurse", "lifecare-test", v1::DATA_OWNER_KIND_MUNICIPALITY_HSL,
                                     kKommunHsl);
  member = nurse.mutable_care_team_member_added()->mutable_member();
  member->set_kind(v1::MEMBER_KIND_PRACTITIONER);
  member->set_hsa_id("SE2120000829-P000000000005");
  Execute(nurse);

  for (const char* goal : {"goal-live-at-home", "goal-fewer-hospital-days"}) {
    v1::CommandRequest set = Primary(goal);
    set.mutable_goal_set()->set_goal_id(goal);
    Execute(set);
  }
  struct Planned {
    const char* id;
    const char* performer;
    bool in_home;
  };
  for (const Planned& planned : {Planned{"medication-review", kRegion, false},
                                 Planned{"home-nursing-weekly", kKommunHsl, true},
                                 Planned{"home-help-morning-evening", kKommunSol, true}}) {
    v1::CommandRequest plan = Primary(absl::StrCat("plan-", planned.id));
    plan.mutable_activity_planned()->set_activity_id(planned.id);
    plan.mutable_activity_planned()->mutable_performer()->set_hsa_id(planned.performer);
    plan.mutable_activity_planned()->set_in_home(planned.in_home);
    Execute(plan);
  }

  v1::CommandRequest agree = Primary("agree");
  v1::CarePlanAgreed* agreed = agree.mutable_care_plan_agreed();
  agreed->set_is_sip(true);
  *agreed->mutable_overall_responsibility() = PartyOf(v1::PARTY_ROLE_PRIMARY_CARE, kRegion);
  *agreed->add_agreed_by() = PartyOf(v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHsl);
  *agreed->add_agreed_by() = PartyOf(v1::PARTY_ROLE_MUNICIPALITY_SOL, kKommunSol);
  EXPECT_EQ(Kinds(Execute(agree)), std::vector<std::string>{"care_plan_agreed"});

  for (const char* id : {"medication-review", "home-nursing-weekly", "home-help-morning-evening"}) {
    v1::CommandRequest start = Primary(absl::StrCat("start-", id));
    start.mutable_activity_started()->set_activity_id(id);
    Execute(start);
  }
}

TEST_F(CareServiceTest, MartaFromPlanThroughHospitalStayAndBack) {
  EnrolAndAgreePlan();

  // Admitted at night (A01), Monday 16 November 02:30: the two home activities pause.
  clock_.Set(Local(11, 16, 2) + absl::Minutes(30));
  v1::CommandRequest a01 = Hospital("ADT-A01-1");
  a01.mutable_inpatient_admitted()->mutable_stay()->set_visit_number("VT-1001");
  const v1::CommandResponse admitted = Execute(a01);
  EXPECT_EQ(Kinds(admitted), (std::vector<std::string>{"inpatient_admitted", "activity_paused",
                                                       "activity_paused"}));

  // Needs assessed at 08:00; the admission notice at 10:00 meets its 24 h deadline.
  clock_.Set(Local(11, 16, 8));
  v1::CommandRequest assessed = Hospital("assess-1");
  assessed.mutable_post_discharge_needs_assessed();
  Execute(assessed);
  clock_.Set(Local(11, 16, 10));
  v1::CommandRequest notice = Hospital("notice-1");
  notice.mutable_admission_notice_sent()->set_notice_id("IM-1");
  *notice.mutable_admission_notice_sent()->add_receivers() =
      PartyOf(v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHsl);
  EXPECT_EQ(Kinds(Execute(notice)),
            (std::vector<std::string>{"admission_notice_sent", "deadline_met"}));

  // Transfer (A02), then ready for discharge on Tuesday 11:00.
  clock_.Set(Local(11, 16, 14));
  v1::CommandRequest a02 = Hospital("ADT-A02-1");
  a02.mutable_inpatient_transferred()->mutable_to_location()->set_point_of_care("MAVA3");
  Execute(a02);
  clock_.Set(Local(11, 17, 11));
  v1::CommandRequest ready = Hospital("ready-1");
  ready.mutable_discharge_ready_declared();
  Execute(ready);

  // No SIP invitation: nothing is breached before the end of Friday, then exactly once.
  clock_.Set(Local(11, 20, 23));
  EXPECT_TRUE(CheckDeadlines().empty());
  clock_.Set(Local(11, 21, 9));
  EXPECT_EQ(CheckDeadlines().size(), 1u);
  EXPECT_TRUE(CheckDeadlines().empty());

  // Discharged (A03) Saturday 13:00: activities resume; the payment clock (5 days) had not
  // started; the fast vårdkontakt was appointed before discharge.
  clock_.Set(Local(11, 21, 13));
  v1::CommandRequest a03 = Hospital("ADT-A03-1");
  a03.mutable_inpatient_discharged()->mutable_stay()->set_visit_number("VT-1001");
  EXPECT_EQ(Kinds(Execute(a03)),
            (std::vector<std::string>{"inpatient_discharged", "activity_resumed",
                                      "activity_resumed", "deadline_met", "deadline_met"}));
  clock_.Set(Local(11, 21, 16));
  v1::CommandRequest information = Hospital("info-1");
  information.mutable_discharge_information_sent()->mutable_stay()->set_visit_number("VT-1001");
  EXPECT_EQ(Kinds(Execute(information)),
            (std::vector<std::string>{"discharge_information_sent", "deadline_met"}));
  clock_.Set(Local(11, 30, 9));
  EXPECT_TRUE(CheckDeadlines().empty());

  // The log, deadline outcomes by kind.
  std::vector<v1::DeadlineKind> met;
  std::vector<v1::DeadlineKind> breached;
  for (const v1::CareEvent& event : PatientEvents()) {
    if (event.has_deadline_met()) met.push_back(event.deadline_met().kind());
    if (event.has_deadline_breached()) breached.push_back(event.deadline_breached().kind());
    EXPECT_EQ(event.patient_id(), patient_id_);
  }
  EXPECT_EQ(met, (std::vector<v1::DeadlineKind>{
                     v1::DEADLINE_KIND_ADMISSION_NOTICE_24H,
                     v1::DEADLINE_KIND_PAYMENT_RESPONSIBILITY,
                     v1::DEADLINE_KIND_PRIMARY_CONTACT_BEFORE_DISCHARGE,
                     v1::DEADLINE_KIND_DISCHARGE_INFORMATION_SAME_DAY}));
  EXPECT_EQ(breached, std::vector<v1::DeadlineKind>{v1::DEADLINE_KIND_SIP_INVITATION_3_DAYS});
}

TEST_F(CareServiceTest, ErrorsKeepTheirCodesAndReplaysTheirResult) {
  EnrolAndAgreePlan();
  v1::CommandRequest complete = Primary("complete-unknown");
  complete.mutable_activity_completed()->set_activity_id("no-such-activity");
  grpc::ClientContext context;
  v1::CommandResponse response;
  grpc::Status status = stub_->Execute(&context, complete, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("activity_completed.activity_id"), std::string::npos);

  v1::CommandRequest goal = Primary("goal-extra");
  goal.mutable_goal_set()->set_goal_id("goal-extra");
  const v1::CommandResponse first = Execute(goal);
  const v1::CommandResponse again = Execute(goal);
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.first_position(), first.first_position());
}

// A batch answers each command as Execute would, in the request's order: results, refusals and
// replays alike; and only the accepted commands' events are in the log.
TEST_F(CareServiceTest, ExecuteBatchAnswersEachCommandAsExecuteWould) {
  EnrolAndAgreePlan();
  const size_t before = PatientEvents().size();
  v1::ExecuteBatchRequest batch = GoalBatch("batch-goal", 5);
  v1::CommandRequest unknown = Primary("batch-unknown");
  unknown.mutable_activity_completed()->set_activity_id("no-such-activity");
  *batch.add_commands() = unknown;
  v1::CommandRequest malformed = Primary("");  // no command id
  malformed.mutable_goal_set()->set_goal_id("batch-goal-x");
  *batch.add_commands() = malformed;

  grpc::ClientContext context;
  v1::ExecuteBatchResponse response;
  ASSERT_TRUE(stub_->ExecuteBatch(&context, batch, &response).ok());
  ASSERT_EQ(response.results_size(), 7);
  std::vector<uint64_t> versions;
  for (int i = 0; i < 5; ++i) {
    const v1::CommandResult& result = response.results(i);
    ASSERT_EQ(result.code(), 0) << i << ": " << result.message();
    EXPECT_EQ(result.response().patient_id(), patient_id_);
    ASSERT_EQ(result.response().event_ids_size(), 1);
    versions.push_back(result.response().first_version());
  }
  // Five appends to one stream, in some order: five consecutive versions.
  std::sort(versions.begin(), versions.end());
  for (size_t i = 0; i < versions.size(); ++i) EXPECT_EQ(versions[i], before + i);
  EXPECT_EQ(response.results(5).code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_NE(response.results(5).message().find("activity_completed.activity_id"),
            std::string::npos);
  EXPECT_EQ(response.results(6).code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_NE(response.results(6).message().find("command_id"), std::string::npos);
  EXPECT_EQ(PatientEvents().size(), before + 5);

  // The same batch again: the accepted commands are replays with their original results.
  grpc::ClientContext again_context;
  v1::ExecuteBatchResponse again;
  ASSERT_TRUE(stub_->ExecuteBatch(&again_context, batch, &again).ok());
  ASSERT_EQ(again.results_size(), 7);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(again.results(i).response().replayed()) << i;
    EXPECT_EQ(again.results(i).response().first_position(),
              response.results(i).response().first_position());
  }
  EXPECT_EQ(PatientEvents().size(), before + 5);
}

TEST_F(CareServiceTest, ExecuteBatchRefusesAnOversizedBatchAndTakesAnEmptyOne) {
  EnrolAndAgreePlan();
  const size_t before = PatientEvents().size();
  const v1::ExecuteBatchRequest batch = GoalBatch("big", 1025);
  grpc::ClientContext context;
  v1::ExecuteBatchResponse response;
  const grpc::Status status = stub_->ExecuteBatch(&context, batch, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("1024"), std::string::npos) << status.error_message();
  EXPECT_EQ(PatientEvents().size(), before);

  grpc::ClientContext empty_context;
  v1::ExecuteBatchResponse empty;
  EXPECT_TRUE(stub_->ExecuteBatch(&empty_context, {}, &empty).ok());
  EXPECT_EQ(empty.results_size(), 0);
}

}  // namespace
}  // namespace carehub::services
