// HL7 v2 timestamps (TS/DTM): YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ].
//
//   ASSIGN_OR_RETURN(absl::Time t, ParseHl7Timestamp("202611252330+0100", tz));
//
// A timestamp with an offset is exact. One without is local time in `zone` (the sending
// facility's, a per-facility setting), so that a stay across the DST change keeps its true
// duration. A local time that does not exist (the hour skipped in spring) or is ambiguous (the
// hour repeated in autumn) resolves to the earlier instant: the offset in force before the change.
//
// Errors: InvalidArgument for anything else (never echoing the value).
// Thread-safe (pure).
#ifndef CAREHUB_HL7V2_TIMESTAMP_H_
#define CAREHUB_HL7V2_TIMESTAMP_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace carehub::hl7v2 {

absl::StatusOr<absl::Time> ParseHl7Timestamp(std::string_view value, const absl::TimeZone& zone);

// UTC, to the second: "20261125233000+0000".
std::string FormatHl7Timestamp(absl::Time time);

}  // namespace carehub::hl7v2

#endif  // CAREHUB_HL7V2_TIMESTAMP_H_
