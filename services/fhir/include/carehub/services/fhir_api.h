// FhirApi: the FHIR R4 REST API over the read model, as an HttpHandler for HttpServer. Base
// /fhir; JSON only (application/fhir+json, application/json, _format=json; anything else 406);
// read-only: read, vread, instance and type history, search by GET and POST _search,
// Patient/$everything, and the CapabilityStatement at /fhir/metadata, generated from the same
// tables the router and the Searcher use. GET /health (outside /fhir) reports whether the
// projector has caught up with the log.
//
// Access logging (when Options.access_log is set): every read, vread, history, search and
// $everything, AuditEvent reads included, is recorded in the access log before its response is
// sent: who asked, from the request headers
//   X-Carehub-User          the user's HSA-id
//   X-Carehub-Organization  the organisation's HSA-id
//   X-Carehub-Care-Unit     the care unit's HSA-id
// (all absent: anonymous; a value that is not an HSA-id: 400), the interaction, the patients and
// resources of the response, and the status. The append is asynchronous (HandleAsync): no I/O
// thread waits for the fsync, which concurrent requests share. A request whose entry cannot be
// made durable is not served: 503 with an OperationOutcome. The access log is also served, as
// AuditEvent: read by id and search by patient, agent and date (internal/audit_event_search.h).
//
// Disclosure: a request that is not anonymous sees another data owner's (or care unit's) record
// (Encounter, Observation, Flag, and the Provenances that name them) only as the patient's
// consents and blocks allow (internal/disclosure.h); what it may not see is 403 on read, vread
// and instance history, and left out of Bundles with an outcome entry that says so.
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
#include <vector>

#include "carehub/audit/access_log.h"
#include "carehub/base/clock.h"
#include "carehub/fhir/read_model.h"
#include "carehub/fhir/search.h"
#include "carehub/services/http_server.h"

namespace carehub::services {

namespace fhir_api {
enum class Verdict;  // internal/disclosure.h
}  // namespace fhir_api

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
    // Where accesses are recorded and AuditEvents read from. Not owned; must outlive the API.
    // nullptr: nothing is recorded and AuditEvent is not served.
    audit::AccessLog* access_log = nullptr;
  };

  // `model` is not owned and must outlive the API.
  FhirApi(const fhir::ReadModel* model, Options options);
  ~FhirApi() override;
  FhirApi(const FhirApi&) = delete;
  FhirApi& operator=(const FhirApi&) = delete;

  // Waits for the access-log entry; HttpServer calls HandleAsync instead.
  void Handle(const HttpRequest& request, HttpResponse* response) override;
  void HandleAsync(const HttpRequest& request, HttpResponse* response,
                   std::function<void()> done) override;
  void RenderServerError(int status, std::string_view diagnostic,
                         HttpResponse* response) override;

 private:
  struct Call;
  void Serve(Call& call);
  void Route(Call& call);
  void HandleHealth(Call& call);
  void HandleMetadata(Call& call);
  void HandleRead(Call& call, std::string_view type, std::string_view id,
                  std::optional<uint64_t> version);
  void HandleSearch(Call& call, std::string_view type, bool post);
  void HandleHistory(Call& call, std::string_view type, std::string_view id);
  void HandleEverything(Call& call, std::string_view id);
  // Whether the asking organisation may see `json` (internal/disclosure.h: another data owner's
  // record needs the patient's consent and no block); when not, notes why in the call.
  absl::StatusOr<bool> Disclosed(Call& call, std::string_view json);
  // The verdict on `json`; when it is withheld, `reason` says why (internal/disclosure.h).
  absl::StatusOr<fhir_api::Verdict> Judge(Call& call, std::string_view json, std::string* reason);
  absl::StatusOr<fhir_api::Verdict> JudgeProvenance(Call& call, std::string_view json,
                                                    std::string* reason);
  // Drops from `page` what the asking organisation may not see, and a total that may count it
  // (`may_withhold`: the search can match owned records, on other pages too).
  absl::Status Withhold(Call& call, fhir::SearchPage& page, bool may_withhold);
  // _summary=count of what the asking organisation may see; nullopt when too many to read.
  absl::StatusOr<std::optional<uint64_t>> CountDisclosed(Call& call, std::string_view type);
  // fhir_api_audit.cc: AuditEvent over the access log.
  void RouteAuditEvent(Call& call, const std::vector<std::string_view>& segments);
  void HandleAuditEventRead(Call& call, std::string_view id);
  void HandleAuditEventSearch(Call& call, bool post);

  const fhir::ReadModel* const model_;
  const Options options_;
  const std::string started_at_;
  std::unique_ptr<fhir::Searcher> searcher_;
};

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_FHIR_API_H_
