// RecordView: typed access to one record's text fields, for the mapping. Every getter returns
// InvalidArgument "<field>: <reason>" for a value it cannot read; an absent field is "not given"
// (empty string, unset time, nullopt). Thread-compatible; holds a reference to the fields.
#ifndef CAREHUB_ADAPTERS_MUNICIPAL_INTERNAL_RECORD_VIEW_H_
#define CAREHUB_ADAPTERS_MUNICIPAL_INTERNAL_RECORD_VIEW_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/municipal/reader.h"
#include "google/protobuf/timestamp.pb.h"

namespace carehub::municipal::internal {

absl::Status FieldError(std::string_view field, std::string_view reason);

class RecordView {
 public:
  RecordView(const std::vector<Field>& fields, absl::TimeZone local)
      : fields_(fields), local_(local) {}

  // The value, or "" when not given.
  const std::string& Text(std::string_view name) const;
  absl::StatusOr<std::string> RequiredText(std::string_view name) const;

  // RFC 3339 with an offset ("2026-11-25T08:00:00+01:00", "...Z"), or Swedish local time
  // ("2026-11-25 08:00", "2026-11-25T08:00:00", "2026-11-25" = midnight). Unset when not given.
  absl::StatusOr<std::optional<google::protobuf::Timestamp>> Time(std::string_view name) const;

  // A decimal number; ',' is accepted as the decimal sign (Swedish spreadsheets).
  absl::StatusOr<std::optional<double>> Decimal(std::string_view name) const;
  // A whole number in [0, max].
  absl::StatusOr<std::optional<uint32_t>> Count(std::string_view name, uint32_t max) const;
  // ja/nej, true/false, 1/0 (case-insensitive).
  absl::StatusOr<std::optional<bool>> YesNo(std::string_view name) const;
  // The '|'-separated list, each element trimmed, empty elements dropped.
  std::vector<std::string> List(std::string_view name) const;

  // One of `choices` (case-insensitive; several spellings may map to one value). nullopt when not
  // given; InvalidArgument listing the first spelling of each value otherwise.
  template <typename E>
  absl::StatusOr<std::optional<E>> Choice(
      std::string_view name, const std::vector<std::pair<std::string_view, E>>& choices) const {
    const std::string& value = Text(name);
    if (value.empty()) return std::optional<E>();
    std::string allowed;
    for (const auto& [spelling, e] : choices) {
      if (EqualsIgnoreCase(value, spelling)) return std::optional<E>(e);
      if (!allowed.empty()) allowed.append(", ");
      allowed.append(spelling);
    }
    return FieldError(name, "must be one of: " + allowed);
  }

  // The first field whose name is not in `allowed`, or nullptr.
  const Field* FirstUnknown(const std::vector<std::string_view>& allowed) const;

 private:
  static bool EqualsIgnoreCase(std::string_view a, std::string_view b);

  const std::vector<Field>& fields_;
  absl::TimeZone local_;
};

}  // namespace carehub::municipal::internal

#endif  // CAREHUB_ADAPTERS_MUNICIPAL_INTERNAL_RECORD_VIEW_H_
