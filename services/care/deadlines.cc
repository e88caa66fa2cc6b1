#include "carehub/care/deadlines.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace carehub::care {
namespace {

constexpr char kStockholm[] = "Europe/Stockholm";

// Midsommardagen is the Saturday in 20..26 June, alla helgons dag the Saturday in 31 Oct..6 Nov:
// the first Saturday on or after `first`.
absl::CivilDay FirstSaturdayFrom(absl::CivilDay first) {
  absl::CivilDay day = first;
  while (absl::GetWeekday(day) != absl::Weekday::saturday) ++day;
  return day;
}

bool IsHolidayEve(absl::CivilDay day) {
  if (day.month() == 12 && (day.day() == 24 || day.day() == 31)) return true;
  // Midsommarafton: the Friday before midsommardagen.
  return day == FirstSaturdayFrom(absl::CivilDay(day.year(), 6, 20)) - 1;
}

absl::CivilDay NextWorkingDayFrom(absl::CivilDay day) {
  while (!IsSwedishWorkingDay(day)) ++day;
  return day;
}

// The day `count` counted days after `start` (start itself is not counted).
absl::CivilDay CountDays(absl::CivilDay start, int count, DayType type) {
  if (type == DayType::kCalendar) return start + count;
  absl::CivilDay day = start;
  for (int counted = 0; counted < count;) {
    ++day;
    if (IsSwedishWorkingDay(day)) ++counted;
  }
  return day;
}

}  // namespace

absl::CivilDay EasterSunday(int year) {
  const int a = year % 19;
  const int b = year / 100;
  const int c = year % 100;
  const int d = b / 4;
  const int e = b % 4;
  const int f = (b + 8) / 25;
  const int g = (b - f + 1) / 3;
  const int h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4;
  const int k = c % 4;
  const int l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int month = (h + l - 7 * m + 114) / 31;
  const int day = (h + l - 7 * m + 114) % 31 + 1;
  return absl::CivilDay(year, month, day);
}

bool IsSwedishPublicHoliday(absl::CivilDay day) {
  const int month = day.month();
  const int dom = day.day();
  if ((month == 1 && (dom == 1 || dom == 6)) || (month == 5 && dom == 1) ||
      (month == 6 && dom == 6) || (month == 12 && (dom == 25 || dom == 26))) {
    return true;
  }
  const absl::CivilDay easter = EasterSunday(static_cast<int>(day.year()));
  const absl::civil_diff_t from_easter = day - easter;
  // Långfredagen, påskdagen, annandag påsk, Kristi himmelfärdsdag, pingstdagen.
  if (from_easter == -2 || from_easter == 0 || from_easter == 1 || from_easter == 39 ||
      from_easter == 49) {
    return true;
  }
  return day == FirstSaturdayFrom(absl::CivilDay(day.year(), 6, 20)) ||
         day == FirstSaturdayFrom(absl::CivilDay(day.year(), 10, 31));
}

bool IsSwedishWorkingDay(absl::CivilDay day) {
  const absl::Weekday weekday = absl::GetWeekday(day);
  if (weekday == absl::Weekday::saturday || weekday == absl::Weekday::sunday) return false;
  return !IsSwedishPublicHoliday(day) && !IsHolidayEve(day);
}

absl::StatusOr<DeadlineCalendar> DeadlineCalendar::Create(std::vector<PaymentAgreement> agreements,
                                                          SipPolicy sip) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(kStockholm, &zone)) {
    return absl::InternalError(
        absl::StrCat("cannot load time zone ", kStockholm, " (is tzdata installed?)"));
  }
  if (sip.days < 1) return absl::InvalidArgumentError("sip.days: must be at least 1");
  for (const PaymentAgreement& agreement : agreements) {
    if (agreement.agreement_id.empty() || agreement.version.empty()) {
      return absl::InvalidArgumentError("payment agreement: agreement_id and version are required");
    }
    if (agreement.days < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("payment agreement ", agreement.agreement_id, " ", agreement.version,
                       ": days must be at least 1"));
    }
    if (agreement.cut_off_hour < 0 || agreement.cut_off_hour > 24) {
      return absl::InvalidArgumentError(
          absl::StrCat("payment agreement ", agreement.agreement_id, " ", agreement.version,
                       ": cut_off_hour must be in 0..24"));
    }
  }
  std::stable_sort(agreements.begin(), agreements.end(),
                   [](const PaymentAgreement& a, const PaymentAgreement& b) {
                     return a.valid_from < b.valid_from;
                   });
  return DeadlineCalendar(zone, std::move(agreements), sip);
}

absl::CivilDay DeadlineCalendar::LocalDay(absl::Time t) const {
  return absl::ToCivilDay(t, zone_);
}

absl::Time DeadlineCalendar::StartOfDay(absl::CivilDay day) const {
  // Stockholm's transitions are at 02:00/03:00, so midnight always exists once; pre is exact.
  return zone_.At(absl::CivilSecond(day)).pre;
}

absl::Time DeadlineCalendar::AdmissionNoticeDue(absl::Time admitted_at,
                                                absl::Time assessed_at) const {
  return std::max(admitted_at, assessed_at) + absl::Hours(24);
}

absl::Time DeadlineCalendar::SipInvitationDue(absl::Time ready_at) const {
  absl::CivilDay last = LocalDay(ready_at) + sip_.days;
  if (sip_.extend_to_working_day) last = NextWorkingDayFrom(last);
  return StartOfDay(last + 1);
}

absl::Time DeadlineCalendar::DischargeInformationDue(absl::Time discharged_at) const {
  return StartOfDay(LocalDay(discharged_at) + 1);
}

const PaymentAgreement* DeadlineCalendar::AgreementAt(absl::Time ready_at) const {
  const PaymentAgreement* found = nullptr;
  for (const PaymentAgreement& agreement : agreements_) {
    if (agreement.valid_from <= ready_at) found = &agreement;
  }
  return found;
}

absl::Time DeadlineCalendar::PaymentResponsibilityStart(absl::Time ready_at,
                                                        const PaymentAgreement& agreement) const {
  const absl::CivilSecond local = absl::ToCivilSecond(ready_at, zone_);
  absl::CivilDay received = absl::CivilDay(local);
  if (local.hour() >= agreement.cut_off_hour) ++received;
  return StartOfDay(CountDays(received, agreement.days, agreement.day_type) + 1);
}

int64_t DeadlineCalendar::PaymentOwedOre(absl::Time ready_at, absl::Time until,
                                         const PaymentAgreement& agreement) const {
  const absl::Time start = PaymentResponsibilityStart(ready_at, agreement);
  if (until <= start) return 0;
  const absl::civil_diff_t days_started = LocalDay(until) - LocalDay(start) + 1;
  return days_started * agreement.daily_rate_ore;
}

}  // namespace carehub::care
