// Märta's story (DOMAIN.md, "Scenarios to test against") as care events, for the projection
// and projector tests.
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/base/strings.h"
#include "fhir/testing/care_events.h"
#include "google/protobuf/descriptor.h"

namespace carehub::fhir::testing {
namespace {

using care::v1::CareEvent;

using care::v1::CareEvent;

void SetTime(google::protobuf::Timestamp* ts, absl::Time t) {
  const int64_t micros = absl::ToUnixMicros(t);
  ts->set_seconds(micros / 1000000);
  ts->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
}

care::v1::Organisation Org(std::string_view hsa, std::string_view name) {
  care::v1::Organisation o;
  o.set_hsa_id(std::string(hsa));
  o.set_name(std::string(name));
  return o;
}

care::v1::Party PartyOf(care::v1::PartyRole role, std::string_view hsa, std::string_view name) {
  care::v1::Party p;
  p.set_role(role);
  if (!hsa.empty()) *p.mutable_organisation() = Org(hsa, name);
  return p;
}

void SetStay(care::v1::HospitalStay* stay, std::string_view patient_id) {
  stay->set_visit_number(absl::StrCat("V-", Sv(patient_id)));
  stay->set_visit_number_assigner("1.2.752.97.3.1.1");
  stay->set_patient_class(care::v1::PATIENT_CLASS_INPATIENT);
  stay->set_patient_class_code("I");
}

care::v1::CareLocation Ward(std::string_view name, std::string_view bed) {
  care::v1::CareLocation l;
  l.set_unit_name(std::string(name));
  l.set_point_of_care("MED3");
  l.set_bed(std::string(bed));
  return l;
}

// The story being built: events with ids "<patient>-0", "<patient>-1", ...
struct Scenario {
  std::string p;
  absl::Time admitted;
  int seq = 0;
  std::vector<CareEvent> events;

  CareEvent& Next(absl::Time at) {
    events.push_back(Envelope(p, seq++, at));
    return events.back();
  }
};

// Enrolment, identity, consent and the first team members.
void AddEnrolment(Scenario& s) {
  const absl::Time before = s.admitted - absl::Hours(24 * 10);
  const std::string& p = s.p;
  auto next = [&s](absl::Time at) -> CareEvent& { return s.Next(at); };
  {
    auto* e = next(before).mutable_patient_identifier_linked();
    e->mutable_identifier()->set_kind(care::v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
    e->mutable_identifier()->set_value("191212121212");
  }
  {
    auto* e = next(before + absl::Minutes(1)).mutable_patient_enrolled();
    e->set_target_group(care::v1::TARGET_GROUP_MOST_ILL);
    e->set_care_plan_id(p + "-plan");
    e->set_care_team_id(p + "-team");
    *e->mutable_enrolling_unit() = Org(kVardcentralHsaId, "Vårdcentralen Bäckby");
  }
  {
    auto* e = next(before + absl::Minutes(2)).mutable_consent_given();
    e->set_consent_id(p + "-consent");
    e->set_scope(care::v1::CONSENT_SCOPE_SHARED_RECORD);
    *e->add_receiving_organisations() = Org(kKommunHslHsaId, "Västerås stad, hemsjukvård");
    e->set_given_by(care::v1::CONSENT_GRANTOR_PATIENT);
    e->set_care_plan_id(p + "-plan");
  }
  {
    auto* e = next(before + absl::Minutes(3)).mutable_care_team_member_added();
    e->set_care_team_id(p + "-team");
    auto* m = e->mutable_member();
    m->set_kind(care::v1::MEMBER_KIND_PRACTITIONER);
    m->set_hsa_id(kNurseHsaId);
    m->set_name("Sjuksköterska Svensson");
    m->mutable_role()->set_system("http://snomed.info/sct");
    m->mutable_role()->set_code("224535009");
    m->mutable_role()->set_display("Registered nurse");
    *m->mutable_organisation() = Org(kKommunHslHsaId, "Västerås stad, hemsjukvård");
  }
  {
    auto* e = next(before + absl::Minutes(4)).mutable_care_team_member_added();
    e->set_care_team_id(p + "-team");
    auto* m = e->mutable_member();
    m->set_kind(care::v1::MEMBER_KIND_RELATED_PERSON);
    m->set_name("Anna (dotter)");
    m->mutable_role()->set_display("Dotter");
  }
}

// The fast vårdkontakt and the goals.
void AddContactAndGoals(Scenario& s) {
  const absl::Time before = s.admitted - absl::Hours(24 * 10);
  const std::string& p = s.p;
  auto next = [&s](absl::Time at) -> CareEvent& { return s.Next(at); };
  {
    auto* e = next(before + absl::Minutes(5)).mutable_primary_contact_assigned();
    e->set_care_team_id(p + "-team");
    auto* c = e->mutable_contact();
    c->set_kind(care::v1::MEMBER_KIND_PRACTITIONER);
    c->set_hsa_id("SE2321000131-P000000000013");
    c->set_name("Distriktssköterska Berg");
    *c->mutable_organisation() = Org(kVardcentralHsaId, "Vårdcentralen Bäckby");
  }
  {
    auto* e = next(before + absl::Minutes(6)).mutable_goal_set();
    e->set_goal_id(p + "-goal-home");
    e->set_care_plan_id(p + "-plan");
    e->set_description("Bo kvar hemma");
  }
  {
    auto* e = next(before + absl::Minutes(7)).mutable_goal_set();
    e->set_goal_id(p + "-goal-days");
    e->set_care_plan_id(p + "-plan");
    e->set_description("Färre än 30 vårddagar på sjukhus per år");
    e->set_target("< 30 vårddagar per år");
    SetTime(e->mutable_due(), before + absl::Hours(24 * 365));
  }
}

// Activities (two in the home), the agreed SIP plan, and the home activities started.
void AddActivities(Scenario& s) {
  const int& seq = s.seq;
  const absl::Time before = s.admitted - absl::Hours(24 * 10);
  const std::string& p = s.p;
  auto next = [&s](absl::Time at) -> CareEvent& { return s.Next(at); };
  const struct {
    const char* suffix;
    const char* description;
    const char* hsa;
    const char* org;
    bool in_home;
  } kActivities[] = {
      {"-act-medreview", "Läkemedelsgenomgång", kVardcentralHsaId, "Vårdcentralen Bäckby", false},
      {"-act-nursing", "Hemsjukvård en gång i veckan", kKommunHslHsaId,
       "Västerås stad, hemsjukvård", true},
      {"-act-homehelp", "Hemtjänst morgon och kväll", "SE2120000829-E000000000004",
       "Västerås stad, hemtjänst", true},
  };
  for (const auto& a : kActivities) {
    auto* e = next(before + absl::Minutes(8 + seq)).mutable_activity_planned();
    e->set_activity_id(p + a.suffix);
    e->set_care_plan_id(p + "-plan");
    e->set_description(a.description);
    *e->mutable_performer() = Org(a.hsa, a.org);
    e->set_in_home(a.in_home);
    e->add_goal_ids(p + "-goal-home");
    auto* s = e->mutable_schedule();
    SetTime(s->mutable_start(), before + absl::Hours(24));
    if (std::string(a.suffix) == "-act-homehelp") {
      s->set_frequency(2);
      s->set_period(1);
      s->set_period_unit(care::v1::Schedule::PERIOD_UNIT_DAY);
      s->add_times_of_day("08:00");
      s->add_times_of_day("20:00");
      s->set_text("morgon och kväll");
    } else if (std::string(a.suffix) == "-act-nursing") {
      s->set_frequency(1);
      s->set_period(1);
      s->set_period_unit(care::v1::Schedule::PERIOD_UNIT_WEEK);
      s->add_days_of_week(3);
    }
  }
  {
    auto* e = next(before + absl::Hours(2)).mutable_care_plan_agreed();
    e->set_care_plan_id(p + "-plan");
    e->set_title("Märtas plan");
    e->set_is_sip(true);
    *e->mutable_overall_responsibility() =
        PartyOf(care::v1::PARTY_ROLE_PRIMARY_CARE, kVardcentralHsaId, "Vårdcentralen Bäckby");
    e->mutable_responsible_person()->set_hsa_id("SE2321000131-P000000000013");
    e->mutable_responsible_person()->set_name("Distriktssköterska Berg");
  }
  next(before + absl::Hours(3)).mutable_activity_started()->set_activity_id(p + "-act-nursing");
  next(before + absl::Hours(3)).mutable_activity_started()->set_activity_id(p + "-act-homehelp");
}

// Admitted at night (A01) and the discharge workflow up to utskrivningsklar.
void AddAdmission(Scenario& s) {
  const absl::Time admitted = s.admitted;
  const std::string_view pid = s.p;
  const std::string& p = s.p;
  auto next = [&s](absl::Time at) -> CareEvent& { return s.Next(at); };
  {
    auto* e = next(admitted).mutable_inpatient_admitted();
    SetStay(e->mutable_stay(), pid);
    *e->mutable_location() = Ward("Medicinavdelning 3", "12");
    SetTime(e->mutable_admitted_at(), admitted);
    SetTime(e->mutable_expected_discharge_at(), admitted + absl::Hours(24 * 5));
    e->mutable_attending_physician()->set_hsa_id(kDoctorHsaId);
    e->set_admission_type("E");
  }
  {
    auto* e = next(admitted + absl::Hours(6)).mutable_post_discharge_needs_assessed();
    SetStay(e->mutable_stay(), pid);
    SetTime(e->mutable_assessed_at(), admitted + absl::Hours(6));
    *e->add_expected_receivers() = PartyOf(care::v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHslHsaId,
                                           "Västerås stad, hemsjukvård");
    *e->add_expected_receivers() =
        PartyOf(care::v1::PARTY_ROLE_PRIMARY_CARE, kVardcentralHsaId, "Vårdcentralen Bäckby");
  }
  {
    auto* e = next(admitted + absl::Hours(8)).mutable_admission_notice_sent();
    SetStay(e->mutable_stay(), pid);
    e->set_notice_id(p + "-notice");
    e->set_task_id(p + "-task-notice");
    *e->add_receivers() = PartyOf(care::v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHslHsaId,
                                  "Västerås stad, hemsjukvård");
    SetTime(e->mutable_sent_at(), admitted + absl::Hours(8));
  }
  {
    auto* e = next(admitted + absl::Hours(9)).mutable_admission_notice_acknowledged();
    e->set_notice_id(p + "-notice");
    *e->mutable_acknowledged_by() = PartyOf(care::v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHslHsaId,
                                            "Västerås stad, hemsjukvård");
    SetTime(e->mutable_acknowledged_at(), admitted + absl::Hours(9));
  }
  {
    auto* e = next(admitted + absl::Hours(20)).mutable_inpatient_transferred();
    SetStay(e->mutable_stay(), pid);
    *e->mutable_from_location() = Ward("Medicinavdelning 3", "12");
    *e->mutable_to_location() = Ward("Geriatrisk avdelning 5", "4");
    SetTime(e->mutable_transferred_at(), admitted + absl::Hours(20));
  }
  {
    auto* e = next(admitted + absl::Hours(30)).mutable_expected_discharge_changed();
    SetStay(e->mutable_stay(), pid);
    SetTime(e->mutable_previous_expected_discharge_at(), admitted + absl::Hours(24 * 5));
    SetTime(e->mutable_expected_discharge_at(), admitted + absl::Hours(24 * 4));
  }
  {
    auto* e = next(admitted + absl::Hours(56)).mutable_discharge_ready_declared();
    SetStay(e->mutable_stay(), pid);
    SetTime(e->mutable_declared_at(), admitted + absl::Hours(56));
    e->mutable_declared_by()->set_hsa_id(kDoctorHsaId);
    *e->add_receivers() = PartyOf(care::v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHslHsaId,
                                  "Västerås stad, hemsjukvård");
  }
}

// SIP invitation, discharge (A03), information and the SIP meeting; a member leaves.
void AddDischarge(Scenario& s) {
  const absl::Time admitted = s.admitted;
  const std::string_view pid = s.p;
  const std::string& p = s.p;
  auto next = [&s](absl::Time at) -> CareEvent& { return s.Next(at); };
  {
    auto* e = next(admitted + absl::Hours(60)).mutable_sip_meeting_invited();
    e->set_meeting_id(p + "-sip");
    e->set_care_plan_id(p + "-plan");
    e->mutable_invited_by()->set_hsa_id("SE2321000131-P000000000013");
    *e->add_invitees() = PartyOf(care::v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHslHsaId,
                                 "Västerås stad, hemsjukvård");
    *e->add_invitees() = PartyOf(care::v1::PARTY_ROLE_PATIENT, "", "");
    SetTime(e->mutable_proposed_start(), admitted + absl::Hours(24 * 4));
    SetTime(e->mutable_proposed_end(), admitted + absl::Hours(24 * 4 + 1));
    e->set_mode(care::v1::MEETING_MODE_VIDEO);
    e->set_consent_id(p + "-consent");
    SetStay(e->mutable_stay(), pid);
  }
  {
    auto* e = next(admitted + absl::Hours(60)).mutable_deadline_met();
    e->set_kind(care::v1::DEADLINE_KIND_SIP_INVITATION_3_DAYS);
    // The care service's due time: the end of 6 March, Stockholm (23:00Z).
    SetTime(e->mutable_due(), admitted + absl::Hours(24 * 5 + 20) + absl::Minutes(50));
    SetTime(e->mutable_actual(), admitted + absl::Hours(60));
    SetStay(e->mutable_stay(), pid);
  }
  {
    auto* e = next(admitted + absl::Hours(24 * 4)).mutable_inpatient_discharged();
    SetStay(e->mutable_stay(), pid);
    *e->mutable_location() = Ward("Geriatrisk avdelning 5", "4");
    SetTime(e->mutable_admitted_at(), admitted);
    SetTime(e->mutable_discharged_at(), admitted + absl::Hours(24 * 4));
    e->mutable_disposition()->set_system(
        "http://terminology.hl7.org/CodeSystem/discharge-disposition");
    e->mutable_disposition()->set_code("home");
    e->mutable_disposition()->set_display("Home");
  }
  {
    auto* e = next(admitted + absl::Hours(24 * 4 + 2)).mutable_discharge_information_sent();
    SetStay(e->mutable_stay(), pid);
    e->set_document_id(p + "-epikris");
    e->add_document_kinds(care::v1::DISCHARGE_DOCUMENT_KIND_DISCHARGE_SUMMARY);
    e->add_document_kinds(care::v1::DISCHARGE_DOCUMENT_KIND_MEDICATION_LIST);
    *e->add_receivers() =
        PartyOf(care::v1::PARTY_ROLE_PRIMARY_CARE, kVardcentralHsaId, "Vårdcentralen Bäckby");
    SetTime(e->mutable_sent_at(), admitted + absl::Hours(24 * 4 + 2));
  }
  {
    auto* e = next(admitted + absl::Hours(24 * 4 + 3)).mutable_sip_meeting_held();
    e->set_meeting_id(p + "-sip");
    SetTime(e->mutable_started_at(), admitted + absl::Hours(24 * 4));
    SetTime(e->mutable_ended_at(), admitted + absl::Hours(24 * 4) + absl::Minutes(50));
    e->set_patient_participated(true);
  }
  {
    auto* e = next(admitted + absl::Hours(24 * 5)).mutable_care_team_member_removed();
    e->set_care_team_id(p + "-team");
    auto* m = e->mutable_member();
    m->set_kind(care::v1::MEMBER_KIND_RELATED_PERSON);
    m->set_name("Anna (dotter)");
    m->mutable_role()->set_display("Dotter");
    e->set_reason("Flyttat");
  }
}

// Back home: a revision, self-monitoring, an alert and a home visit, an agreed time.
void AddAtHome(Scenario& s) {
  const absl::Time admitted = s.admitted;
  const std::string& p = s.p;
  auto next = [&s](absl::Time at) -> CareEvent& { return s.Next(at); };
  {
    auto* e = next(admitted + absl::Hours(24 * 5 + 1)).mutable_care_plan_revised();
    e->set_care_plan_id(p + "-plan");
    e->set_summary("Reviderad efter vårdtillfället");
  }
  {
    auto* e = next(admitted + absl::Hours(24 * 5 + 2)).mutable_goal_status_changed();
    e->set_goal_id(p + "-goal-days");
    e->set_achievement(care::v1::GOAL_ACHIEVEMENT_IN_PROGRESS);
    e->set_lifecycle(care::v1::GOAL_LIFECYCLE_ACTIVE);
  }
  {
    auto* e = next(admitted + absl::Hours(24 * 6)).mutable_self_monitoring_observation_recorded();
    e->set_observation_id(p + "-obs-1");
    e->mutable_code()->set_system("http://loinc.org");
    e->mutable_code()->set_code("59408-5");
    e->mutable_code()->set_display("Oxygen saturation in Arterial blood by Pulse oximetry");
    e->set_value(91);
    e->set_unit("%");
    SetTime(e->mutable_measured_at(), admitted + absl::Hours(24 * 6));
    e->mutable_device()->set_device_id("oximeter-77");
    e->set_activity_id(p + "-act-nursing");
  }
  {
    auto* e = next(admitted + absl::Hours(24 * 6 + 1)).mutable_deterioration_alert_raised();
    e->set_alert_id(p + "-alert-1");
    e->set_severity(care::v1::ALERT_SEVERITY_HIGH);
    e->add_observation_ids(p + "-obs-1");
    e->set_rule("SpO2 < 92 %");
    *e->mutable_assigned_to() = Org("SE2321000131-E000000000009", "Mobila teamet");
    SetTime(e->mutable_respond_by(), admitted + absl::Hours(24 * 6 + 9));
  }
  {
    CareEvent& visit = next(admitted + absl::Hours(24 * 6 + 4));
    // The municipality's nurse: the visit is the municipal HSL unit's record, not the region's.
    visit.mutable_source()->set_organisation_hsa_id(kKommunHslHsaId);
    visit.mutable_source()->mutable_author()->set_hsa_id(kNurseHsaId);
    visit.mutable_source()->mutable_author()->set_name("Sjuksköterska Nilsson");
    visit.mutable_data_owner()->set_kind(care::v1::DATA_OWNER_KIND_MUNICIPALITY_HSL);
    visit.mutable_data_owner()->set_organisation_hsa_id(kKommunHslHsaId);
    auto* e = visit.mutable_home_visit_performed();
    e->set_visit_id(p + "-visit-1");
    e->set_reason(care::v1::HOME_VISIT_REASON_ALERT);
    e->set_alert_id(p + "-alert-1");
    e->set_activity_id(p + "-act-nursing");
    SetTime(e->mutable_started_at(), admitted + absl::Hours(24 * 6 + 4));
    SetTime(e->mutable_ended_at(), admitted + absl::Hours(24 * 6 + 5));
    e->add_performers()->set_hsa_id(kNurseHsaId);
    e->set_outcome("Stabil, fortsatt egenmätning");
  }
  {
    auto* e = next(admitted + absl::Hours(24 * 7)).mutable_agreed_time_booked();
    e->set_appointment_id(p + "-appt-1");
    e->set_care_plan_id(p + "-plan");
    e->set_activity_id(p + "-act-medreview");
    SetTime(e->mutable_start(), admitted + absl::Hours(24 * 14));
    SetTime(e->mutable_end(), admitted + absl::Hours(24 * 14) + absl::Minutes(30));
    e->mutable_practitioner()->set_hsa_id(kDoctorHsaId);
    e->set_location("Vårdcentralen Bäckby");
  }
  {
    auto* e = next(admitted + absl::Hours(24 * 14 + 1)).mutable_activity_completed();
    e->set_activity_id(p + "-act-medreview");
    e->set_outcome("Två läkemedel utsatta");
  }
}

}  // namespace

absl::Time ScenarioStart() { return absl::FromUnixSeconds(1772331000); }  // 2026-03-01T02:10:00Z

CareEvent Envelope(std::string_view patient_id, int seq, absl::Time at) {
  CareEvent e;
  e.set_event_id(absl::StrCat(Sv(patient_id), "-", seq));
  e.set_patient_id(std::string(patient_id));
  SetTime(e.mutable_occurred_at(), at);
  SetTime(e.mutable_recorded_at(), at + absl::Seconds(1));
  e.mutable_source()->set_system("COSMIC^SE2321000131");
  e.mutable_source()->set_organisation_hsa_id(kHospitalHsaId);
  e.mutable_source()->mutable_author()->set_hsa_id(kDoctorHsaId);
  e.mutable_source()->mutable_author()->set_name("Doktor Dahl");
  e.mutable_data_owner()->set_kind(care::v1::DATA_OWNER_KIND_REGION);
  e.mutable_data_owner()->set_organisation_hsa_id(kRegionHsaId);
  e.set_correlation_id(absl::StrCat(Sv(patient_id), "-flow"));
  e.set_source_message_id(absl::StrCat("MSG", seq));
  return e;
}

std::string EventType(const CareEvent& event) {
  const google::protobuf::FieldDescriptor* field =
      CareEvent::descriptor()->FindFieldByNumber(static_cast<int>(event.payload_case()));
  if (field == nullptr) return "carehub.care.v1.CareEvent";
  return field->message_type()->full_name();
}

std::vector<CareEvent> MartaScenario(std::string_view pid, absl::Time admitted) {
  Scenario s{.p = std::string(pid), .admitted = admitted};
  AddEnrolment(s);
  AddContactAndGoals(s);
  AddActivities(s);
  AddAdmission(s);
  AddDischarge(s);
  AddAtHome(s);
  return std::move(s.events);
}

}  // namespace carehub::fhir::testing
