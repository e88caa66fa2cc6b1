#include "carehub/hl7v2/timestamp.h"

#include <cctype>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"

namespace carehub::hl7v2 {
namespace {

bool Digits(std::string_view s, int* out) {
  if (s.empty()) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

absl::Status Bad() { return absl::InvalidArgumentError("not an HL7 timestamp"); }

}  // namespace

absl::StatusOr<absl::Time> ParseHl7Timestamp(std::string_view value, const absl::TimeZone& zone) {
  // The offset, if any, follows the first '+' or '-'.
  const size_t sign_at = value.find_first_of("+-");
  std::string_view local = value.substr(0, sign_at);
  int offset_seconds = 0;
  const bool has_offset = sign_at != std::string_view::npos;
  if (has_offset) {
    const std::string_view offset = value.substr(sign_at + 1);
    int hhmm;
    if (offset.size() != 4 || !Digits(offset, &hhmm) || hhmm % 100 >= 60 || hhmm / 100 > 14) {
      return Bad();
    }
    offset_seconds = ((hhmm / 100) * 3600 + (hhmm % 100) * 60) * (value[sign_at] == '-' ? -1 : 1);
  }
  double fraction = 0;
  if (const size_t dot = local.find('.'); dot != std::string_view::npos) {
    const std::string_view frac = local.substr(dot + 1);
    int digits;
    if (frac.size() > 4 || !Digits(frac, &digits) || dot != 14) return Bad();
    fraction = digits;
    for (size_t i = 0; i < frac.size(); ++i) fraction /= 10;
    local = local.substr(0, dot);
  }
  if (local.size() < 4 || local.size() > 14 || local.size() % 2 != 0) return Bad();
  int parts[6] = {0, 1, 1, 0, 0, 0};
  if (!Digits(local.substr(0, 4), &parts[0])) return Bad();
  for (int i = 1; i < 6 && 4 + static_cast<size_t>(i - 1) * 2 < local.size(); ++i) {
    if (!Digits(local.substr(4 + (i - 1) * 2, 2), &parts[i])) return Bad();
  }
  const absl::CivilSecond civil(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]);
  // CivilSecond normalises out-of-range fields (month 13); a real timestamp needs none of that.
  if (civil.year() != parts[0] || civil.month() != parts[1] || civil.day() != parts[2] ||
      civil.hour() != parts[3] || civil.minute() != parts[4] || civil.second() != parts[5]) {
    return Bad();
  }
  absl::Time t = has_offset ? absl::FromCivil(civil, absl::FixedTimeZone(offset_seconds))
                            : zone.At(civil).pre;
  return t + absl::Microseconds(static_cast<int64_t>(fraction * 1e6 + 0.5));
}

std::string FormatHl7Timestamp(absl::Time time) {
  return absl::FormatTime("%Y%m%d%H%M%S+0000", time, absl::UTCTimeZone());
}

}  // namespace carehub::hl7v2
