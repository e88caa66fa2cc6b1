#include "carehub/care/payment_agreements.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"

namespace carehub::care {
namespace {

constexpr int kFields = 7;

absl::Status LineError(int line, std::string_view field, std::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat("payment agreements line ", line, ": ", Sv(field), ": ", Sv(reason)));
}

// "9135", "9135.5" or "9135.00" kronor -> öre.
bool ParseKronor(absl::string_view text, int64_t* ore) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  int64_t kronor = 0;
  if (parts.size() > 2 || !absl::SimpleAtoi(parts[0], &kronor) || kronor < 0) return false;
  int64_t fraction = 0;
  if (parts.size() == 2) {
    if (parts[1].empty() || parts[1].size() > 2 || !absl::SimpleAtoi(parts[1], &fraction) ||
        fraction < 0) {
      return false;
    }
    if (parts[1].size() == 1) fraction *= 10;
  }
  *ore = kronor * 100 + fraction;
  return true;
}

absl::StatusOr<PaymentAgreement> ParseLine(int line, const std::vector<absl::string_view>& fields,
                                           const absl::TimeZone& zone) {
  PaymentAgreement agreement;
  agreement.agreement_id = std::string(fields[0]);
  agreement.version = std::string(fields[1]);
  absl::CivilDay valid_from;
  if (!absl::ParseCivilTime(fields[2], &valid_from)) {
    return LineError(line, "valid_from", "not a date YYYY-MM-DD");
  }
  agreement.valid_from = absl::FromCivil(valid_from, zone);
  if (!absl::SimpleAtoi(fields[3], &agreement.days) || agreement.days < 1) {
    return LineError(line, "days", "not a whole number of at least 1");
  }
  if (fields[4] == "calendar") {
    agreement.day_type = DayType::kCalendar;
  } else if (fields[4] == "working") {
    agreement.day_type = DayType::kWorking;
  } else {
    return LineError(line, "day_type", "must be \"calendar\" or \"working\"");
  }
  if (!absl::SimpleAtoi(fields[5], &agreement.cut_off_hour) || agreement.cut_off_hour < 0 ||
      agreement.cut_off_hour > 24) {
    return LineError(line, "cut_off", "not an hour 0..24");
  }
  if (!ParseKronor(fields[6], &agreement.daily_rate_ore)) {
    return LineError(line, "daily_rate_sek", "not an amount in kronor with at most two decimals");
  }
  return agreement;
}

}  // namespace

absl::StatusOr<std::vector<PaymentAgreement>> ParsePaymentAgreements(std::string_view text) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone("Europe/Stockholm", &zone)) {
    return absl::InternalError("cannot load time zone Europe/Stockholm");
  }
  std::vector<PaymentAgreement> agreements;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(Sv(text), '\n')) {
    ++line_number;
    line = line.substr(0, line.find('#'));
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.empty()) continue;
    if (fields.size() != kFields) {
      return LineError(line_number, "line", absl::StrCat("expected ", kFields, " fields"));
    }
    ASSIGN_OR_RETURN(PaymentAgreement agreement, ParseLine(line_number, fields, zone));
    agreements.push_back(std::move(agreement));
  }
  // The calendar checks the rest (ids, duplicates in time are resolved by order).
  RETURN_IF_ERROR(DeadlineCalendar::Create(agreements).status());
  return agreements;
}

absl::StatusOr<std::vector<PaymentAgreement>> LoadPaymentAgreements(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << file.rdbuf();
  return ParsePaymentAgreements(text.str());
}

}  // namespace carehub::care
