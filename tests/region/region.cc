#include "tests/region/region.h"

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "carehub/base/strings.h"

namespace carehub::region {
namespace {

namespace v1 = ::carehub::care::v1;

thread_local absl::Time thread_now = absl::InfinitePast();

// Organisations of the region (HSA-ids in the test range of the region and the municipality).
constexpr char kVardcentral[] = "SE2321000131-E000000000001";
constexpr char kHospital[] = "SE2321000131-E000000000010";
constexpr char kKommunHsl[] = "SE2120000829-E000000000002";
constexpr char kKommunSol[] = "SE2120000829-E000000000003";
constexpr char kMobileTeam[] = "SE2321000131-E000000000009";

constexpr const char* kGivenFemale[] = {"Märta", "Åsa",   "Ingrid", "Karin", "Birgitta",
                                        "Elsa",  "Signe", "Britt",  "Gun",   "Tolvan"};
constexpr const char* kGivenMale[] = {"Arne", "Östen", "Karl", "Erik", "Gösta",
                                      "Åke",  "Nils",  "Sven", "Olle", "Bengt"};
constexpr const char* kFamily[] = {"Tolvansson", "Andersson", "Öberg",     "Ängström",
                                   "Karlsson",   "Nilsson",   "Lindqvist", "Åkesson",
                                   "Berg",       "Sjöberg",   "Holm",      "Ekström"};

char LuhnDigit(const std::string& nine) {
  int sum = 0;
  for (size_t i = 0; i < nine.size(); ++i) {
    int d = (nine[i] - '0') * (i % 2 == 0 ? 2 : 1);
    sum += d > 9 ? d - 9 : d;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

absl::TimeZone Stockholm() {
  absl::TimeZone zone;
  // The system tz database is a dependency of the care service too; UTC only if it is missing.
  if (!absl::LoadTimeZone("Europe/Stockholm", &zone)) zone = absl::UTCTimeZone();
  return zone;
}

google::protobuf::Timestamp Proto(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

// Builds one patient's journey: each Add() is a command at a time.
class JourneyBuilder {
 public:
  JourneyBuilder(int index, std::string personnummer) : index_(index), pnr_(std::move(personnummer)) {}

  v1::CommandRequest& Add(absl::Time at, std::string_view name, std::string_view system,
                          v1::DataOwnerKind owner, std::string_view owner_hsa) {
    JourneyStep& step = steps_.emplace_back();
    step.at = at;
    v1::CommandRequest& c = step.command;
    c.set_command_id(absl::StrCat("synth-", index_, "-", steps_.size(), "-", Sv(name)));
    c.mutable_patient()->mutable_identifier()->set_kind(v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
    c.mutable_patient()->mutable_identifier()->set_value(pnr_);
    c.mutable_source()->set_system(std::string(system));
    c.mutable_source()->set_organisation_hsa_id(std::string(owner_hsa));
    c.mutable_data_owner()->set_kind(owner);
    c.mutable_data_owner()->set_organisation_hsa_id(std::string(owner_hsa));
    *c.mutable_occurred_at() = Proto(at);
    c.set_source_message_id(absl::StrCat("synth-msg-", index_, "-", steps_.size()));
    return c;
  }
  v1::CommandRequest& Primary(absl::Time at, std::string_view name) {
    return Add(at, name, "vardcentral-journal", v1::DATA_OWNER_KIND_REGION, kVardcentral);
  }
  v1::CommandRequest& Hospital(absl::Time at, std::string_view name) {
    return Add(at, name, "cosmic-test", v1::DATA_OWNER_KIND_REGION, kHospital);
  }
  v1::CommandRequest& Municipal(absl::Time at, std::string_view name, bool hsl = true) {
    return Add(at, name, "lifecare-test",
               hsl ? v1::DATA_OWNER_KIND_MUNICIPALITY_HSL : v1::DATA_OWNER_KIND_MUNICIPALITY_SOL,
               hsl ? kKommunHsl : kKommunSol);
  }

  std::vector<JourneyStep> Take() { return std::move(steps_); }

 private:
  const int index_;
  const std::string pnr_;
  std::vector<JourneyStep> steps_;
};

v1::Party PartyOf(v1::PartyRole role, const char* hsa) {
  v1::Party party;
  party.set_role(role);
  party.mutable_organisation()->set_hsa_id(hsa);
  return party;
}

}  // namespace

absl::Time ThreadClock::Now() const {
  return thread_now == absl::InfinitePast() ? fallback_ : thread_now;
}

void ThreadClock::SetForThisThread(absl::Time t) { thread_now = t; }

std::string PatientPersonnummer(int index) {
  // 1920-01-01 + index / 10 days, serial 980 + index % 10: 113,150 distinct numbers up to 2010.
  const absl::CivilDay day = absl::CivilDay(1920, 1, 1) + index / 10;
  const std::string date = absl::StrFormat("%04d%02d%02d", day.year(), day.month(), day.day());
  const std::string serial = absl::StrCat(980 + index % 10);
  return absl::StrCat(date, "-", serial, std::string(1, LuhnDigit(date.substr(2) + serial)));
}

std::vector<JourneyStep> Journey(int index, const RegionOptions& options) {
  std::mt19937_64 rng(options.seed * 1000003 + static_cast<uint64_t>(index));
  auto chance = [&rng](int percent) { return static_cast<int>(rng() % 100) < percent; };
  const std::string pnr = PatientPersonnummer(index);
  JourneyBuilder j(index, pnr);

  // The journey starts on a weekday morning somewhere in the span.
  const absl::TimeZone zone = Stockholm();
  const int64_t span_minutes = std::max<int64_t>(1, absl::ToInt64Minutes(options.span));
  absl::Time t = options.start + absl::Minutes(static_cast<int64_t>(rng() % span_minutes));
  const absl::CivilDay first_day = absl::ToCivilDay(t, zone);
  t = absl::FromCivil(absl::CivilSecond(first_day.year(), first_day.month(), first_day.day(), 8,
                                        static_cast<int>(rng() % 60), 0),
                      zone);
  auto later = [&t](absl::Duration d) { return t += d; };

  // Enrolment, demographics and the SIP consent.
  j.Primary(t, "enrol").mutable_patient_enrolled()->set_target_group(
      chance(70) ? v1::TARGET_GROUP_MOST_ILL : v1::TARGET_GROUP_PERIODICALLY_FAILING);
  {
    v1::DemographicsUpdated* d = j.Primary(later(absl::Minutes(2)), "demographics")
                                     .mutable_demographics_updated();
    // The personnummer's second-to-last digit is odd for men, even for women.
    const bool male = (pnr[pnr.size() - 2] - '0') % 2 == 1;
    d->set_family_name(kFamily[rng() % std::size(kFamily)]);
    d->add_given_names(male ? kGivenMale[rng() % std::size(kGivenMale)]
                            : kGivenFemale[rng() % std::size(kGivenFemale)]);
    d->add_address_lines(absl::StrCat("Testgatan ", 1 + rng() % 120));
    d->set_postal_code(absl::StrCat(72210 + rng() % 80));
    d->set_city("Västerås");
    d->set_municipality_code("1980");
    d->set_preferred_language(chance(90) ? "sv" : "fi");
  }
  {
    v1::ConsentGiven* c = j.Primary(later(absl::Minutes(3)), "consent").mutable_consent_given();
    c->set_consent_id(absl::StrCat("synth-consent-", index));
    c->set_scope(v1::CONSENT_SCOPE_SIP);
    c->set_given_by(chance(85) ? v1::CONSENT_GRANTOR_PATIENT : v1::CONSENT_GRANTOR_LEGAL_REPRESENTATIVE);
    for (const char* hsa : {kVardcentral, kHospital, kKommunHsl, kKommunSol}) {
      c->add_receiving_organisations()->set_hsa_id(hsa);
    }
  }
  {
    v1::CareTeamMember* m = j.Primary(later(absl::Minutes(5)), "contact")
                                .mutable_primary_contact_assigned()
                                ->mutable_contact();
    m->set_kind(v1::MEMBER_KIND_PRACTITIONER);
    m->set_hsa_id(absl::StrFormat("SE2321000131-P%09d", 100 + index % 400));
    m->set_name("Distriktssköterska");
    m->mutable_organisation()->set_hsa_id(kVardcentral);
  }
  {
    v1::CareTeamMember* m = j.Municipal(later(absl::Minutes(10)), "nurse")
                                .mutable_care_team_member_added()
                                ->mutable_member();
    m->set_kind(v1::MEMBER_KIND_PRACTITIONER);
    m->set_hsa_id(absl::StrFormat("SE2120000829-P%09d", 500 + index % 300));
    m->mutable_role()->set_system("http://snomed.info/sct");
    m->mutable_role()->set_code("224535009");
    m->mutable_role()->set_display("Registered nurse");
    m->mutable_organisation()->set_hsa_id(kKommunHsl);
  }
  const bool has_relative = chance(60);
  if (has_relative) {
    v1::CareTeamMember* m = j.Primary(later(absl::Minutes(2)), "relative")
                                .mutable_care_team_member_added()
                                ->mutable_member();
    m->set_kind(v1::MEMBER_KIND_RELATED_PERSON);
    m->set_name("Anhörig");
    m->mutable_role()->set_display(chance(50) ? "Dotter" : "Son");
  }

  // Goals, activities and the agreed plan.
  const std::string goal_home = absl::StrCat("synth-goal-home-", index);
  const std::string goal_days = absl::StrCat("synth-goal-days-", index);
  {
    v1::GoalSet* g = j.Primary(later(absl::Minutes(5)), "goal-home").mutable_goal_set();
    g->set_goal_id(goal_home);
    g->set_description("Bo kvar hemma");
  }
  {
    v1::GoalSet* g = j.Primary(later(absl::Minutes(1)), "goal-days").mutable_goal_set();
    g->set_goal_id(goal_days);
    g->set_description("Färre vårddagar på sjukhus");
    g->set_target("< 30 vårddagar per år");
    *g->mutable_due() = Proto(t + absl::Hours(24 * 365));
  }
  struct Planned {
    const char* name;
    const char* description;
    const char* performer;
    bool in_home;
  };
  const Planned kPlanned[] = {
      {"medication-review", "Läkemedelsgenomgång", kVardcentral, false},
      {"home-nursing", "Hemsjukvård en gång i veckan", kKommunHsl, true},
      {"home-help", "Hemtjänst morgon och kväll", kKommunSol, true},
      {"self-monitoring", "Egenmätning av syremättnad", kMobileTeam, true},
  };
  std::vector<std::string> activities;
  for (const Planned& p : kPlanned) {
    if (std::string_view(p.name) == "self-monitoring" && !chance(50)) continue;
    const std::string id = absl::StrCat("synth-", p.name, "-", index);
    v1::ActivityPlanned* a =
        j.Primary(later(absl::Minutes(3)), absl::StrCat("plan-", p.name)).mutable_activity_planned();
    a->set_activity_id(id);
    a->set_description(p.description);
    a->mutable_performer()->set_hsa_id(p.performer);
    a->set_in_home(p.in_home);
    a->add_goal_ids(goal_home);
    *a->mutable_schedule()->mutable_start() = Proto(t + absl::Hours(24));
    activities.push_back(id);
  }
  {
    v1::CarePlanAgreed* a = j.Primary(later(absl::Hours(2)), "agree").mutable_care_plan_agreed();
    a->set_is_sip(true);
    a->set_title("Samordnad individuell plan");
    *a->mutable_overall_responsibility() = PartyOf(v1::PARTY_ROLE_PRIMARY_CARE, kVardcentral);
    *a->add_agreed_by() = PartyOf(v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHsl);
    *a->add_agreed_by() = PartyOf(v1::PARTY_ROLE_MUNICIPALITY_SOL, kKommunSol);
  }
  for (const std::string& id : activities) {
    j.Primary(later(absl::Minutes(10)), "start").mutable_activity_started()->set_activity_id(id);
  }
  const bool monitors = activities.back().starts_with("synth-self-monitoring");
  auto observe = [&](int n) {
    if (!monitors) return;
    v1::SelfMonitoringObservationRecorded* o =
        j.Municipal(later(absl::Hours(20 + rng() % 8)), "spo2")
            .mutable_self_monitoring_observation_recorded();
    o->set_observation_id(absl::StrCat("synth-obs-", index, "-", n));
    o->mutable_code()->set_system("http://loinc.org");
    o->mutable_code()->set_code("59408-5");
    o->mutable_code()->set_display("Oxygen saturation in Arterial blood by Pulse oximetry");
    o->set_value(static_cast<double>(88 + rng() % 11));
    o->set_unit("%");
    *o->mutable_measured_at() = Proto(t);
    o->set_activity_id(activities.back());
  };
  observe(1);
  observe(2);

  // Most patients have a hospital stay with the discharge workflow.
  if (chance(80)) {
    const std::string visit = absl::StrCat("VN", 100000 + index);
    t = later(absl::Hours(24 * (3 + rng() % 20)) + absl::Minutes(rng() % 600));
    {
      v1::InpatientAdmitted* a = j.Hospital(t, "A01").mutable_inpatient_admitted();
      a->mutable_stay()->set_visit_number(visit);
      a->mutable_stay()->set_patient_class(v1::PATIENT_CLASS_INPATIENT);
      a->mutable_location()->set_unit_name("Medicinavdelning 3");
      a->mutable_location()->set_point_of_care("MED3");
      a->mutable_location()->set_bed(absl::StrCat(1 + rng() % 30));
      *a->mutable_admitted_at() = Proto(t);
      a->set_admission_type("E");
    }
    j.Hospital(later(absl::Hours(6)), "assessed").mutable_post_discharge_needs_assessed();
    {
      v1::AdmissionNoticeSent* n =
          j.Hospital(later(absl::Hours(chance(90) ? 2 : 30)), "notice").mutable_admission_notice_sent();
      n->set_notice_id(absl::StrCat("synth-notice-", index));
      *n->add_receivers() = PartyOf(v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHsl);
    }
    if (chance(40)) {
      j.Hospital(later(absl::Hours(10)), "A02")
          .mutable_inpatient_transferred()
          ->mutable_to_location()
          ->set_point_of_care("GER5");
    }
    j.Hospital(later(absl::Hours(24 * (1 + rng() % 4))), "ready").mutable_discharge_ready_declared();
    const bool sip_invited = chance(85);
    if (sip_invited) {
      v1::SipMeetingInvited* s =
          j.Primary(later(absl::Hours(4 + rng() % 40)), "sip-invite").mutable_sip_meeting_invited();
      s->set_meeting_id(absl::StrCat("synth-sip-", index));
      *s->add_invitees() = PartyOf(v1::PARTY_ROLE_MUNICIPALITY_HSL, kKommunHsl);
      *s->add_invitees() = PartyOf(v1::PARTY_ROLE_PATIENT, "");
      s->mutable_invitees()->rbegin()->clear_organisation();
      *s->mutable_proposed_start() = Proto(t + absl::Hours(48));
      *s->mutable_proposed_end() = Proto(t + absl::Hours(49));
      s->set_mode(v1::MEETING_MODE_VIDEO);
      s->set_consent_id(absl::StrCat("synth-consent-", index));
    }
    {
      v1::InpatientDischarged* d =
          j.Hospital(later(absl::Hours(24 + rng() % 48)), "A03").mutable_inpatient_discharged();
      d->mutable_stay()->set_visit_number(visit);
      *d->mutable_discharged_at() = Proto(t);
    }
    j.Hospital(later(absl::Hours(2)), "info")
        .mutable_discharge_information_sent()
        ->mutable_stay()
        ->set_visit_number(visit);
    if (sip_invited) {
      v1::SipMeetingHeld* h = j.Primary(later(absl::Hours(24)), "sip-held").mutable_sip_meeting_held();
      h->set_meeting_id(absl::StrCat("synth-sip-", index));
      *h->mutable_started_at() = Proto(t);
      *h->mutable_ended_at() = Proto(t + absl::Minutes(45));
      h->set_patient_participated(chance(80));
    }
  }

  // Back home.
  observe(3);
  if (monitors && chance(30)) {
    v1::HomeVisitPerformed* v =
        j.Municipal(later(absl::Hours(3)), "visit").mutable_home_visit_performed();
    v->set_visit_id(absl::StrCat("synth-visit-", index));
    v->set_activity_id(absl::StrCat("synth-home-nursing-", index));
    v->set_reason(v1::HOME_VISIT_REASON_PLANNED);
    *v->mutable_started_at() = Proto(t);
    *v->mutable_ended_at() = Proto(t + absl::Minutes(40));
    v->mutable_performing_organisation()->set_hsa_id(kKommunHsl);
    v->set_outcome("Enligt plan");
  }
  {
    v1::AgreedTimeBooked* b =
        j.Primary(later(absl::Hours(24)), "agreed-time").mutable_agreed_time_booked();
    b->set_appointment_id(absl::StrCat("synth-appt-", index));
    b->set_activity_id(absl::StrCat("synth-medication-review-", index));
    *b->mutable_start() = Proto(t + absl::Hours(24 * 14));
    *b->mutable_end() = Proto(t + absl::Hours(24 * 14) + absl::Minutes(30));
    b->mutable_performer()->set_hsa_id(kVardcentral);
    b->set_location("Vårdcentralen");
  }
  j.Primary(later(absl::Hours(2)), "revise")
      .mutable_care_plan_revised()
      ->set_summary("Reviderad efter uppföljning");
  if (chance(30)) {
    j.Primary(later(absl::Hours(24)), "review-done")
        .mutable_activity_completed()
        ->set_activity_id(absl::StrCat("synth-medication-review-", index));
  }
  if (has_relative && chance(20)) {
    v1::CareTeamMemberRemoved* r =
        j.Primary(later(absl::Hours(24)), "relative-left").mutable_care_team_member_removed();
    r->mutable_member()->set_kind(v1::MEMBER_KIND_RELATED_PERSON);
    r->mutable_member()->set_name("Anhörig");
    r->set_reason("Flyttat");
  }
  return j.Take();
}

absl::StatusOr<RegionStats> GenerateRegion(care::CareCommands& care, const RegionOptions& options) {
  const absl::Time begin = absl::Now();
  std::atomic<int> next{options.first_patient};
  std::atomic<int> done{0};
  std::atomic<uint64_t> commands{0};
  std::atomic<uint64_t> events{0};
  absl::Mutex mu;
  absl::Status first_error;
  std::atomic<bool> failed{false};
  const int end = options.first_patient + options.patients;

  auto worker = [&] {
    for (int i = next++; i < end && !failed.load(); i = next++) {
      std::string patient_id;
      for (JourneyStep& step : Journey(i, options)) {
        ThreadClock::SetForThisThread(step.at);
        if (!patient_id.empty()) step.command.mutable_patient()->set_patient_id(patient_id);
        absl::StatusOr<care::v1::CommandResponse> response = care.Execute(step.command);
        if (!response.ok()) {
          absl::MutexLock lock(&mu);
          if (first_error.ok()) {
            first_error = absl::Status(
                response.status().code(),
                absl::StrCat("patient ", i, " command ", step.command.command_id(), ": ",
                             response.status().message()));
          }
          failed = true;
          return;
        }
        patient_id = response->patient_id();
        ++commands;
        events += static_cast<uint64_t>(response->event_ids_size());
      }
      const int finished = ++done;
      if (options.on_patient) options.on_patient(finished);
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < std::max(1, options.threads); ++i) threads.emplace_back(worker);
  for (std::thread& thread : threads) thread.join();
  if (!first_error.ok()) return first_error;

  if (options.check_deadlines) {
    const absl::Time now = options.start + options.span + absl::Hours(24 * 60);
    ThreadClock::SetForThisThread(now);
    absl::StatusOr<care::v1::CheckDeadlinesResponse> breaches = care.CheckDeadlines(now);
    if (!breaches.ok()) return breaches.status();
    events += static_cast<uint64_t>(breaches->event_ids_size());
  }
  return RegionStats{.patients = static_cast<uint64_t>(done.load()),
                     .commands = commands.load(),
                     .events = events.load(),
                     .elapsed = absl::Now() - begin};
}

}  // namespace carehub::region
