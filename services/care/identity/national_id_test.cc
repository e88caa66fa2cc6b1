#include "carehub/care/national_id.h"

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "gtest/gtest.h"

namespace carehub::care {
namespace {

// Skatteverket's recipe, written out here independently of the library: multiply the nine digits
// YYMMDDNNN alternately by 2 and 1, add the digits of the products, and subtract the last digit of
// the sum from 10; a result of 10 gives 0.
char CheckDigit(std::string_view yymmddnnn) {
  int sum = 0;
  for (size_t i = 0; i < 9; ++i) {
    const int product = (yymmddnnn[i] - '0') * (i % 2 == 0 ? 2 : 1);
    sum += product / 10 + product % 10;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

// "YYYYMMDD-NNN" -> "YYYYMMDD-NNNC", and "YYMMDD-NNN" or "YYMMDD+NNN" likewise.
std::string WithCheckDigit(std::string_view without) {
  std::string digits;
  for (char c : without) {
    if (c >= '0' && c <= '9') digits += c;
  }
  return std::string(without) + CheckDigit(std::string_view(digits).substr(digits.size() - 9));
}

constexpr absl::CivilDay k2010(2010, 6, 1);
constexpr absl::CivilDay k2024(2024, 6, 1);

class NationalIdTest : public testing::Test {
 protected:
  absl::StatusOr<NationalId> Parse(std::string_view input, absl::CivilDay reference = k2010) {
    return parser_.Parse(input, reference);
  }

  // The normalised form, or the error, for readable failures.
  std::string Normalized(std::string_view input, absl::CivilDay reference = k2010) {
    absl::StatusOr<NationalId> id = Parse(input, reference);
    return id.ok() ? id->normalized() : id.status().ToString();
  }

  // The error must be InvalidArgument, mention `reason`, and hold neither the identifier nor its
  // individual part (serial number and check digit).
  void ExpectRejected(std::string_view input, std::string_view reason,
                      absl::CivilDay reference = k2010) {
    SCOPED_TRACE(std::string(input));
    absl::StatusOr<NationalId> id = Parse(input, reference);
    ASSERT_FALSE(id.ok());
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(id.status().message());
    EXPECT_NE(message.find(reason), std::string::npos) << message;
    if (!input.empty()) {
      EXPECT_EQ(message.find(input), std::string::npos) << message;
    }
    std::string digits;
    for (char c : input) {
      if (c >= '0' && c <= '9') digits += c;
    }
    if (digits.size() >= 10) {
      EXPECT_EQ(message.find(digits.substr(digits.size() - 10)), std::string::npos) << message;
      EXPECT_EQ(message.find(digits.substr(digits.size() - 4)), std::string::npos) << message;
    }
  }

  NationalIdParser parser_;
};

TEST_F(NationalIdTest, AcceptsTolvanTolvanssonInEverySpelling) {
  for (std::string_view spelling : {"191212121212", "19121212-1212", "121212-1212", "1212121212",
                                    "  121212-1212\t"}) {
    SCOPED_TRACE(std::string(spelling));
    absl::StatusOr<NationalId> id = Parse(spelling);
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_EQ(id->kind(), NationalIdKind::kPersonnummer);
    EXPECT_EQ(id->normalized(), "191212121212");
    EXPECT_EQ(id->Masked(), "19121212-****");
    EXPECT_EQ(*id, *Parse("191212121212"));
  }
  absl::StatusOr<NationalId> centenarian_form = Parse("121212+1212");
  ASSERT_TRUE(centenarian_form.ok()) << centenarian_form.status();
  EXPECT_EQ(centenarian_form->normalized(), "181212121212");
}

TEST_F(NationalIdTest, TwelveDigitsCarryTheirOwnCentury) {
  // The separator of a 12-digit form says nothing more, and the reference date does not matter.
  EXPECT_EQ(Normalized("19121212+1212", k2024), "191212121212");
  EXPECT_EQ(Normalized("191212121212", absl::CivilDay(1913, 1, 1)), "191212121212");
}

TEST_F(NationalIdTest, DashMeansUnderAHundredByDate) {
  // Tolvan's short form means 2012 once 2012-12-12 has come.
  EXPECT_EQ(Normalized("121212-1212", absl::CivilDay(2012, 12, 11)), "191212121212");
  EXPECT_EQ(Normalized("121212-1212", absl::CivilDay(2012, 12, 12)), "201212121212");
  EXPECT_EQ(Normalized("1212121212", absl::CivilDay(2025, 1, 1)), "201212121212");
  // Born on the reference date, and one day later (which must be a century earlier).
  const std::string today = WithCheckDigit("240601-123");
  const std::string tomorrow = WithCheckDigit("240602-123");
  EXPECT_EQ(Normalized(today, k2024).substr(0, 8), "20240601");
  EXPECT_EQ(Normalized(tomorrow, k2024).substr(0, 8), "19240602");
}

TEST_F(NationalIdTest, PlusMeansTurningAHundredOrMoreInTheReferenceYear) {
  EXPECT_EQ(Normalized("121212+1212", absl::CivilDay(2025, 1, 1)), "191212121212");
  // The '+' is used from January 1 of the year the person turns 100 (FOL 18 §), so a person born
  // 1924-12-31 writes '+' all through 2024, before and after the birthday.
  const std::string late_1924 = WithCheckDigit("241231+123");
  EXPECT_EQ(Normalized(late_1924, k2024).substr(0, 8), "19241231");
  EXPECT_EQ(Normalized(late_1924, absl::CivilDay(2024, 1, 1)).substr(0, 8), "19241231");
  // Who turns only 99 in 2024 cannot have a '+': the same digits mean two centuries back.
  const std::string early_1925 = WithCheckDigit("250101+123");
  EXPECT_EQ(Normalized(early_1925, k2024).substr(0, 8), "18250101");
  // With '-' the same digits are a century apart from '+'.
  const std::string dash = WithCheckDigit("231231-123");
  const std::string plus = WithCheckDigit("231231+123");
  EXPECT_EQ(Normalized(dash, k2024).substr(0, 4), "2023");
  EXPECT_EQ(Normalized(plus, k2024).substr(0, 4), "1923");
}

TEST_F(NationalIdTest, RejectsABadChecksumWithoutEchoingTheNumber) {
  ExpectRejected("19121212-1213", "checksum");
  const std::string valid = WithCheckDigit("19450817-387");
  std::string wrong = valid;
  wrong.back() = wrong.back() == '9' ? '0' : static_cast<char>(wrong.back() + 1);
  ASSERT_TRUE(Parse(valid).ok());
  ExpectRejected(wrong, "checksum");
  ExpectRejected(wrong.substr(2), "checksum");
  // Two swapped neighbouring digits are caught too.
  std::string swapped = valid;
  std::swap(swapped[9], swapped[10]);
  ASSERT_NE(swapped, valid);
  ExpectRejected(swapped, "checksum");
}

TEST_F(NationalIdTest, RejectsImpossibleDates) {
  ExpectRejected(WithCheckDigit("19450230-387"), "impossible date");  // February 30
  ExpectRejected(WithCheckDigit("19451317-387"), "impossible date");  // month 13
  ExpectRejected(WithCheckDigit("19450017-387"), "impossible date");  // month 0
  ExpectRejected(WithCheckDigit("19450800-387"), "impossible date");  // day 0
  ExpectRejected(WithCheckDigit("19450431-387"), "impossible date");  // April 31
  ExpectRejected(WithCheckDigit("19450832-387"), "impossible date");  // day 32
  ExpectRejected(WithCheckDigit("19450845-387"), "impossible date");  // between days and day + 60
  ExpectRejected(WithCheckDigit("19230229-387"), "impossible date");  // 1923 is not a leap year
  ExpectRejected(WithCheckDigit("19000229-387"), "impossible date");  // neither is 1900
  EXPECT_TRUE(Parse(WithCheckDigit("19240229-387")).ok());
  EXPECT_TRUE(Parse(WithCheckDigit("20000229-387")).ok());
  // The short form is resolved to a century first: 000229+ is 1900-02-29, which does not exist.
  ExpectRejected(WithCheckDigit("000229+387"), "impossible date");
}

TEST_F(NationalIdTest, RejectsADateAfterTheReferenceDate) {
  ExpectRejected(WithCheckDigit("20240602-387"), "after the reference date", k2024);
  EXPECT_TRUE(Parse(WithCheckDigit("20240601-387"), k2024).ok());
}

TEST_F(NationalIdTest, AcceptsSamordningsnummerWithDayPlusSixty) {
  const std::string twelve = WithCheckDigit("19121272-123");
  absl::StatusOr<NationalId> id = Parse(twelve);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->kind(), NationalIdKind::kSamordningsnummer);
  EXPECT_EQ(id->normalized(), "19121272123" + twelve.substr(12));
  EXPECT_EQ(id->Masked(), "19121272-****");
  EXPECT_EQ(FhirIdentifierSystem(*id), "http://electronichealth.se/identifier/samordningsnummer");
  EXPECT_EQ(Hl7v2Oid(*id), "1.2.752.129.2.1.3.3");
  // The short forms resolve the century from the real day (12), not from 72.
  EXPECT_EQ(Normalized(twelve.substr(2)), id->normalized());
  EXPECT_EQ(Normalized(WithCheckDigit("121272-123"), absl::CivilDay(2012, 12, 12)),
            "20121272123" + twelve.substr(12));
  // Last day of a month (31 + 60), and days that do not exist.
  EXPECT_TRUE(Parse(WithCheckDigit("19451291-387")).ok());
  ExpectRejected(WithCheckDigit("19451292-387"), "impossible date");
  ExpectRejected(WithCheckDigit("19450290-387"), "impossible date");  // February 30 + 60
  ExpectRejected(WithCheckDigit("19450860-387"), "impossible date");  // day 0 + 60
  ExpectRejected(WithCheckDigit("19121272-123").substr(0, 12) + "0", "checksum");
}

TEST_F(NationalIdTest, RejectsMalformedInputNamingTheReason) {
  ExpectRejected("", "empty");
  ExpectRejected("   ", "empty");
  ExpectRejected("19121212121", "11 digits");
  ExpectRejected("121212-121", "9 digits");
  ExpectRejected("1912121212120", "13 digits");
  ExpectRejected("19121212-121A", "character other than digits");
  ExpectRejected("19121212 1212", "character other than digits");
  ExpectRejected("19121212--1212", "more than one separator");
  ExpectRejected("121212-+1212", "more than one separator");
  ExpectRejected("1912-12121212", "separator in the wrong place");
  ExpectRejected("1212121-212", "separator in the wrong place");
}

TEST_F(NationalIdTest, ParseAsInsistsOnTheKind) {
  const std::string samordningsnummer = WithCheckDigit("19121272-123");
  absl::StatusOr<NationalId> as_personnummer =
      parser_.ParseAs(NationalIdKind::kPersonnummer, samordningsnummer, k2010);
  ASSERT_FALSE(as_personnummer.ok());
  EXPECT_EQ(as_personnummer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(as_personnummer.status().message().find("is a samordningsnummer, not a personnummer"),
            std::string::npos);
  EXPECT_TRUE(parser_.ParseAs(NationalIdKind::kSamordningsnummer, samordningsnummer, k2010).ok());
  EXPECT_TRUE(parser_.ParseAs(NationalIdKind::kPersonnummer, "121212-1212", k2010).ok());
  EXPECT_FALSE(parser_.ParseAs(NationalIdKind::kReservnummer, "121212-1212", k2010).ok());
}

TEST(IdentifierSystemTest, NamesTheHl7SwedenSystemsAndOids) {
  absl::StatusOr<NationalId> id = NationalIdParser().Parse("191212121212", k2010);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(FhirIdentifierSystem(*id), "http://electronichealth.se/identifier/personnummer");
  EXPECT_EQ(Hl7v2Oid(*id), "1.2.752.129.2.1.3.1");
  EXPECT_EQ(FhirIdentifierSystem(NationalIdKind::kPersonnummer),
            "http://electronichealth.se/identifier/personnummer");
  EXPECT_EQ(Hl7v2Oid(NationalIdKind::kSamordningsnummer), "1.2.752.129.2.1.3.3");
  EXPECT_EQ(FhirIdentifierSystem(NationalIdKind::kReservnummer), "");
  EXPECT_EQ(NationalIdKindName(NationalIdKind::kSamordningsnummer), "samordningsnummer");
}

// Two made-up regional formats (real ones are configuration): a letter among the serial digits,
// and 12 digits behind a reserved "99" prefix, which can never be a valid personnummer date.
std::vector<ReservnummerFormat> TestFormats() {
  return {{.name = "region-a",
           .pattern = "########-@###",
           .fhir_system = "urn:oid:1.2.752.0.1",
           .hl7v2_oid = "1.2.752.0.1"},
          {.name = "region-b", .pattern = "99##########", .fhir_system = "urn:oid:1.2.752.0.2"}};
}

TEST(ReservnummerTest, AcceptsOnlyConfiguredFormats) {
  absl::StatusOr<NationalIdParser> parser = NationalIdParser::Create(TestFormats());
  ASSERT_TRUE(parser.ok()) << parser.status();

  absl::StatusOr<NationalId> letter = parser->Parse("19500101-t001", k2024);
  ASSERT_TRUE(letter.ok()) << letter.status();
  EXPECT_EQ(letter->kind(), NationalIdKind::kReservnummer);
  EXPECT_EQ(letter->normalized(), "19500101T001");
  EXPECT_EQ(letter->format_name(), "region-a");
  EXPECT_EQ(FhirIdentifierSystem(*letter), "urn:oid:1.2.752.0.1");
  EXPECT_EQ(Hl7v2Oid(*letter), "1.2.752.0.1");
  EXPECT_EQ(letter->Masked(), "reservnummer region-a");
  EXPECT_EQ(*parser->Parse("19500101T001", k2024), *letter);  // the hyphen is optional

  absl::StatusOr<NationalId> prefixed = parser->Parse("995001014321", k2024);
  ASSERT_TRUE(prefixed.ok()) << prefixed.status();
  EXPECT_EQ(prefixed->format_name(), "region-b");
  EXPECT_EQ(Hl7v2Oid(*prefixed), "");

  // A valid personnummer stays one even where a format would match it.
  absl::StatusOr<NationalId> tolvan = parser->Parse("19121212-1212", k2024);
  ASSERT_TRUE(tolvan.ok());
  EXPECT_EQ(tolvan->kind(), NationalIdKind::kPersonnummer);

  for (std::string_view unknown : {"19500101-TT01", "19500101-T0011", "X9500101-T001"}) {
    absl::StatusOr<NationalId> id = parser->Parse(unknown, k2024);
    ASSERT_FALSE(id.ok()) << unknown;
    EXPECT_NE(id.status().message().find("matches no configured reservnummer format"),
              std::string::npos);
    EXPECT_EQ(id.status().message().find("9500101"), std::string::npos);
  }
  // An all-digit string that is neither: the personnummer reason is the telling one.
  absl::StatusOr<NationalId> bad = parser->Parse("19121212-1213", k2024);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("checksum"), std::string::npos);

  // Without formats, nothing is a reservnummer.
  EXPECT_FALSE(NationalIdParser().Parse("19500101-T001", k2024).ok());
  EXPECT_TRUE(parser->ParseAs(NationalIdKind::kReservnummer, "19500101-T001", k2024).ok());
}

TEST(ReservnummerTest, RefusesBadFormats) {
  const auto create = [](std::string name, std::string pattern) {
    return NationalIdParser::Create({{.name = std::move(name), .pattern = std::move(pattern)}})
        .status()
        .code();
  };
  EXPECT_EQ(create("", "####"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(create("x", ""), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(create("x", "--"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(create("x", "###.###"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(create("x", std::string(65, '#')), absl::StatusCode::kInvalidArgument);
  std::vector<ReservnummerFormat> twice = TestFormats();
  twice[1].name = twice[0].name;
  EXPECT_EQ(NationalIdParser::Create(twice).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace carehub::care
