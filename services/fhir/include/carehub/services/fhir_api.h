// FhirApi: the FHIR R4 REST API over the read model, as an HttpHandler for HttpServer. Base
// /fhir; JSON only (application/fhir+json, application/json, _format=json; anything else 406);
// read-only: read, vread, instance and type history, search by GET and POST _search,
// Patient/$everything, and the CapabilityStatement at /fhir/metadata, generated from the same
// tables the router and the Searcher use. GET /health (outside /fhir) reports whether the
// projector has caught up with the log.
//
//   FhirApi api(read_model.get(), {.health = [&] { return ...; }});
//   HttpServer server(&api, {.address = "127.0.0.1:8080"});
//   ASSIGN_OR_RETURN(int port, server.Start());
//
// HTTP semantics:
//   - read/vread answer the stored bytes as they are (one RocksDB Get, no JSON parse) unless
//     _pretty, _summary or _elements ask for a re-serialisation; ETag W/"<versionId>" and
//     Last-Modified; If-None-Match and If-Modified-Since answer 304.
//   - Every error body is an OperationOutcome: 400 malformed request or search parameter (unknown
//     search parameters are ignored and reported unless `Prefer: handling=strict`), 404 unknown
//     type, id, version or route, 405 writes and other unsupported interactions (with Allow),
//     406 unserved formats, 410 an expired page cursor, 415 a POST _search that is not a form.
//     A 500 means the read model failed, never something the client sent.
//
// Thread-safety: thread-safe; Handle is called concurrently from the server's threads.
#ifndef CAREHUB_SERVICES_FHIR_API_H_
#define CAREHUB_SERVICES_FHIR_API_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "carehub/base/clock.h"
#include "carehub/fhir/read_model.h"
#include "carehub/fhir/search.h"
#include "carehub/services/http_server.h"

namespace carehub::services {

// Whether the read model has caught up with the log, for GET /health.
struct FhirHealth {
  bool ready = false;
  uint64_t checkpoint = 0;           // the projector's next position
  std::optional<uint64_t> log_end;   // the log's next position (head + 1), if known
  std::string detail;                // why not ready ("" when ready)
};

class FhirApi : public HttpHandler {
 public:
  struct Options {
    // Absolute base URL for fullUrl and Bundle links, e.g. "https://fhir.region.se/fhir".
    // Empty: "http://<Host header>/fhir".
    std::string base_url;
    std::string software_version = "0.1.0";
    // GET /health; when unset the API reports ready.
    std::function<FhirHealth()> health;
    // Search paging.
    size_t default_count = 50;
    size_t max_count = 1000;
    fhir::Searcher::Options searcher;
    // The CapabilityStatement's date is the time the API was created. Not owned.
    Clock* clock = Clock::Real();
  };

  // `model` is not owned and must outlive the API.
  FhirApi(const fhir::ReadModel* model, Options options);
  ~FhirApi() override;
  FhirApi(const FhirApi&) = delete;
  FhirApi& operator=(const FhirApi&) = delete;

  void Handle(const HttpRequest& request, HttpResponse* response) override;
  void RenderServerError(int status, std::string_view diagnostic,
                         HttpResponse* response) override;

 private:
  struct Call;
  void Route(Call& call);
  void HandleHealth(Call& call);
  void HandleMetadata(Call& call);
  void HandleRead(Call& call, std::string_view type, std::string_view id,
                  std::optional<uint64_t> version);
  void HandleSearch(Call& call, std::string_view type, bool post);
  void HandleHistory(Call& call, std::string_view type, std::string_view id);
  void HandleEverything(Call& call, std::string_view id);

  const fhir::ReadModel* const model_;
  const Options options_;
  const std::string started_at_;
  std::unique_ptr<fhir::Searcher> searcher_;
};

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_FHIR_API_H_
