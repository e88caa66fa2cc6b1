// JSON renderings of an ImportReport (FORMAT.md, "Results"): the per-line results the HTTP
// endpoint returns, and the reject report written beside a failed file. Thread-safe: pure.
//
//   std::string body = ResultsJson(report);      // {"format":..., "lines":3, ..., "results":[...]}
//   std::string rejects = RejectsJsonLines(report);  // one object per rejected line
#ifndef CAREHUB_MUNICIPAL_REPORT_JSON_H_
#define CAREHUB_MUNICIPAL_REPORT_JSON_H_

#include <string>

#include "carehub/municipal/importer.h"

namespace carehub::municipal {

// Results without the lines' text (the caller has the file).
std::string ResultsJson(const ImportReport& report);

// {"line":N,"record_id":"...","reason":"...","text":"..."} per rejected line, '\n'-terminated.
std::string RejectsJsonLines(const ImportReport& report);

}  // namespace carehub::municipal

#endif  // CAREHUB_MUNICIPAL_REPORT_JSON_H_
