#include "tests/e2e/marta_journey.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace carehub::e2e {
namespace {

namespace v1 = care::v1;

v1::Party PartyOf(v1::PartyRole role, const std::string& hsa_id, const std::string& name = "") {
  v1::Party party;
  party.set_role(role);
  party.mutable_organisation()->set_hsa_id(hsa_id);
  if (!name.empty()) party.mutable_organisation()->set_name(name);
  return party;
}

void SetStay(v1::HospitalStay* stay) {
  stay->set_visit_number(kVisit);
  stay->set_patient_class(v1::PATIENT_CLASS_INPATIENT);
  stay->set_patient_class_code("I");
}

v1::CareLocation Ward(const std::string& point_of_care, const std::string& name,
                      const std::string& bed) {
  v1::CareLocation location;
  location.set_point_of_care(point_of_care);
  location.set_unit_name(name);
  location.set_bed(bed);
  return location;
}

}  // namespace

MartaJourney::MartaJourney(CareClient* care)
    : care_(care), personnummer_(TestPersonnummer("19470301", "982")) {}

v1::CommandRequest MartaJourney::Command(const std::string& id, const std::string& system,
                                         v1::DataOwnerKind owner, const std::string& hsa,
                                         absl::Time at) {
  v1::CommandRequest command;
  command.set_command_id(id);
  if (patient_id_.empty()) {
    command.mutable_patient()->mutable_identifier()->set_kind(
        v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
    command.mutable_patient()->mutable_identifier()->set_value(personnummer_);
  } else {
    command.mutable_patient()->set_patient_id(patient_id_);
  }
  command.mutable_source()->set_system(system);
  command.mutable_source()->set_organisation_hsa_id(hsa);
  command.mutable_data_owner()->set_kind(owner);
  command.mutable_data_owner()->set_organisation_hsa_id(hsa);
  *command.mutable_occurred_at() = Proto(at);
  command.set_source_message_id(absl::StrCat("msg-", id));
  return command;
}

v1::CommandRequest MartaJourney::Primary(const std::string& id, absl::Time at) {
  return Command(id, "vardcentral-journal", v1::DATA_OWNER_KIND_REGION, kVardcentral, at);
}

v1::CommandRequest MartaJourney::Hospital(const std::string& id, absl::Time at) {
  return Command(id, "cosmic-test", v1::DATA_OWNER_KIND_REGION, kHospital, at);
}

void MartaJourney::Execute(const v1::CommandRequest& command) {
  absl::StatusOr<v1::CommandResponse> response = care_->Execute(command);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_FALSE(response->replayed()) << command.command_id();
  if (patient_id_.empty()) patient_id_ = response->patient_id();
  last_position_ = std::max(last_position_, response->last_position());
}

uint64_t MartaJourney::EnrolAndAgreePlan() {
  const absl::Time day = Stockholm(2026, 11, 2, 9);
  v1::CommandRequest enrol = Primary("enrol", day);
  enrol.mutable_patient_enrolled()->set_target_group(v1::TARGET_GROUP_MOST_ILL);
  Execute(enrol);

  v1::CommandRequest consent = Primary("consent-sip", day + absl::Minutes(5));
  consent.mutable_consent_given()->set_consent_id("consent-sip-1");
  consent.mutable_consent_given()->set_scope(v1::CONSENT_SCOPE_SIP);
  consent.mutable_consent_given()->set_given_by(v1::CONSENT_GRANTOR_PATIENT);
  for (const char* hsa : {kVardcentral, kHospital, kKommunHsl, kKommunSol}) {
    consent.mutable_consent_given()->add_receiving_organisations()->set_hsa_id(hsa);
  }
  Execute(consent);

  v1::CommandRequest contact = Primary("contact", day + absl::Minutes(10));
  v1::CareTeamMember* member = contact.mutable_primary_contact_assigned()->mutable_contact();
  member->set_kind(v1::MEMBER_KIND_PRACTITIONER);
  member->set_hsa_id(kFastVardkontakt);
  member->set_name("Distriktssköterska Berg");
  member->mutable_organisation()->set_hsa_id(kVardcentral);
  Execute(contact);

  v1::CommandRequest nurse = Command("nurse", "lifecare-test", v1::DATA_OWNER_KIND_MUNICIPALITY_HSL,
                                     kKommunHsl, day + absl::Minutes(15));
  member = nurse.mutable_care_team_member_added()->mutable_member();
  member->set_kind(v1::MEMBER_KIND_PRACTITIONER);
  member->set_hsa_id("SE2120000829-P000000000005");
  member->set_name("Sjuksköterska Svensson");
  member->mutable_organisation()->set_hsa_id(kKommunHsl);
  Execute(nurse);
  v1::CommandRequest assessor = Command("assessor", "lifecare-test",
                                        v1::DATA_OWNER_KIND_MUNICIPALITY_SOL, kKommunSol,
                                        day + absl::Minutes(16));
  member = assessor.mutable_care_team_member_added()->mutable_member();
  member->set_kind(v1::MEMBER_KIND_PRACTITIONER);
  member->set_hsa_id("SE2120000829-P000000000006");
  member->set_name("Biståndshandläggare Lind");
  member->mutable_organisation()->set_hsa_id(kKommunSol);
  Execute(assessor);

  const struct {
    const char* id;
    const char* description;
  } kGoals[] = {{"goal-live-at-home", "Bo kvar hemma"},
                {"goal-fewer-hospital-days", "Färre än 30 vårddagar på sjukhus per år"}};
  for (const auto& goal : kGoals) {
    v1::CommandRequest set = Primary(goal.id, day + absl::Minutes(20));
    set.mutable_goal_set()->set_goal_id(goal.id);
    set.mutable_goal_set()->set_description(goal.description);
    Execute(set);
  }
  const struct {
    const char* id;
    const char* description;
    const char* performer;
    bool in_home;
  } kActivities[] = {{"medication-review", "Läkemedelsgenomgång", kVardcentral, false},
                     {"home-nursing-weekly", "Hemsjukvård en gång i veckan", kKommunHsl, true},
                     {"home-help-morning-evening", "Hemtjänst morgon och kväll", kKommunSol, true}};
  for (const auto& activity : kActivities) {
    v1::CommandRequest plan = Primary(absl::StrCat("plan-", activity.id), day + absl::Minutes(30));
    v1::ActivityPlanned* planned = plan.mutable_activity_planned();
    planned->set_activity_id(activity.id);
    planned->set_description(activity.description);
    planned->mutable_performer()->set_hsa_id(activity.performer);
    planned->set_in_home(activity.in_home);
    planned->add_goal_ids("goal-live-at-home");
    Execute(plan);
  }

  v1::CommandRequest agree = Primary("agree", day + absl::Hours(2));
  v1::CarePlanAgreed* agreed = agree.mutable_care_plan_agreed();
  agreed->set_title("Märtas plan");
  agreed->set_is_sip(true);
  *agreed->mutable_overall_responsibility() =
      PartyOf(v1::PARTY_ROLE_PRIMARY_CARE, kVardcentral, "Vårdcentralen Bäckby");
  agreed->mutable_responsible_person()->set_hsa_id(kFastVardkontakt);
  *agreed->add_agreed_by() = PartyOf(v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHsl);
  *agreed->add_agreed_by() = PartyOf(v1::PARTY_ROLE_MUNICIPALITY_SOL, kKommunSol);
  Execute(agree);

  for (const auto& activity : kActivities) {
    v1::CommandRequest start = Primary(absl::StrCat("start-", activity.id), day + absl::Hours(3));
    start.mutable_activity_started()->set_activity_id(activity.id);
    Execute(start);
  }
  return last_position_;
}

uint64_t MartaJourney::AdmitAtNight() {
  v1::CommandRequest a01 = Hospital("ADT-A01-1", Admitted());
  v1::InpatientAdmitted* admitted = a01.mutable_inpatient_admitted();
  SetStay(admitted->mutable_stay());
  *admitted->mutable_location() = Ward("MAVA3", "Medicinavdelning 3", "12");
  *admitted->mutable_admitted_at() = Proto(Admitted());
  *admitted->mutable_expected_discharge_at() = Proto(Stockholm(2026, 11, 20, 12));
  admitted->set_admission_type("E");
  Execute(a01);

  v1::CommandRequest assessed = Hospital("assess-1", NeedsAssessed());
  SetStay(assessed.mutable_post_discharge_needs_assessed()->mutable_stay());
  *assessed.mutable_post_discharge_needs_assessed()->mutable_assessed_at() = Proto(NeedsAssessed());
  *assessed.mutable_post_discharge_needs_assessed()->add_expected_receivers() =
      PartyOf(v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHsl);
  *assessed.mutable_post_discharge_needs_assessed()->add_expected_receivers() =
      PartyOf(v1::PARTY_ROLE_MUNICIPALITY_SOL, kKommunSol);
  *assessed.mutable_post_discharge_needs_assessed()->add_expected_receivers() =
      PartyOf(v1::PARTY_ROLE_PRIMARY_CARE, kVardcentral);
  Execute(assessed);
  return last_position_;
}

uint64_t MartaJourney::NoticeTransferAndReady() {
  v1::CommandRequest notice = Hospital("notice-1", NoticeSent());
  v1::AdmissionNoticeSent* sent = notice.mutable_admission_notice_sent();
  SetStay(sent->mutable_stay());
  sent->set_notice_id("IM-1");
  *sent->add_receivers() = PartyOf(v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHsl);
  *sent->add_receivers() = PartyOf(v1::PARTY_ROLE_MUNICIPALITY_SOL, kKommunSol);
  *sent->add_receivers() = PartyOf(v1::PARTY_ROLE_PRIMARY_CARE, kVardcentral);
  *sent->mutable_sent_at() = Proto(NoticeSent());
  Execute(notice);
  v1::CommandRequest ack = Command("notice-1-ack", "lifecare-test",
                                   v1::DATA_OWNER_KIND_MUNICIPALITY_HSL, kKommunHsl,
                                   NoticeSent() + absl::Minutes(30));
  ack.mutable_admission_notice_acknowledged()->set_notice_id("IM-1");
  *ack.mutable_admission_notice_acknowledged()->mutable_acknowledged_by() =
      PartyOf(v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHsl);
  Execute(ack);

  v1::CommandRequest a02 = Hospital("ADT-A02-1", Transferred());
  v1::InpatientTransferred* moved = a02.mutable_inpatient_transferred();
  SetStay(moved->mutable_stay());
  *moved->mutable_from_location() = Ward("MAVA3", "Medicinavdelning 3", "12");
  *moved->mutable_to_location() = Ward("GERI5", "Geriatrisk avdelning 5", "4");
  *moved->mutable_transferred_at() = Proto(Transferred());
  Execute(a02);

  v1::CommandRequest ready = Hospital("ready-1", ReadyForDischarge());
  SetStay(ready.mutable_discharge_ready_declared()->mutable_stay());
  *ready.mutable_discharge_ready_declared()->mutable_declared_at() = Proto(ReadyForDischarge());
  *ready.mutable_discharge_ready_declared()->add_receivers() =
      PartyOf(v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHsl);
  Execute(ready);
  return last_position_;
}

uint64_t MartaJourney::InviteDischargeAndMeet() {
  v1::CommandRequest invite = Primary("sip-invite-1", SipInvited());
  v1::SipMeetingInvited* invited = invite.mutable_sip_meeting_invited();
  invited->set_meeting_id("sip-1");
  invited->mutable_invited_by()->set_hsa_id(kFastVardkontakt);
  *invited->add_invitees() = PartyOf(v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHsl);
  *invited->add_invitees() = PartyOf(v1::PARTY_ROLE_MUNICIPALITY_SOL, kKommunSol);
  invited->add_invitees()->set_role(v1::PARTY_ROLE_PATIENT);
  *invited->mutable_proposed_start() = Proto(SipHeld());
  *invited->mutable_proposed_end() = Proto(SipHeld() + absl::Hours(1));
  invited->set_mode(v1::MEETING_MODE_VIDEO);
  Execute(invite);

  v1::CommandRequest a03 = Hospital("ADT-A03-1", Discharged());
  v1::InpatientDischarged* discharged = a03.mutable_inpatient_discharged();
  SetStay(discharged->mutable_stay());
  *discharged->mutable_location() = Ward("GERI5", "Geriatrisk avdelning 5", "4");
  *discharged->mutable_discharged_at() = Proto(Discharged());
  discharged->mutable_disposition()->set_system(
      "http://terminology.hl7.org/CodeSystem/discharge-disposition");
  discharged->mutable_disposition()->set_code("home");
  discharged->mutable_disposition()->set_display("Home");
  Execute(a03);

  v1::CommandRequest information = Hospital("info-1", InformationSent());
  v1::DischargeInformationSent* info = information.mutable_discharge_information_sent();
  SetStay(info->mutable_stay());
  info->set_document_id("epikris-1");
  info->add_document_kinds(v1::DISCHARGE_DOCUMENT_KIND_DISCHARGE_SUMMARY);
  info->add_document_kinds(v1::DISCHARGE_DOCUMENT_KIND_MEDICATION_LIST);
  *info->add_receivers() = PartyOf(v1::PARTY_ROLE_PRIMARY_CARE, kVardcentral);
  *info->add_receivers() = PartyOf(v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHsl);
  *info->mutable_sent_at() = Proto(InformationSent());
  Execute(information);

  v1::CommandRequest held = Primary("sip-held-1", SipHeld() + absl::Hours(1));
  held.mutable_sip_meeting_held()->set_meeting_id("sip-1");
  *held.mutable_sip_meeting_held()->mutable_started_at() = Proto(SipHeld());
  *held.mutable_sip_meeting_held()->mutable_ended_at() = Proto(SipHeld() + absl::Minutes(50));
  held.mutable_sip_meeting_held()->set_patient_participated(true);
  Execute(held);
  return last_position_;
}

}  // namespace carehub::e2e
