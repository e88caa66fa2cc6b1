#include "carehub/hl7v2/timestamp.h"

#include "gtest/gtest.h"

namespace carehub::hl7v2 {
namespace {

absl::TimeZone Stockholm() {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &tz));
  return tz;
}

absl::Time Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

TEST(TimestampTest, WithOffsetIsExact) {
  EXPECT_EQ(*ParseHl7Timestamp("202611252330+0100", Stockholm()), Utc(2026, 11, 25, 22, 30));
  EXPECT_EQ(*ParseHl7Timestamp("20260701120000-0500", Stockholm()), Utc(2026, 7, 1, 17, 0));
}

TEST(TimestampTest, WithoutOffsetIsFacilityLocalTimeAcrossDst) {
  // Winter: UTC+1. Summer: UTC+2.
  EXPECT_EQ(*ParseHl7Timestamp("20260115080000", Stockholm()), Utc(2026, 1, 15, 7, 0));
  EXPECT_EQ(*ParseHl7Timestamp("20260715080000", Stockholm()), Utc(2026, 7, 15, 6, 0));
  // A night across the autumn change (25 October 2026, 03:00 CEST -> 02:00 CET) lasts 9 hours
  // from 22:00 to 06:00 local.
  absl::Time in = *ParseHl7Timestamp("202610242200", Stockholm());
  absl::Time out = *ParseHl7Timestamp("202610250600", Stockholm());
  EXPECT_EQ(out - in, absl::Hours(9));
}

TEST(TimestampTest, PrecisionAndFractions) {
  EXPECT_EQ(*ParseHl7Timestamp("2026", absl::UTCTimeZone()), Utc(2026, 1, 1, 0, 0));
  EXPECT_EQ(*ParseHl7Timestamp("20261125", absl::UTCTimeZone()), Utc(2026, 11, 25, 0, 0));
  EXPECT_EQ(*ParseHl7Timestamp("20261125101010.25+0000", absl::UTCTimeZone()),
            Utc(2026, 11, 25, 10, 10, 10) + absl::Milliseconds(250));
}

TEST(TimestampTest, Malformed) {
  for (const char* bad : {"", "20", "2026113", "20261325", "20261125x", "20261125+01",
                          "20261125250000", "2026-11-25", "20261125101010.12345"}) {
    EXPECT_FALSE(ParseHl7Timestamp(bad, Stockholm()).ok()) << bad;
  }
}

}  // namespace
}  // namespace carehub::hl7v2
