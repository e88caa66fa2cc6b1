#include "carehub/care/national_id.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "carehub/base/strings.h"

namespace carehub::care {
namespace {

constexpr std::string_view kPersonnummerSystem =
    "http://electronichealth.se/identifier/personnummer";
constexpr std::string_view kSamordningsnummerSystem =
    "http://electronichealth.se/identifier/samordningsnummer";
constexpr std::string_view kPersonnummerOid = "1.2.752.129.2.1.3.1";
constexpr std::string_view kSamordningsnummerOid = "1.2.752.129.2.1.3.3";

// Samordningsnummer add this to the day of birth (Folkbokföringslagen 18 a §).
constexpr int kSamordningsnummerDayOffset = 60;
constexpr size_t kMaxReservnummerPatternLength = 64;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
char ToUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

std::string_view TrimAsciiWhitespace(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

int TwoDigits(std::string_view digits, size_t at) {
  return (digits[at] - '0') * 10 + (digits[at + 1] - '0');
}

// Luhn (modulus 10, weights 2,1,2,1,...) over the 10 digits YYMMDDNNNC, C included: the weighted
// digit sum must be a multiple of 10.
bool LuhnValid(std::string_view ten_digits) {
  int sum = 0;
  for (size_t i = 0; i < ten_digits.size(); ++i) {
    int d = ten_digits[i] - '0';
    if (i % 2 == 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 == 0;
}

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// a mod 100 in 0..99, also for negative a.
int64_t Mod100(int64_t a) { return ((a % 100) + 100) % 100; }

// The four-digit year of a 10-digit form; see the rules in national_id.h.
int64_t ResolveYear(int yy, int month, int day, char separator, absl::CivilDay reference) {
  if (separator == '+') {
    const int64_t latest = reference.year() - 100;
    return latest - Mod100(latest - yy);
  }
  int64_t year = reference.year() - Mod100(reference.year() - yy);
  if (std::tuple(year, month, day) >
      std::tuple(reference.year(), reference.month(), reference.day())) {
    year -= 100;
  }
  return year;
}

// "19121212-****": the date part only, as written (a samordningsnummer keeps its day + 60).
std::string MaskDigits(std::string_view digits) {
  return absl::StrCat(Sv(digits.substr(0, digits.size() - 4)), "-****");
}

// Every message starts with "national identifier" and never holds more than MaskDigits() shows.
absl::Status Invalid(std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("national identifier ", Sv(message)));
}

constexpr std::string_view kBadCharacter =
    "has a character other than digits and one '-' or '+' separator";

// The digits and separator of an input that has only digits and at most one '-' or '+'.
struct Split {
  std::string digits;
  char separator = 0;
};

absl::StatusOr<Split> SplitDigits(std::string_view input) {
  Split split;
  size_t separator_at = 0;
  for (char c : input) {
    if (IsDigit(c)) {
      split.digits += c;
    } else if (c == '-' || c == '+') {
      if (split.separator != 0) return Invalid("has more than one separator");
      split.separator = c;
      separator_at = split.digits.size();
    } else {
      return Invalid(kBadCharacter);
    }
  }
  if (split.digits.size() != 10 && split.digits.size() != 12) {
    return Invalid(absl::StrCat("has ", split.digits.size(), " digits; want 10 or 12"));
  }
  if (split.separator != 0 && separator_at != split.digits.size() - 4) {
    return Invalid("has its separator in the wrong place; want it before the last 4 digits");
  }
  return split;
}

// A valid personnummer or samordningsnummer, normalised to 12 digits.
struct Parsed {
  NationalIdKind kind;
  std::string normalized;
};

// Validates an input that has only digits and separators.
absl::StatusOr<Parsed> ParseDigits(std::string_view input, absl::CivilDay reference) {
  absl::StatusOr<Split> split = SplitDigits(input);
  if (!split.ok()) return split.status();
  std::string digits = std::move(split->digits);
  const size_t date_at = digits.size() - 10;  // index of YY
  const int yy = TwoDigits(digits, date_at);
  const int month = TwoDigits(digits, date_at + 2);
  const int written_day = TwoDigits(digits, date_at + 4);
  const bool coordination = written_day > kSamordningsnummerDayOffset;
  const int day = coordination ? written_day - kSamordningsnummerDayOffset : written_day;
  const NationalIdKind kind =
      coordination ? NationalIdKind::kSamordningsnummer : NationalIdKind::kPersonnummer;

  if (digits.size() == 10) {
    const int64_t year = ResolveYear(yy, month, day, split->separator, reference);
    if (year < 1000 || year > 9999) return Invalid("cannot be resolved: bad reference date");
    digits.insert(0, absl::StrFormat("%02d", year / 100));
  }
  const int64_t year = TwoDigits(digits, 0) * 100 + TwoDigits(digits, 2);
  const std::string masked = MaskDigits(digits);

  if (month < 1 || month > 12) {
    return Invalid(absl::StrCat("has an impossible date: ", masked, " has no month ", month));
  }
  if (day < 1 || day > DaysInMonth(year, month)) {
    return Invalid(absl::StrCat("has an impossible date: ", masked, " has no such day"));
  }
  if (std::tuple(year, month, day) >
      std::tuple(reference.year(), reference.month(), reference.day())) {
    return Invalid(absl::StrCat("has a date after the reference date: ", masked));
  }
  if (!LuhnValid(std::string_view(digits).substr(2))) {
    return Invalid(absl::StrCat("has a bad checksum: ", masked));
  }
  return Parsed{kind, std::move(digits)};
}

bool IsDigitShaped(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(c) && c != '-' && c != '+') return false;
  }
  return true;
}

// Whether `input` matches `pattern` (grammar in national_id.h); on a match, `normalized` holds the
// input upper-cased without hyphens.
bool MatchPattern(std::string_view pattern, std::string_view input, std::string* normalized) {
  normalized->clear();
  size_t i = 0;
  for (char p : pattern) {
    if (p == '-') {
      if (i < input.size() && input[i] == '-') ++i;
      continue;
    }
    if (i >= input.size()) return false;
    const char c = ToUpper(input[i++]);
    const bool ok = p == '#'   ? IsDigit(c)
                    : p == '@' ? IsLetter(c)
                    : p == '*' ? IsDigit(c) || IsLetter(c)
                               : c == ToUpper(p);
    if (!ok) return false;
    *normalized += c;
  }
  return i == input.size();
}

absl::Status ValidateFormat(const ReservnummerFormat& format) {
  if (format.name.empty()) return absl::InvalidArgumentError("reservnummer format without a name");
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("reservnummer format \"", format.name, "\": ", Sv(why)));
  };
  if (format.pattern.empty() || format.pattern.size() > kMaxReservnummerPatternLength) {
    return bad(absl::StrCat("pattern must have 1..", kMaxReservnummerPatternLength, " characters"));
  }
  bool has_character = false;
  for (char p : format.pattern) {
    if (p != '#' && p != '@' && p != '*' && p != '-' && !IsDigit(p) && !IsLetter(p)) {
      return bad("pattern may only hold '#', '@', '*', '-', digits and letters");
    }
    has_character = has_character || p != '-';
  }
  if (!has_character) return bad("pattern has only optional hyphens");
  return absl::OkStatus();
}

}  // namespace

std::string_view NationalIdKindName(NationalIdKind kind) {
  switch (kind) {
    case NationalIdKind::kPersonnummer:
      return "personnummer";
    case NationalIdKind::kSamordningsnummer:
      return "samordningsnummer";
    case NationalIdKind::kReservnummer:
      return "reservnummer";
  }
  return "unknown";
}

std::string NationalId::Masked() const {
  if (kind_ == NationalIdKind::kReservnummer) return absl::StrCat("reservnummer ", format_name_);
  return MaskDigits(normalized_);
}

std::string_view FhirIdentifierSystem(NationalIdKind kind) {
  switch (kind) {
    case NationalIdKind::kPersonnummer:
      return kPersonnummerSystem;
    case NationalIdKind::kSamordningsnummer:
      return kSamordningsnummerSystem;
    case NationalIdKind::kReservnummer:
      break;
  }
  return {};
}

std::string_view Hl7v2Oid(NationalIdKind kind) {
  switch (kind) {
    case NationalIdKind::kPersonnummer:
      return kPersonnummerOid;
    case NationalIdKind::kSamordningsnummer:
      return kSamordningsnummerOid;
    case NationalIdKind::kReservnummer:
      break;
  }
  return {};
}

std::string_view FhirIdentifierSystem(const NationalId& id) {
  if (id.kind() == NationalIdKind::kReservnummer) return id.fhir_system_;
  return FhirIdentifierSystem(id.kind());
}

std::string_view Hl7v2Oid(const NationalId& id) {
  if (id.kind() == NationalIdKind::kReservnummer) return id.hl7v2_oid_;
  return Hl7v2Oid(id.kind());
}

absl::StatusOr<NationalIdParser> NationalIdParser::Create(std::vector<ReservnummerFormat> formats) {
  absl::flat_hash_set<std::string> names;
  for (const ReservnummerFormat& format : formats) {
    if (absl::Status status = ValidateFormat(format); !status.ok()) return status;
    if (!names.insert(format.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("reservnummer format \"", format.name, "\" is configured twice"));
    }
  }
  return NationalIdParser(std::move(formats));
}

absl::StatusOr<NationalId> NationalIdParser::ParseReservnummer(std::string_view trimmed) const {
  std::string normalized;
  for (const ReservnummerFormat& format : formats_) {
    if (!MatchPattern(format.pattern, trimmed, &normalized)) continue;
    NationalId id(NationalIdKind::kReservnummer, std::move(normalized));
    id.format_name_ = format.name;
    id.fhir_system_ = format.fhir_system;
    id.hl7v2_oid_ = format.hl7v2_oid;
    return id;
  }
  return Invalid(formats_.empty() ? "is not a reservnummer: no reservnummer format is configured"
                                  : "matches no configured reservnummer format");
}

absl::StatusOr<NationalId> NationalIdParser::Parse(std::string_view input,
                                                   absl::CivilDay reference_date) const {
  const std::string_view trimmed = TrimAsciiWhitespace(input);
  if (trimmed.empty()) return Invalid("is empty");
  if (!IsDigitShaped(trimmed)) {
    if (formats_.empty()) return Invalid(kBadCharacter);
    return ParseReservnummer(trimmed);
  }
  absl::StatusOr<Parsed> parsed = ParseDigits(trimmed, reference_date);
  if (parsed.ok()) return NationalId(parsed->kind, std::move(parsed->normalized));
  if (formats_.empty()) return parsed.status();
  // Not a valid personnummer or samordningsnummer: a region's all-digit reservnummer?
  absl::StatusOr<NationalId> reserve = ParseReservnummer(trimmed);
  if (reserve.ok()) return reserve;
  return parsed.status();  // the more telling reason
}

absl::StatusOr<NationalId> NationalIdParser::ParseAs(NationalIdKind kind, std::string_view input,
                                                     absl::CivilDay reference_date) const {
  const std::string_view trimmed = TrimAsciiWhitespace(input);
  if (trimmed.empty()) return Invalid("is empty");
  if (kind == NationalIdKind::kReservnummer) return ParseReservnummer(trimmed);
  absl::StatusOr<Parsed> parsed = ParseDigits(trimmed, reference_date);
  if (!parsed.ok()) return parsed.status();
  if (parsed->kind != kind) {
    return Invalid(absl::StrCat(MaskDigits(parsed->normalized), " is a ",
                                Sv(NationalIdKindName(parsed->kind)), ", not a ",
                                Sv(NationalIdKindName(kind))));
  }
  return NationalId(parsed->kind, std::move(parsed->normalized));
}

}  // namespace carehub::care
