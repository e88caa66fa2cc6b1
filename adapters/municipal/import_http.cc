#include "carehub/municipal/import_http.h"

#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "carehub/base/log.h"
#include "carehub/base/strings.h"
#include "carehub/municipal/report_json.h"
#include "nlohmann/json.hpp"

namespace carehub::municipal {
namespace {

void Error(int status, std::string_view message, services::HttpResponse* response) {
  response->status = status;
  response->content_type = "application/json";
  response->body = nlohmann::json{{"error", std::string(message)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The reader options for a Content-Type, or nullopt with `why` set.
std::optional<ReaderOptions> ParseContentType(std::string_view content_type, std::string& why) {
  ReaderOptions options;
  bool first = true;
  std::optional<std::string> charset;
  for (absl::string_view part : absl::StrSplit(Sv(content_type), ';')) {
    const std::string piece = absl::AsciiStrToLower(absl::StripAsciiWhitespace(part));
    if (first) {
      first = false;
      if (piece == "text/csv") {
        options.kind = FileKind::kCsv;
      } else if (piece == "application/x-ndjson" || piece == "application/jsonl" ||
                 piece == "application/x-jsonlines") {
        options.kind = FileKind::kJsonLines;
      } else {
        why = "Content-Type must be text/csv or application/x-ndjson";
        return std::nullopt;
      }
      continue;
    }
    if (absl::StartsWith(piece, "charset=")) {
      std::string value = piece.substr(8);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      charset = value;
    }
  }
  if (first) {
    why = "Content-Type is required: text/csv or application/x-ndjson";
    return std::nullopt;
  }
  if (charset.has_value()) {
    if (*charset == "utf-8" || *charset == "utf8") {
      options.charset = Charset::kUtf8;
    } else if (options.kind == FileKind::kCsv &&
               (*charset == "windows-1252" || *charset == "cp1252" || *charset == "iso-8859-1" ||
                *charset == "latin1" || *charset == "iso8859-1" || *charset == "us-ascii")) {
      options.charset = Charset::kWindows1252;
    } else {
      why = options.kind == FileKind::kCsv
                ? "charset must be utf-8, windows-1252 or iso-8859-1"
                : "JSON Lines must be utf-8";
      return std::nullopt;
    }
  }
  return options;
}

}  // namespace

void ImportHttpHandler::Handle(const services::HttpRequest& request,
                               services::HttpResponse* response) {
  std::string_view target = request.target();
  target = target.substr(0, target.find('?'));
  if (target != kImportPath) return Error(404, "no such resource; POST files to " +
                                                   std::string(kImportPath), response);
  if (request.method() != "POST") {
    response->headers.emplace_back("Allow", "POST");
    return Error(405, "use POST", response);
  }
  std::string why;
  std::optional<ReaderOptions> options = ParseContentType(request.header("Content-Type"), why);
  if (!options.has_value()) return Error(415, why, response);
  if (request.body().empty()) return Error(400, "the body is empty: send the file", response);

  const ImportReport report = importer_->Import(request.body(), *options);
  response->status = report.complete() ? 200 : 503;
  if (!report.complete()) response->headers.emplace_back("Retry-After", "10");
  response->content_type = "application/json";
  response->body = ResultsJson(report);
  LOG_INFO("municipal.http.imported")
      .Kv("lines", report.lines.size())
      .Kv("accepted", report.accepted)
      .Kv("already_imported", report.already_imported)
      .Kv("rejected", report.rejected)
      .Kv("not_processed", report.not_processed);
}

void ImportHttpHandler::RenderServerError(int status, std::string_view diagnostic,
                                          services::HttpResponse* response) {
  Error(status, diagnostic, response);
}

}  // namespace carehub::municipal
