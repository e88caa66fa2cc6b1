// ImportHttpHandler: the HTTP way in (FORMAT.md, "Two ways in"), as an HttpHandler for
// carehub's HttpServer (services/fhir/include/carehub/services/http_server.h).
//
//   ImportHttpHandler handler(&importer);
//   HttpServer server(&handler, {.address = "127.0.0.1:8090", .max_body_bytes = 64 << 20});
//
//   POST /municipal/v1/import
//   Content-Type: text/csv; charset=windows-1252      (or application/x-ndjson, application/jsonl)
//   -> 200 {"format":"carehub-municipal/1","lines":..,"accepted":..,...,"results":[...]}
//   -> 503 with the same body when a line could not be delivered (send the file again)
//   -> 400 empty body; 404 other path; 405 other method; 415 other content type or charset;
//      413 from the server when the body is over its max_body_bytes.
//
// A CSV body without a charset parameter is read as UTF-8 if it is valid UTF-8, else as
// Windows-1252. The import runs on the server's thread (it blocks until every line has a result),
// so give the server a few threads per concurrent sender.
//
// Thread-safe.
#ifndef CAREHUB_MUNICIPAL_IMPORT_HTTP_H_
#define CAREHUB_MUNICIPAL_IMPORT_HTTP_H_

#include "carehub/municipal/importer.h"
#include "carehub/services/http_server.h"

namespace carehub::municipal {

inline constexpr char kImportPath[] = "/municipal/v1/import";

class ImportHttpHandler : public services::HttpHandler {
 public:
  // `importer` is not owned and must outlive the handler.
  explicit ImportHttpHandler(const Importer* importer) : importer_(importer) {}

  void Handle(const services::HttpRequest& request, services::HttpResponse* response) override;
  void RenderServerError(int status, std::string_view diagnostic,
                         services::HttpResponse* response) override;

 private:
  const Importer* const importer_;
};

}  // namespace carehub::municipal

#endif  // CAREHUB_MUNICIPAL_IMPORT_HTTP_H_
