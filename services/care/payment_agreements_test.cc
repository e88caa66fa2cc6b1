#include "carehub/care/payment_agreements.h"

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace carehub::care {
namespace {

TEST(PaymentAgreementsTest, ParsesVersionsInLocalTime) {
  absl::StatusOr<std::vector<PaymentAgreement>> agreements = ParsePaymentAgreements(
      "# id  version  valid_from  days  day_type  cut_off  rate\n"
      "region-test   2024-1   2024-01-01  3  calendar  12  9135.00\n"
      "\n"
      "region-test   2026-1   2026-03-01  2  working   24  9600.5  # from March\n");
  ASSERT_TRUE(agreements.ok()) << agreements.status();
  ASSERT_EQ(agreements->size(), 2u);
  absl::TimeZone zone;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &zone));
  EXPECT_EQ((*agreements)[0].valid_from, absl::FromCivil(absl::CivilDay(2024, 1, 1), zone));
  EXPECT_EQ((*agreements)[0].days, 3);
  EXPECT_EQ((*agreements)[0].day_type, DayType::kCalendar);
  EXPECT_EQ((*agreements)[0].cut_off_hour, 12);
  EXPECT_EQ((*agreements)[0].daily_rate_ore, 913500);
  EXPECT_EQ((*agreements)[1].version, "2026-1");
  EXPECT_EQ((*agreements)[1].day_type, DayType::kWorking);
  EXPECT_EQ((*agreements)[1].daily_rate_ore, 960050);
}

TEST(PaymentAgreementsTest, ErrorsNameLineAndField) {
  absl::Status status = ParsePaymentAgreements("a 1 2024-01-01 3 weekly 12 100\n").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("line 1: day_type"), absl::string_view::npos) << status;
  status = ParsePaymentAgreements("\na 1 2024-13-01 3 calendar 12 100\n").status();
  EXPECT_NE(status.message().find("line 2: valid_from"), absl::string_view::npos) << status;
  status = ParsePaymentAgreements("a 1 2024-01-01 3 calendar 25 100\n").status();
  EXPECT_NE(status.message().find("cut_off"), absl::string_view::npos) << status;
  status = ParsePaymentAgreements("a 1 2024-01-01 3 calendar 12 1.234\n").status();
  EXPECT_NE(status.message().find("daily_rate_sek"), absl::string_view::npos) << status;
  status = ParsePaymentAgreements("a 1 2024-01-01 3 calendar 12\n").status();
  EXPECT_NE(status.message().find("expected 7 fields"), absl::string_view::npos) << status;
  EXPECT_EQ(LoadPaymentAgreements("/nonexistent/agreements.txt").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace carehub::care
