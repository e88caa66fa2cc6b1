// The deadlines of Lag (2017:612) om samverkan vid utskrivning från sluten hälso- och sjukvård,
// and the Swedish calendar they are counted in. Pure functions of their inputs: no clock, no I/O
// after DeadlineCalendar::Create() has loaded the time zone.
//
//   ASSIGN_OR_RETURN(DeadlineCalendar calendar, DeadlineCalendar::Create());
//   absl::Time due = calendar.AdmissionNoticeDue(admitted_at, assessed_at);
//   absl::Time sip = calendar.SipInvitationDue(ready_at);
//
// All day arithmetic is in Europe/Stockholm local time (the system tz database, Debian tzdata),
// so a day across the DST change has 23 or 25 hours and "the same day" means the local date.
//
// Assumptions, written down because the law leaves them to interpretation:
//   - L1 admission notice: 24 elapsed hours (not local clock hours) from the admission, or from the
//     physician's assessment of post-discharge needs if that is later (4 kap 1 §).
//   - L5 SIP invitation "inom tre dagar" (5 kap 1 §): calendar days, the law's default; counting
//     starts the day after the ready-for-discharge notice (Swedish practice for "within N days"),
//     so the deadline is the end of the third local day after the notice's local date. Lag
//     (1930:173) om beräkning av lagstadgad tid moves a last day that is a Saturday, Sunday, public
//     holiday, midsommarafton, julafton or nyårsafton to the next working day; regional agreements
//     differ on whether it applies here, so it is an option (SipPolicy), off by default.
//   - L6 discharge information: before the end of the local date of the discharge.
//   - L3 fast vårdkontakt: before the discharge itself (checked at discharge, no time arithmetic).
//   - L7 payment responsibility: per regional agreement (PaymentAgreement), versioned.
//
// Thread-safe: a DeadlineCalendar is immutable.
#ifndef CAREHUB_CARE_DEADLINES_H_
#define CAREHUB_CARE_DEADLINES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace carehub::care {

// Easter Sunday of a Gregorian year (anonymous Gregorian algorithm).
absl::CivilDay EasterSunday(int year);

// Allmänna helgdagar (Lag (1989:253)): nyårsdagen, trettondedag jul, långfredagen, påskdagen,
// annandag påsk, första maj, Kristi himmelfärdsdag, pingstdagen, nationaldagen, midsommardagen,
// alla helgons dag, juldagen, annandag jul. Sundays are not listed here.
bool IsSwedishPublicHoliday(absl::CivilDay day);

// A working day (arbetsdag / vardag in Lag (1930:173)): Monday to Friday, not a public holiday,
// and not midsommarafton, julafton or nyårsafton, which that law treats like holidays.
bool IsSwedishWorkingDay(absl::CivilDay day);

enum class DayType { kCalendar, kWorking };

// One version of a regional agreement (överenskommelse) on payment responsibility (L7).
struct PaymentAgreement {
  std::string agreement_id;  // e.g. "region-vastmanland-betalningsansvar"
  std::string version;       // e.g. "2024-1"
  // The version applies to ready-for-discharge notices from this instant on.
  absl::Time valid_from = absl::InfinitePast();
  // The municipality pays from the end of the N-th counted day after the notice.
  int days = 3;
  DayType day_type = DayType::kCalendar;
  // A notice at or after this local hour counts as received the next day (0..24; 24 = never).
  int cut_off_hour = 24;
  // Per started day, in öre (SEK / 100).
  int64_t daily_rate_ore = 0;
};

struct SipPolicy {
  int days = 3;
  // Apply Lag (1930:173): a last day that is not a working day moves to the next working day.
  bool extend_to_working_day = false;
};

class DeadlineCalendar {
 public:
  // Loads Europe/Stockholm from the system tz database. Internal if it cannot be loaded.
  // `agreements` may be empty (no payment-responsibility deadlines); InvalidArgument if an
  // agreement has an empty id or version, days < 1, or a cut-off hour outside 0..24.
  static absl::StatusOr<DeadlineCalendar> Create(std::vector<PaymentAgreement> agreements = {},
                                                 SipPolicy sip = {});

  // L1: 24 h after the later of the admission and the needs assessment.
  absl::Time AdmissionNoticeDue(absl::Time admitted_at, absl::Time assessed_at) const;
  // L5: end (exclusive: the next local midnight) of the last counted day.
  absl::Time SipInvitationDue(absl::Time ready_at) const;
  // L6: the next local midnight after the discharge.
  absl::Time DischargeInformationDue(absl::Time discharged_at) const;

  // L7: the agreement version in force for a notice at `ready_at`; nullptr if none.
  const PaymentAgreement* AgreementAt(absl::Time ready_at) const;
  // L7: when payment responsibility starts under `agreement` for a notice at `ready_at`.
  absl::Time PaymentResponsibilityStart(absl::Time ready_at,
                                        const PaymentAgreement& agreement) const;
  // L7: what the municipality owes for a patient still in hospital at `until`: every local day
  // started since payment responsibility started, at the daily rate. 0 before the start.
  int64_t PaymentOwedOre(absl::Time ready_at, absl::Time until,
                         const PaymentAgreement& agreement) const;

  // The local date and the instant of a local date's midnight (the earlier one if repeated).
  absl::CivilDay LocalDay(absl::Time t) const;
  absl::Time StartOfDay(absl::CivilDay day) const;
  const absl::TimeZone& zone() const { return zone_; }

 private:
  DeadlineCalendar(absl::TimeZone zone, std::vector<PaymentAgreement> agreements, SipPolicy sip)
      : zone_(zone), agreements_(std::move(agreements)), sip_(sip) {}

  absl::TimeZone zone_;
  std::vector<PaymentAgreement> agreements_;  // sorted by valid_from
  SipPolicy sip_;
};

}  // namespace carehub::care

#endif  // CAREHUB_CARE_DEADLINES_H_
