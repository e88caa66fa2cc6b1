#include "carehub/care/deadlines.h"

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace carehub::care {
namespace {

absl::TimeZone Stockholm() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &zone));
  return zone;
}

// A local Stockholm wall-clock time (unambiguous ones only).
absl::Time Local(int y, int mo, int d, int h, int mi = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), Stockholm());
}

DeadlineCalendar Calendar(std::vector<PaymentAgreement> agreements = {}, SipPolicy sip = {}) {
  absl::StatusOr<DeadlineCalendar> calendar = DeadlineCalendar::Create(std::move(agreements), sip);
  EXPECT_TRUE(calendar.ok()) << calendar.status();
  return *std::move(calendar);
}

TEST(EasterTest, KnownYears) {
  EXPECT_EQ(EasterSunday(2024), absl::CivilDay(2024, 3, 31));
  EXPECT_EQ(EasterSunday(2025), absl::CivilDay(2025, 4, 20));
  EXPECT_EQ(EasterSunday(2026), absl::CivilDay(2026, 4, 5));
  EXPECT_EQ(EasterSunday(2027), absl::CivilDay(2027, 3, 28));
  EXPECT_EQ(EasterSunday(2038), absl::CivilDay(2038, 4, 25));
}

TEST(HolidayTest, FixedAndMovableHolidays2026) {
  for (absl::CivilDay day : {absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 1, 6),
                             absl::CivilDay(2026, 4, 3),   // långfredagen
                             absl::CivilDay(2026, 4, 5),   // påskdagen
                             absl::CivilDay(2026, 4, 6),   // annandag påsk
                             absl::CivilDay(2026, 5, 1), absl::CivilDay(2026, 5, 14),  // himmelfärd
                             absl::CivilDay(2026, 5, 24),  // pingstdagen
                             absl::CivilDay(2026, 6, 6), absl::CivilDay(2026, 6, 20),  // midsommar
                             absl::CivilDay(2026, 10, 31),  // alla helgons dag
                             absl::CivilDay(2026, 12, 25), absl::CivilDay(2026, 12, 26)}) {
    EXPECT_TRUE(IsSwedishPublicHoliday(day)) << day;
    EXPECT_FALSE(IsSwedishWorkingDay(day)) << day;
  }
  EXPECT_FALSE(IsSwedishPublicHoliday(absl::CivilDay(2026, 4, 2)));  // skärtorsdagen
  EXPECT_TRUE(IsSwedishWorkingDay(absl::CivilDay(2026, 4, 2)));
  EXPECT_FALSE(IsSwedishPublicHoliday(absl::CivilDay(2026, 6, 19)));  // midsommarafton
  EXPECT_FALSE(IsSwedishWorkingDay(absl::CivilDay(2026, 6, 19)));
  EXPECT_FALSE(IsSwedishWorkingDay(absl::CivilDay(2026, 12, 24)));
  EXPECT_FALSE(IsSwedishWorkingDay(absl::CivilDay(2026, 11, 28)));  // a Saturday
  EXPECT_TRUE(IsSwedishWorkingDay(absl::CivilDay(2026, 11, 27)));
}

TEST(AdmissionNoticeTest, TwentyFourElapsedHoursAcrossSpringForward) {
  const DeadlineCalendar calendar = Calendar();
  // Admitted 22:00 on Saturday 28 March 2026; the clocks go 02:00 -> 03:00 that night, so 24 h
  // later is 23:00 local on Sunday.
  const absl::Time admitted = Local(2026, 3, 28, 22);
  EXPECT_EQ(calendar.AdmissionNoticeDue(admitted, admitted), Local(2026, 3, 29, 23));
  // A later needs assessment moves the due time.
  const absl::Time assessed = Local(2026, 3, 29, 10);
  EXPECT_EQ(calendar.AdmissionNoticeDue(admitted, assessed), Local(2026, 3, 30, 10));
}

TEST(AdmissionNoticeTest, AcrossFallBack) {
  const DeadlineCalendar calendar = Calendar();
  // 25 October 2026: 03:00 -> 02:00. 24 h after 12:00 Saturday is 11:00 Sunday local.
  EXPECT_EQ(calendar.AdmissionNoticeDue(Local(2026, 10, 24, 12), absl::InfinitePast()),
            Local(2026, 10, 25, 11));
}

TEST(SipInvitationTest, ThreeCalendarDaysEndOfLocalDay) {
  const DeadlineCalendar calendar = Calendar();
  // Declared Monday 23 Nov 2026 at 14:00: due by the end of Thursday.
  EXPECT_EQ(calendar.SipInvitationDue(Local(2026, 11, 23, 14)), Local(2026, 11, 27, 0));
  // 00:30 local on Tuesday is still Monday in UTC: the local date counts.
  EXPECT_EQ(calendar.SipInvitationDue(Local(2026, 11, 24, 0, 30)), Local(2026, 11, 28, 0));
  // Across the spring DST change the deadline is still local midnight.
  const absl::Time due = calendar.SipInvitationDue(Local(2026, 3, 27, 9));
  EXPECT_EQ(due, Local(2026, 3, 31, 0));
  EXPECT_EQ(due - Local(2026, 3, 27, 9), absl::Hours(86));  // one hour short of 87
}

TEST(SipInvitationTest, WorkingDayExtensionOverEaster) {
  const DeadlineCalendar calendar =
      Calendar({}, SipPolicy{.days = 3, .extend_to_working_day = true});
  // Declared Wednesday 1 April 2026: the third day is Saturday 4 April (Easter weekend); the
  // next working day is Tuesday 7 April, after annandag påsk.
  EXPECT_EQ(calendar.SipInvitationDue(Local(2026, 4, 1, 10)), Local(2026, 4, 8, 0));
  // Without the extension: end of Saturday.
  EXPECT_EQ(Calendar().SipInvitationDue(Local(2026, 4, 1, 10)), Local(2026, 4, 5, 0));
}

TEST(DischargeInformationTest, SameLocalDay) {
  const DeadlineCalendar calendar = Calendar();
  EXPECT_EQ(calendar.DischargeInformationDue(Local(2026, 11, 25, 15)), Local(2026, 11, 26, 0));
  // 00:30 local on 25 Oct 2026 (before fall-back): the local day has 25 hours.
  const absl::Time discharged = Local(2026, 10, 25, 0, 30);
  const absl::Time due = calendar.DischargeInformationDue(discharged);
  EXPECT_EQ(due, Local(2026, 10, 26, 0));
  EXPECT_EQ(due - discharged, absl::Hours(24) + absl::Minutes(30));
}

PaymentAgreement Agreement(int days, DayType type, int cut_off_hour) {
  return PaymentAgreement{.agreement_id = "test-agreement",
                          .version = "1",
                          .days = days,
                          .day_type = type,
                          .cut_off_hour = cut_off_hour,
                          .daily_rate_ore = 750000};
}

TEST(PaymentResponsibilityTest, CalendarDaysWithCutOff) {
  const DeadlineCalendar calendar = Calendar();
  const PaymentAgreement agreement = Agreement(3, DayType::kCalendar, 12);
  // Before the cut-off: counted from Monday; pays from Friday 00:00.
  EXPECT_EQ(calendar.PaymentResponsibilityStart(Local(2026, 11, 23, 11), agreement),
            Local(2026, 11, 27, 0));
  // After the cut-off: counted from Tuesday.
  EXPECT_EQ(calendar.PaymentResponsibilityStart(Local(2026, 11, 23, 13), agreement),
            Local(2026, 11, 28, 0));
}

TEST(PaymentResponsibilityTest, WorkingDaysSkipWeekendAndEaster) {
  const DeadlineCalendar calendar = Calendar();
  const PaymentAgreement agreement = Agreement(3, DayType::kWorking, 24);
  // Wednesday 1 April 2026: working days Thu 2, Tue 7, Wed 8 (Fri 3 - Mon 6 is Easter).
  EXPECT_EQ(calendar.PaymentResponsibilityStart(Local(2026, 4, 1, 10), agreement),
            Local(2026, 4, 9, 0));
  // Friday 27 Nov 2026: Mon 30, Tue 1, Wed 2 -> from Thursday 3 December.
  EXPECT_EQ(calendar.PaymentResponsibilityStart(Local(2026, 11, 27, 10), agreement),
            Local(2026, 12, 3, 0));
}

TEST(PaymentResponsibilityTest, OwedPerStartedDay) {
  const DeadlineCalendar calendar = Calendar();
  const PaymentAgreement agreement = Agreement(3, DayType::kCalendar, 24);
  const absl::Time ready = Local(2026, 11, 23, 11);
  EXPECT_EQ(calendar.PaymentOwedOre(ready, Local(2026, 11, 26, 23), agreement), 0);
  EXPECT_EQ(calendar.PaymentOwedOre(ready, Local(2026, 11, 27, 8), agreement), 750000);
  EXPECT_EQ(calendar.PaymentOwedOre(ready, Local(2026, 11, 29, 8), agreement), 3 * 750000);
}

TEST(PaymentResponsibilityTest, VersionedAgreements) {
  PaymentAgreement v1 = Agreement(3, DayType::kCalendar, 24);
  PaymentAgreement v2 = Agreement(2, DayType::kWorking, 12);
  v2.version = "2";
  v2.valid_from = Local(2027, 1, 1, 0);
  const DeadlineCalendar calendar = Calendar({v2, v1});
  ASSERT_NE(calendar.AgreementAt(Local(2026, 12, 31, 23)), nullptr);
  EXPECT_EQ(calendar.AgreementAt(Local(2026, 12, 31, 23))->version, "1");
  EXPECT_EQ(calendar.AgreementAt(Local(2027, 1, 1, 0))->version, "2");
}

TEST(DeadlineCalendarTest, RejectsBadAgreements) {
  PaymentAgreement bad = Agreement(0, DayType::kCalendar, 24);
  EXPECT_EQ(DeadlineCalendar::Create({bad}).status().code(), absl::StatusCode::kInvalidArgument);
  bad = Agreement(3, DayType::kCalendar, 25);
  EXPECT_EQ(DeadlineCalendar::Create({bad}).status().code(), absl::StatusCode::kInvalidArgument);
  bad.cut_off_hour = 12;
  bad.version.clear();
  EXPECT_EQ(DeadlineCalendar::Create({bad}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace carehub::care
