// Per sending facility settings: how to read that facility's ADT messages.
//
//   ASSIGN_OR_RETURN(FacilityDirectory facilities, FacilityDirectory::Load("facilities.conf"));
//   const FacilityConfig* f = facilities.Find("SE2321000131");  // MSH-4.1 (or 4.2)
//
// The file has one facility per line, `key=value` pairs separated by spaces; `#` starts a
// comment. `facility=*` is the entry for facilities not listed.
//
//   facility=SE2321000131 owner_hsa_id=SE2321000131-E000000000001 time_zone=Europe/Stockholm
//     personnummer_authority=1.2.752.129.2.1.3.1 samordningsnummer_authority=1.2.752.129.2.1.3.3
//     charset=8859/1 organisation_hsa_id=SE2321000131-E000000000001
//
// Keys: facility (required); owner_hsa_id (the region's HSA-id, the data owner of the facility's
// events; required); time_zone (of timestamps without an offset; default Europe/Stockholm);
// personnummer_authority and samordningsnummer_authority (PID-3.4 values, first or second
// component, that mark the PID-3 repetition carrying that identifier; comma-separated; default
// the national OIDs 1.2.752.129.2.1.3.1 and 1.2.752.129.2.1.3.3); charset (when MSH-18 is empty;
// default UNICODE UTF-8); organisation_hsa_id (source.organisation_hsa_id; default owner_hsa_id).
//
// Errors: InvalidArgument naming the line and key; NotFound for a missing file.
// Thread-safety: immutable after Load/Parse.
#ifndef CAREHUB_HL7V2_FACILITY_CONFIG_H_
#define CAREHUB_HL7V2_FACILITY_CONFIG_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace carehub::hl7v2 {

inline constexpr char kPersonnummerOid[] = "1.2.752.129.2.1.3.1";
inline constexpr char kSamordningsnummerOid[] = "1.2.752.129.2.1.3.3";

struct FacilityConfig {
  std::string facility;
  std::string owner_hsa_id;
  std::string organisation_hsa_id;
  std::string time_zone_name = "Europe/Stockholm";
  absl::TimeZone time_zone;
  std::vector<std::string> personnummer_authorities = {kPersonnummerOid};
  std::vector<std::string> samordningsnummer_authorities = {kSamordningsnummerOid};
  std::string default_charset = "UNICODE UTF-8";
};

class FacilityDirectory {
 public:
  FacilityDirectory() = default;
  static absl::StatusOr<FacilityDirectory> Parse(std::string_view text);
  static absl::StatusOr<FacilityDirectory> Load(const std::string& path);
  // One entry for every facility, e.g. for a single-EHR region.
  static absl::StatusOr<FacilityDirectory> Default(std::string owner_hsa_id);

  // The facility's entry, else the `*` entry, else nullptr.
  const FacilityConfig* Find(std::string_view facility) const;
  size_t size() const { return facilities_.size(); }

 private:
  std::map<std::string, FacilityConfig, std::less<>> facilities_;
};

}  // namespace carehub::hl7v2

#endif  // CAREHUB_HL7V2_FACILITY_CONFIG_H_
