#include "adapters/municipal/internal/record_view.h"

#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "carehub/base/strings.h"

namespace carehub::municipal::internal {
namespace {

const std::string& Empty() {
  static const std::string* const kEmpty = new std::string();
  return *kEmpty;
}

}  // namespace

absl::Status FieldError(std::string_view field, std::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(Sv(field), ": ", Sv(reason)));
}

const std::string& RecordView::Text(std::string_view name) const {
  const std::string* value = FindField(fields_, name);
  return value == nullptr ? Empty() : *value;
}

absl::StatusOr<std::string> RecordView::RequiredText(std::string_view name) const {
  const std::string& value = Text(name);
  if (value.empty()) return FieldError(name, "required");
  return value;
}

absl::StatusOr<std::optional<google::protobuf::Timestamp>> RecordView::Time(
    std::string_view name) const {
  const std::string& value = Text(name);
  if (value.empty()) return std::optional<google::protobuf::Timestamp>();
  absl::Time t;
  std::string error;
  bool parsed = absl::ParseTime(absl::RFC3339_full, value, &t, &error);
  // Local forms: only when the text carries no offset of its own.
  static constexpr const char* kLocalForms[] = {"%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
                                                "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
                                                "%Y-%m-%d"};
  for (const char* form : kLocalForms) {
    if (parsed) break;
    parsed = absl::ParseTime(form, value, local_, &t, &error);
  }
  if (!parsed) {
    return FieldError(name,
                      "not a time: use RFC 3339 (2026-11-25T08:00:00+01:00) or Swedish local time "
                      "(2026-11-25 08:00)");
  }
  const int64_t seconds = absl::ToUnixSeconds(t);
  // Years 1900..9999: a year outside is a typing error, and protobuf's Timestamp ends at 9999.
  if (seconds < -2208988800LL || seconds > 253402300799LL) {
    return FieldError(name, "year out of range");
  }
  google::protobuf::Timestamp out;
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
  return std::optional<google::protobuf::Timestamp>(out);
}

absl::StatusOr<std::optional<double>> RecordView::Decimal(std::string_view name) const {
  std::string value = Text(name);
  if (value.empty()) return std::optional<double>();
  for (char& c : value) {
    if (c == ',') c = '.';
  }
  double d;
  if (!absl::SimpleAtod(value, &d) || !std::isfinite(d) ||
      value.find_first_not_of("+-.0123456789eE") != std::string::npos) {
    return FieldError(name, "not a decimal number");
  }
  return std::optional<double>(d);
}

absl::StatusOr<std::optional<uint32_t>> RecordView::Count(std::string_view name,
                                                          uint32_t max) const {
  const std::string& value = Text(name);
  if (value.empty()) return std::optional<uint32_t>();
  uint32_t n;
  if (!absl::SimpleAtoi(value, &n) || n > max ||
      value.find_first_not_of("0123456789") != std::string::npos) {
    return FieldError(name, absl::StrCat("not a whole number from 0 to ", max));
  }
  return std::optional<uint32_t>(n);
}

absl::StatusOr<std::optional<bool>> RecordView::YesNo(std::string_view name) const {
  return Choice<bool>(name, {{"ja", true},
                             {"nej", false},
                             {"true", true},
                             {"false", false},
                             {"1", true},
                             {"0", false}});
}

std::vector<std::string> RecordView::List(std::string_view name) const {
  std::vector<std::string> out;
  for (absl::string_view element : absl::StrSplit(Sv(Text(name)), '|')) {
    element = absl::StripAsciiWhitespace(element);
    if (!element.empty()) out.emplace_back(element);
  }
  return out;
}

const Field* RecordView::FirstUnknown(const std::vector<std::string_view>& allowed) const {
  for (const Field& field : fields_) {
    bool known = false;
    for (std::string_view name : allowed) {
      if (field.name == name) {
        known = true;
        break;
      }
    }
    if (!known) return &field;
  }
  return nullptr;
}

bool RecordView::EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(Sv(a), Sv(b));
}

}  // namespace carehub::municipal::internal
