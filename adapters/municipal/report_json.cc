#include "carehub/municipal/report_json.h"

#include <string>

#include "carehub/municipal/record_mapping.h"
#include "nlohmann/json.hpp"

namespace carehub::municipal {
namespace {

using Json = nlohmann::ordered_json;

std::string Dump(const Json& json) {
  // Replace rather than throw on text that is not UTF-8 (all of ours is; this is the last guard).
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

std::string ResultsJson(const ImportReport& report) {
  Json results = Json::array();
  for (const LineResult& line : report.lines) {
    Json entry = {{"line", line.line}};
    if (!line.record_id.empty()) entry["record_id"] = line.record_id;
    entry["status"] = std::string(LineStatusName(line.status));
    if (!line.reason.empty()) entry["reason"] = line.reason;
    results.push_back(std::move(entry));
  }
  Json body = {{"format", std::string(kFormatVersion1)},
               {"lines", report.lines.size()},
               {"accepted", report.accepted},
               {"already_imported", report.already_imported},
               {"rejected", report.rejected},
               {"not_processed", report.not_processed},
               {"results", std::move(results)}};
  return Dump(body);
}

std::string RejectsJsonLines(const ImportReport& report) {
  std::string out;
  for (const LineResult& line : report.lines) {
    if (line.status != LineStatus::kRejected) continue;
    Json entry = {{"line", line.line}};
    if (!line.record_id.empty()) entry["record_id"] = line.record_id;
    entry["reason"] = line.reason;
    entry["text"] = line.text;
    out.append(Dump(entry));
    out.push_back('\n');
  }
  return out;
}

}  // namespace carehub::municipal
