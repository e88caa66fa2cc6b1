#include "carehub/hl7v2/facility_config.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "carehub/base/strings.h"
#include "carehub/hl7v2/message.h"

namespace carehub::hl7v2 {
namespace {

absl::Status LineError(int line, std::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("facilities line ", line, ": ", Sv(reason)));
}

absl::Status Finish(FacilityConfig& config, int line) {
  if (config.facility.empty()) return LineError(line, "facility: required");
  if (config.owner_hsa_id.empty()) return LineError(line, "owner_hsa_id: required");
  if (config.organisation_hsa_id.empty()) config.organisation_hsa_id = config.owner_hsa_id;
  if (!absl::LoadTimeZone(config.time_zone_name, &config.time_zone)) {
    return LineError(line, "time_zone: unknown time zone");
  }
  if (!CharsetFromMsh18(config.default_charset).ok()) {
    return LineError(line, "charset: unsupported character set");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FacilityDirectory> FacilityDirectory::Parse(std::string_view text) {
  FacilityDirectory directory;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(Sv(text), '\n')) {
    ++line_number;
    line = line.substr(0, line.find('#'));
    FacilityConfig config;
    bool any = false;
    for (absl::string_view pair : absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty())) {
      any = true;
      const size_t eq = pair.find('=');
      if (eq == absl::string_view::npos) return LineError(line_number, "expected key=value");
      const std::string key(pair.substr(0, eq));
      const std::string value(pair.substr(eq + 1));
      if (key == "facility") {
        config.facility = value;
      } else if (key == "owner_hsa_id") {
        config.owner_hsa_id = value;
      } else if (key == "organisation_hsa_id") {
        config.organisation_hsa_id = value;
      } else if (key == "time_zone") {
        config.time_zone_name = value;
      } else if (key == "personnummer_authority") {
        config.personnummer_authorities = absl::StrSplit(value, ',', absl::SkipEmpty());
      } else if (key == "samordningsnummer_authority") {
        config.samordningsnummer_authorities = absl::StrSplit(value, ',', absl::SkipEmpty());
      } else if (key == "charset") {
        // Charset names may contain a space ("UNICODE UTF-8"); write them with '_' for space.
        config.default_charset = value;
        for (char& c : config.default_charset) {
          if (c == '_') c = ' ';
        }
      } else {
        return LineError(line_number, absl::StrCat("unknown key ", key));
      }
    }
    if (!any) continue;
    if (absl::Status s = Finish(config, line_number); !s.ok()) return s;
    if (directory.facilities_.count(config.facility) > 0) {
      return LineError(line_number, "facility listed twice");
    }
    std::string key = config.facility;
    directory.facilities_.emplace(std::move(key), std::move(config));
  }
  return directory;
}

absl::StatusOr<FacilityDirectory> FacilityDirectory::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read facilities file ", path));
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str());
}

absl::StatusOr<FacilityDirectory> FacilityDirectory::Default(std::string owner_hsa_id) {
  return Parse(absl::StrCat("facility=* owner_hsa_id=", owner_hsa_id));
}

const FacilityConfig* FacilityDirectory::Find(std::string_view facility) const {
  auto it = facilities_.find(facility);
  if (it == facilities_.end()) it = facilities_.find("*");
  return it == facilities_.end() ? nullptr : &it->second;
}

}  // namespace carehub::hl7v2
