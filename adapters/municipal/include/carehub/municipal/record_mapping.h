// RecordMapper: one record of the carehub-municipal format (fields from reader.h) -> the care
// command it stands for (carehub.care.v1.CommandRequest), plus the key that orders it: records
// of one patient must reach the care service in file order, records of different patients need
// not. The format and every field are documented in adapters/municipal/FORMAT.md; the mapping is
// 1:1 (one record, one command; record_id becomes command_id, so a re-import is a replay).
//
//   ASSIGN_OR_RETURN(RecordMapper mapper, RecordMapper::Create({.source_system = "lifecare"}));
//   absl::StatusOr<MappedRecord> mapped = mapper.Map(line.fields);
//   if (!mapped.ok()) Reject(line, mapped.status().message());
//   else Send(mapped->order_key, mapped->command);
//
// Errors: Map returns InvalidArgument naming the field and the reason ("activity_id: required",
// "occurred_at: not a time ..."). A personnummer is never part of an error message: a bad one is
// reported by the check that failed (date, check digit), as national_id.h does.
//
// Thread-safe: immutable after Create.
#ifndef CAREHUB_MUNICIPAL_RECORD_MAPPING_H_
#define CAREHUB_MUNICIPAL_RECORD_MAPPING_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/care/national_id.h"
#include "carehub/care/v1/care_service.pb.h"
#include "carehub/municipal/reader.h"

namespace carehub::municipal {

// The format versions this build reads (the `format` field of every record).
inline constexpr std::string_view kFormatVersion1 = "carehub-municipal/1";

struct RecordMapperOptions {
  // The municipal system the records come from (CommandRequest.source.system), unless a record
  // names one in its `system` field. With record_id, the idempotency key. Required.
  std::string source_system;
  // "Today" for personnummer with 10 digits, and the check that a birth date is not in the
  // future. Not owned; nullptr: the real clock.
  const Clock* clock = nullptr;
  // Accepted patient identifiers (add the region's reservnummer formats here).
  care::NationalIdParser parser;
};

struct MappedRecord {
  care::v1::CommandRequest command;
  // Equal for records of the same patient (as the record names the patient: by personnummer,
  // normalised, or by patient_id). Held in memory only: it may contain a personnummer.
  std::string order_key;
};

class RecordMapper {
 public:
  // InvalidArgument if source_system is empty; Internal if the Europe/Stockholm time zone cannot
  // be loaded (local times in records are Swedish local time).
  static absl::StatusOr<RecordMapper> Create(RecordMapperOptions options);

  absl::StatusOr<MappedRecord> Map(const std::vector<Field>& fields) const;

  // The record types of format version 1, e.g. "insats_planerad", in FORMAT.md's order.
  static std::vector<std::string_view> RecordTypes();

 private:
  RecordMapper(RecordMapperOptions options, absl::TimeZone stockholm)
      : options_(std::move(options)), stockholm_(stockholm) {}

  RecordMapperOptions options_;
  absl::TimeZone stockholm_;
};

}  // namespace carehub::municipal

#endif  // CAREHUB_MUNICIPAL_RECORD_MAPPING_H_
