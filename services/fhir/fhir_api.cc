// Routing of the FHIR REST API (http://hl7.org/fhir/R4/http.html):
//   /health                                GET   projector caught up with the log?
//   /fhir/metadata                         GET   CapabilityStatement
//   /fhir/<type>                           GET   search-type          (POST: create -> 405)
//   /fhir/<type>/_search                   POST  search-type, form body
//   /fhir/<type>/_history                  GET   history-type
//   /fhir/<type>/<id>                      GET   read                 (PUT/PATCH/DELETE -> 405)
//   /fhir/<type>/<id>/_history             GET   history-instance
//   /fhir/<type>/<id>/_history/<vid>       GET   vread
//   /fhir/Patient/<id>/$everything         GET   operation
//   /fhir/AuditEvent[/_search], /<id>      GET   the access log, when one is configured
// Anything else under /fhir is 404 or 405; outside /fhir and /health, 404.
#include "carehub/services/fhir_api.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "carehub/audit/audit_event.h"
#include "carehub/base/log.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "carehub/base/text.h"
#include "carehub/fhir/resource_facts.h"
#include "nlohmann/json.hpp"
#include "services/fhir/internal/audit_event_search.h"
#include "services/fhir/internal/bundle.h"
#include "services/fhir/internal/capability.h"
#include "services/fhir/internal/disclosure.h"
#include "services/fhir/internal/outcome.h"
#include "services/fhir/internal/request_text.h"
#include "services/fhir/internal/subset.h"

namespace carehub::services {

using fhir_api::Interaction;

// One request on its way through the router.
struct FhirApi::Call {
  const HttpRequest& request;
  HttpResponse& response;
  std::string_view path;
  std::string_view query;
  fhir::SearchParams params;  // decoded query, without _format and _pretty
  std::string content_type;   // negotiated
  std::string base_url;
  bool pretty = false;
  // Set by the handlers that read patient data: what the access log records.
  std::optional<audit::AccessEntry> access;
  bool logging_access = false;  // an access log is configured: Holds() records what it is given
  // Who asks (X-Carehub-Organization, X-Carehub-Care-Unit): what of a data owner's record it may
  // see is decided by Disclosed(). Not checked for an anonymous request (none of the three agent
  // headers).
  fhir_api::Reader reader;
  bool checked = false;
  // The consents and blocks of the patients this response has needed, by FHIR Patient id.
  absl::flat_hash_map<std::string, fhir_api::PatientDisclosure> disclosures;
  // Why resources were withheld, and how many for each reason.
  std::map<std::string, size_t> withheld;

  // The withheld resources as OperationOutcome issues.
  std::vector<fhir_api::Issue> WithheldIssues() const {
    std::vector<fhir_api::Issue> issues;
    for (const auto& [reason, n] : withheld) {
      issues.push_back({"warning", "suppressed",
                        absl::StrCat(n, n == 1 ? " resource " : " resources ", reason)});
    }
    return issues;
  }

  void Access(Interaction interaction, std::string_view type) {
    access.emplace();
    access->interaction = std::string(fhir_api::InteractionCode(interaction));
    access->resource_type = std::string(type);
  }
  // A resource the response holds, and the patients it names.
  void Holds(std::string_view json) {
    if (!logging_access || !access.has_value()) return;
    fhir::ResourceFacts facts;
    if (!fhir::ScanResource(json, &facts)) return;
    Holds(json, facts);
  }
  void Holds(std::string_view json, const fhir::ResourceFacts& facts) {
    if (!logging_access || !access.has_value()) return;
    uint64_t version = 0;
    if (!absl::SimpleAtoi(Sv(facts.version_id), &version)) version = 0;
    access->resources.push_back(
        {std::string(facts.resource_type), std::string(facts.id), version});
    audit::PatientsReferencedBy(facts.resource_type, facts.id, json, &access->patients);
  }
  void Holds(const fhir::SearchPage& page) {
    for (const std::string& json : page.matches) Holds(json);
    for (const std::string& json : page.includes) Holds(json);
  }

  std::optional<std::string> Param(std::string_view name) const {
    for (const auto& [n, v] : params) {
      if (n == name) return v;
    }
    return std::nullopt;
  }

  void Error(int status, std::string_view diagnostic) {
    response.status = status;
    response.content_type =
        content_type.empty() ? "application/fhir+json;charset=utf-8" : content_type;
    response.body = fhir_api::OperationOutcomeJson(
        status >= 500 ? "fatal" : "error", fhir_api::IssueCodeForStatus(status), diagnostic);
    if (pretty) response.body = fhir_api::Prettify(response.body);
  }

  // A Searcher or parser error: its message is the diagnostic, except for a failure of the read
  // model, which is logged and not shown (it says nothing about the request).
  void Fail(const absl::Status& status, int http_status) {
    if (http_status >= 500) {
      LOG_ERROR("fhir_api.failed")
          .Kv("code", absl::StatusCodeToString(status.code()))
          .Kv("message", std::string(status.message()));
      return Error(http_status, "the read model failed; see the server log");
    }
    Error(http_status, std::string(status.message()));
  }

  void NotSupported(Interaction interaction, std::string_view allow, std::string_view what) {
    response.headers.emplace_back("Allow", std::string(allow));
    Error(405, absl::StrCat(Sv(request.method()), " ", Sv(what), " (",
                            Sv(fhir_api::InteractionCode(interaction)),
                            ") is not supported: this API is read-only; allowed: ", Sv(allow)));
  }

  // POST [type]/_search: the form's parameters join the URL's (_format and _pretty count only in
  // the URL). False, with the call answered 415 or 400, if the body is not such a form.
  bool TakeSearchForm(std::string_view type) {
    const std::string_view sent = request.header("Content-Type");
    if (!absl::StartsWithIgnoreCase(Sv(sent), "application/x-www-form-urlencoded")) {
      Error(415, absl::StrCat("POST ", Sv(type), "/_search takes an "
                              "application/x-www-form-urlencoded body, not '", Sv(sent), "'"));
      return false;
    }
    absl::StatusOr<fhir::SearchParams> form = fhir_api::ParseQuery(request.body());
    if (!form.ok()) {
      Fail(form.status(), 400);
      return false;
    }
    for (auto& [name, value] : *form) {
      if (name != "_format" && name != "_pretty") {
        params.emplace_back(std::move(name), std::move(value));
      }
    }
    return true;
  }

  void Ok(std::string body) {
    response.status = 200;
    response.content_type = content_type;
    response.body = pretty ? fhir_api::Prettify(body) : std::move(body);
  }
};

namespace {

constexpr std::string_view kBase = "/fhir";

// http://hl7.org/fhir/R4/datatypes.html#id
bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return true;
}

// A Host header fit to be echoed into links: host, IPv4, [IPv6], optional port.
bool ValidHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != ':' &&
        c != '[' && c != ']') {
      return false;
    }
  }
  return true;
}

int StatusFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kFailedPrecondition: return 410;
    case absl::StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

bool IsStrict(std::string_view prefer) {
  for (absl::string_view part : absl::StrSplit(Sv(prefer), absl::ByAnyChar(",;"))) {
    if (absl::StripAsciiWhitespace(part) == "handling=strict") return true;
  }
  return false;
}

// The strictness and paging of a Bundle-answering request: search, history, $everything.
fhir::SearchOptions SearchOptionsFor(const HttpRequest& request, const FhirApi::Options& options) {
  return {.strict = IsStrict(request.header("Prefer")),
          .default_count = options.default_count,
          .max_count = options.max_count};
}

// Whether a search or history of `type` can hold what a reader may be refused: owned records, or
// the Provenances that name them.
bool MayHoldOwnedRecords(std::string_view type) {
  return fhir::HoldsOwnersCare(type) || type == "Provenance";
}

// If-None-Match: "*", or a list of entity tags, weak or strong (weak comparison, RFC 7232 2.3.2).
bool EtagMatches(std::string_view if_none_match, std::string_view version_id) {
  for (absl::string_view tag : absl::StrSplit(Sv(if_none_match), ',')) {
    tag = absl::StripAsciiWhitespace(tag);
    if (tag == "*") return true;
    if (absl::StartsWith(tag, "W/")) tag.remove_prefix(2);
    if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') {
      tag = tag.substr(1, tag.size() - 2);
    }
    if (tag == Sv(version_id)) return true;
  }
  return false;
}

}  // namespace

FhirApi::FhirApi(const fhir::ReadModel* model, Options options)
    : model_(model),
      options_(std::move(options)),
      started_at_(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", options_.clock->Now(),
                                   absl::UTCTimeZone())),
      searcher_(std::make_unique<fhir::Searcher>(model, options_.searcher)) {}

FhirApi::~FhirApi() = default;

void FhirApi::RenderServerError(int status, std::string_view diagnostic, HttpResponse* response) {
  response->status = status;
  response->content_type = "application/fhir+json;charset=utf-8";
  response->body = fhir_api::OperationOutcomeJson("error", fhir_api::IssueCodeForStatus(status),
                                                  diagnostic);
}

void FhirApi::Handle(const HttpRequest& request, HttpResponse* response) {
  absl::Notification done;
  HandleAsync(request, response, [&done] { done.Notify(); });
  done.WaitForNotification();
}

namespace {

// HSA-ids: "SE" + organisation number + "-" + a local part; checked loosely, as the letters and
// digits they are made of, because their exact form differs between issuers.
bool ValidHsaId(std::string_view id) {
  if (id.size() < 3 || id.size() > 64) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

}  // namespace

void FhirApi::HandleAsync(const HttpRequest& request, HttpResponse* response,
                          std::function<void()> done) {
  const std::string_view target = request.target();
  const size_t q = target.find('?');
  Call call{.request = request,
            .response = *response,
            .path = target.substr(0, q),
            .query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1),
            .logging_access = options_.access_log != nullptr};
  Serve(call);
  if (!call.access.has_value() || options_.access_log == nullptr) return done();
  audit::AccessEntry& entry = *call.access;
  entry.agent = {.user_hsa_id = std::string(request.header("X-Carehub-User")),
                 .organization_hsa_id = std::string(request.header("X-Carehub-Organization")),
                 .care_unit_hsa_id = std::string(request.header("X-Carehub-Care-Unit"))};
  entry.status = response->status;
  options_.access_log->RecordAsync(std::move(entry), [response, done = std::move(done)](absl::StatusOr<uint64_t> position) {
    if (!position.ok()) {
      // Not logged, not served: what the response held must not leave the hub unrecorded.
      LOG_ERROR("fhir_api.access_log_failed")
          .Kv("code", absl::StatusCodeToString(position.status().code()))
          .Kv("message", std::string(position.status().message()));
      *response = HttpResponse();
      response->status = 503;
      response->content_type = "application/fhir+json;charset=utf-8";
      response->body = fhir_api::OperationOutcomeJson(
          "fatal", fhir_api::IssueCodeForStatus(503),
          "the access could not be recorded in the access log, so it is not served; retry later");
    }
    done();
  });
}

void FhirApi::Serve(Call& call) {
  const HttpRequest& request = call.request;
  if (call.path == "/health") return HandleHealth(call);
  if (call.path != kBase && !absl::StartsWith(Sv(call.path), absl::StrCat(Sv(kBase), "/"))) {
    return call.Error(404, absl::StrCat("nothing is served at ", Sv(call.path),
                                        "; the FHIR base is ", Sv(kBase)));
  }
  absl::StatusOr<fhir::SearchParams> params = fhir_api::ParseQuery(call.query);
  if (!params.ok()) return call.Fail(params.status(), 400);
  std::optional<std::string> format;
  for (auto& [name, value] : *params) {
    if (name == "_format") {
      format = value;
    } else if (name == "_pretty") {
      call.pretty = value == "true";
    } else {
      call.params.emplace_back(std::move(name), std::move(value));
    }
  }
  fhir_api::Negotiation negotiation = fhir_api::Negotiate(request.header("Accept"), format);
  if (!negotiation.acceptable) return call.Error(406, negotiation.diagnostic);
  call.content_type = std::move(negotiation.content_type);
  for (const char* name : {"X-Carehub-User", "X-Carehub-Organization", "X-Carehub-Care-Unit"}) {
    const std::string_view value = request.header(name);
    if (!value.empty() && !ValidHsaId(value)) {
      return call.Error(400, absl::StrCat(name, " is not an HSA-id (letters, digits and '-')"));
    }
  }
  std::string_view host = request.header("Host");
  call.reader = {.organization = request.header("X-Carehub-Organization"),
                 .unit = request.header("X-Carehub-Care-Unit")};
  call.checked = !call.reader.organization.empty() || !call.reader.unit.empty() ||
                 !request.header("X-Carehub-User").empty();
  call.base_url = !options_.base_url.empty() ? options_.base_url
                  : ValidHost(host)          ? absl::StrCat("http://", Sv(host), Sv(kBase))
                                             : absl::StrCat("http://localhost", Sv(kBase));
  Route(call);
}

void FhirApi::Route(Call& call) {
  std::vector<std::string_view> segments;
  for (absl::string_view s : absl::StrSplit(Sv(call.path.substr(kBase.size())), '/')) {
    if (!s.empty()) segments.emplace_back(s.data(), s.size());
  }
  const std::string_view method = call.request.method();
  const bool get = method == "GET";
  const bool post = method == "POST";
  if (segments.empty()) {
    return call.NotSupported(post ? Interaction::kTransaction : Interaction::kSearchSystem,
                             "none", "/fhir");
  }
  const std::string_view first = segments[0];
  if (first == "AuditEvent" && options_.access_log != nullptr) return RouteAuditEvent(call, segments);
  if (segments.size() == 1 && first == "metadata") {
    if (!get) return call.NotSupported(Interaction::kCreate, "GET", "/fhir/metadata");
    return HandleMetadata(call);
  }
  if (first == "_history") return call.NotSupported(Interaction::kHistorySystem, "none", "/fhir/_history");
  if (first == "_search" || first[0] == '$') {
    return call.Error(404, absl::StrCat("system-level ", Sv(first), " is not supported"));
  }
  const fhir::ResourceSearchDef* def = fhir::FindSearchDefinition(first);
  if (def == nullptr) {
    return call.Error(404, absl::StrCat("resource type '", Sv(first),
                                        "' is not served; /fhir/metadata lists those that are"));
  }
  const std::string_view type = def->type;
  if (segments.size() == 1) {
    if (get) return HandleSearch(call, type, false);
    return call.NotSupported(post ? Interaction::kCreate : Interaction::kUpdate, "GET",
                             absl::StrCat(Sv(type)));
  }
  const std::string_view second = segments[1];
  if (segments.size() == 2 && second == "_search") {
    if (get || post) return HandleSearch(call, type, post);
    return call.NotSupported(Interaction::kSearchType, "GET, POST", absl::StrCat(Sv(type), "/_search"));
  }
  if (segments.size() == 2 && second == "_history") {
    if (get) return HandleHistory(call, type, "");
    return call.NotSupported(Interaction::kHistoryType, "GET", absl::StrCat(Sv(type), "/_history"));
  }
  if (second[0] == '$') {
    return call.Error(404, absl::StrCat("operation ", Sv(type), "/", Sv(second),
                                        " is not supported"));
  }
  if (!ValidId(second)) {
    return call.Error(400, absl::StrCat("'", Sv(second), "' is not a valid FHIR id "
                                        "([A-Za-z0-9.-], 1 to 64 characters)"));
  }
  const std::string instance = absl::StrCat(Sv(type), "/", Sv(second));
  if (segments.size() == 2) {
    if (get) return HandleRead(call, type, second, std::nullopt);
    const Interaction i = method == "PUT"     ? Interaction::kUpdate
                          : method == "PATCH" ? Interaction::kPatch
                          : method == "DELETE" ? Interaction::kDelete
                                               : Interaction::kCreate;
    return call.NotSupported(i, "GET", instance);
  }
  const std::string_view third = segments[2];
  if (third == "_history" && segments.size() <= 4) {
    if (!get) return call.NotSupported(Interaction::kUpdate, "GET", call.path);
    if (segments.size() == 3) return HandleHistory(call, type, second);
    uint64_t version = 0;
    if (!absl::SimpleAtoi(Sv(segments[3]), &version) || version == 0) {
      return call.Error(400, absl::StrCat("version '", Sv(segments[3]),
                                          "' is not a versionId (1, 2, ...)"));
    }
    return HandleRead(call, type, second, version);
  }
  if (segments.size() == 3 && fhir_api::OperationSupported(type, third)) {
    if (!get) {
      return call.NotSupported(Interaction::kCreate, "GET",
                               absl::StrCat(instance, "/", Sv(third)));
    }
    return HandleEverything(call, second);
  }
  if (segments.size() == 3 && third[0] == '$') {
    return call.Error(404, absl::StrCat("operation ", instance, "/", Sv(third), " is not supported"));
  }
  call.Error(404, absl::StrCat("nothing is served at ", Sv(call.path)));
}

void FhirApi::HandleHealth(Call& call) {
  FhirHealth health;
  if (options_.health) {
    health = options_.health();
  } else {
    health.ready = true;
  }
  std::string body = absl::StrCat(R"({"status":")", health.ready ? "ready" : "catching-up",
                                  R"(","checkpoint":)", health.checkpoint);
  if (health.log_end.has_value()) absl::StrAppend(&body, R"(,"log_end":)", *health.log_end);
  if (!health.detail.empty()) {
    absl::StrAppend(&body, R"(,"detail":)", JsonQuote(health.detail));
  }
  body.append("}\n");
  call.response.status = health.ready ? 200 : 503;
  call.response.content_type = "application/json";
  call.response.body = std::move(body);
  call.response.headers.emplace_back("Cache-Control", "no-store");
}

void FhirApi::HandleMetadata(Call& call) {
  call.Ok(fhir_api::CapabilityStatementJson({.base_url = call.base_url,
                                             .software_version = options_.software_version,
                                             .date = started_at_,
                                             .audit_events = options_.access_log != nullptr}));
}

void FhirApi::HandleRead(Call& call, std::string_view type, std::string_view id,
                         std::optional<uint64_t> version) {
  if (!fhir_api::InteractionSupported(version ? Interaction::kVread : Interaction::kRead)) {
    return call.NotSupported(version ? Interaction::kVread : Interaction::kRead, "none", type);
  }
  call.Access(version ? Interaction::kVread : Interaction::kRead, type);
  absl::StatusOr<std::string> json =
      version ? model_->VRead(type, id, *version) : model_->Read(type, id);
  if (!json.ok()) {
    if (absl::IsNotFound(json.status())) {
      if (version && model_->Read(type, id).ok()) {
        return call.Error(404, absl::StrCat(Sv(type), "/", Sv(id), " has no version ", *version));
      }
      return call.Error(404, absl::StrCat(Sv(type), "/", Sv(id), " is not known"));
    }
    return call.Fail(json.status(), 500);
  }
  // Before any answer that would confirm the version (304) or the content.
  absl::StatusOr<bool> shown = Disclosed(call, *json);
  if (!shown.ok()) return call.Fail(shown.status(), 500);
  if (!*shown) return call.Error(403, call.withheld.begin()->first);
  fhir::ResourceFacts facts;
  fhir::ScanResource(*json, &facts);
  call.Holds(*json, facts);
  HttpResponse& response = call.response;
  std::optional<absl::Time> last_updated = fhir_api::ParseInstant(facts.last_updated);
  if (!facts.version_id.empty()) {
    response.headers.emplace_back("ETag", absl::StrCat("W/\"", Sv(facts.version_id), "\""));
  }
  if (last_updated.has_value()) {
    response.headers.emplace_back("Last-Modified", fhir_api::HttpDate(*last_updated));
  }
  // RFC 7232 6: If-None-Match wins over If-Modified-Since when both are sent.
  const std::string_view if_none_match = call.request.header("If-None-Match");
  bool not_modified = false;
  if (!if_none_match.empty()) {
    not_modified = EtagMatches(if_none_match, facts.version_id);
  } else if (std::string_view since = call.request.header("If-Modified-Since"); !since.empty()) {
    std::optional<absl::Time> t = fhir_api::ParseHttpDate(since);
    // HTTP dates have whole seconds: compare the resource's time truncated to its second.
    not_modified = t.has_value() && last_updated.has_value() &&
                   absl::FromUnixSeconds(absl::ToUnixSeconds(*last_updated)) <= *t;
  }
  if (not_modified) {
    response.status = 304;
    return;
  }
  absl::StatusOr<fhir_api::SubsetSpec> spec =
      fhir_api::ParseSubset(call.Param("_summary"), call.Param("_elements"));
  if (!spec.ok()) return call.Fail(spec.status(), 400);
  response.status = 200;
  response.content_type = call.content_type;
  if (spec->subsetting() || call.pretty) {
    response.body = fhir_api::RenderResource(*json, *spec, call.pretty);
  } else {
    response.body = *std::move(json);  // the stored bytes, as they are
  }
}

void FhirApi::HandleSearch(Call& call, std::string_view type, bool post) {
  call.Access(Interaction::kSearchType, type);
  if (post && !call.TakeSearchForm(type)) return;
  absl::StatusOr<fhir_api::SubsetSpec> spec =
      fhir_api::ParseSubset(call.Param("_summary"), call.Param("_elements"));
  if (!spec.ok()) return call.Fail(spec.status(), 400);
  absl::StatusOr<fhir::SearchPage> page =
      searcher_->Search(type, call.params, SearchOptionsFor(call.request, options_));
  if (!page.ok()) return call.Fail(page.status(), StatusFor(page.status()));
  const bool may_withhold = MayHoldOwnedRecords(type);
  if (absl::Status s = Withhold(call, *page, may_withhold); !s.ok()) return call.Fail(s, 500);
  if (call.checked && may_withhold && call.Param("_summary") == "count") {
    absl::StatusOr<std::optional<uint64_t>> count = CountDisclosed(call, type);
    if (!count.ok()) return call.Fail(count.status(), StatusFor(count.status()));
    page->total = *count;
  }
  call.Holds(*page);
  call.Ok(fhir_api::RenderSearchBundle(
      *page, {.base_url = call.base_url, .path = type, .issues = call.WithheldIssues()}, *spec));
}

void FhirApi::HandleHistory(Call& call, std::string_view type, std::string_view id) {
  call.Access(id.empty() ? Interaction::kHistoryType : Interaction::kHistoryInstance, type);
  absl::StatusOr<fhir_api::SubsetSpec> spec =
      fhir_api::ParseSubset(call.Param("_summary"), call.Param("_elements"));
  if (!spec.ok()) return call.Fail(spec.status(), 400);
  absl::StatusOr<fhir::SearchPage> page =
      searcher_->History(type, id, call.params, SearchOptionsFor(call.request, options_));
  if (!page.ok()) return call.Fail(page.status(), StatusFor(page.status()));
  if (absl::Status s = Withhold(call, *page, id.empty() && MayHoldOwnedRecords(type)); !s.ok()) {
    return call.Fail(s, 500);
  }
  // One resource's versions have one owner: withheld, its history is refused like a read. (A
  // history Bundle has no place for an outcome entry.)
  if (!id.empty() && !call.withheld.empty()) return call.Error(403, call.withheld.begin()->first);
  call.Holds(*page);
  const std::string path = id.empty() ? absl::StrCat(Sv(type), "/_history")
                                      : absl::StrCat(Sv(type), "/", Sv(id), "/_history");
  call.Ok(fhir_api::RenderHistoryBundle(*page, {.base_url = call.base_url, .path = path}, *spec));
}

void FhirApi::HandleEverything(Call& call, std::string_view id) {
  call.Access(Interaction::kOperation, "Patient");
  call.access->operation = "everything";
  // Asking for the patient's everything is an access to that patient, whatever the outcome.
  call.access->patients.emplace_back(id);
  absl::StatusOr<fhir_api::SubsetSpec> spec =
      fhir_api::ParseSubset(call.Param("_summary"), call.Param("_elements"));
  if (!spec.ok()) return call.Fail(spec.status(), 400);
  absl::StatusOr<fhir::SearchPage> page =
      searcher_->Everything(id, call.params, SearchOptionsFor(call.request, options_));
  if (!page.ok()) return call.Fail(page.status(), StatusFor(page.status()));
  if (absl::Status s = Withhold(call, *page, true); !s.ok()) return call.Fail(s, 500);
  call.Holds(*page);
  const std::string path = absl::StrCat("Patient/", Sv(id), "/$everything");
  call.Ok(fhir_api::RenderSearchBundle(
      *page, {.base_url = call.base_url, .path = path, .issues = call.WithheldIssues()}, *spec));
}

absl::StatusOr<bool> FhirApi::Disclosed(Call& call, std::string_view json) {
  if (!call.checked) return true;
  std::string reason;
  ASSIGN_OR_RETURN(fhir_api::Verdict verdict, Judge(call, json, &reason));
  if (verdict == fhir_api::Verdict::kShown) return true;
  ++call.withheld[reason];
  return false;
}

absl::StatusOr<fhir_api::Verdict> FhirApi::Judge(Call& call, std::string_view json,
                                                 std::string* reason) {
  fhir::ResourceFacts facts;
  fhir::ScanResource(json, &facts);
  const fhir::DataOwner owner = fhir::DataOwnerOf(json);  // views into `json`
  if (owner.organization.empty()) {
    // A Provenance says who changed what, when and from which message: it is withheld with the
    // first of its targets that is.
    if (facts.resource_type == "Provenance") return JudgeProvenance(call, json, reason);
    return fhir_api::Verdict::kShown;
  }
  const fhir_api::Reader& reader = call.reader;
  // The keeper's own record: no consents to read.
  if (fhir_api::KeepsRecord(reader, owner)) return fhir_api::Verdict::kShown;
  std::vector<std::string> patients;
  audit::PatientsReferencedBy(facts.resource_type, facts.id, json, &patients);
  // An owned resource names its patient; one that does not cannot be checked and is not shown.
  if (patients.empty()) {
    *reason = fhir_api::WithheldReason(fhir_api::Verdict::kNoConsent, owner, reader);
    return fhir_api::Verdict::kNoConsent;
  }
  for (const std::string& patient : patients) {
    auto known = call.disclosures.find(patient);
    if (known == call.disclosures.end()) {
      // The patient's Consent resources, all of them (a block missed would show what it closes).
      absl::StatusOr<fhir::SearchPage> consents = searcher_->Search(
          "Consent",
          {{"patient", absl::StrCat("Patient/", patient)},
           {"_count", std::to_string(options_.max_count)}},
          {.default_count = options_.max_count, .max_count = options_.max_count});
      if (!consents.ok()) return consents.status();
      known = call.disclosures
                  .emplace(patient, fhir_api::PatientDisclosure::FromConsents(
                                        consents->matches, options_.clock->Now(),
                                        /*complete=*/consents->next_params.empty()))
                  .first;
    }
    const fhir_api::Verdict verdict = known->second.Check(owner, reader);
    if (verdict != fhir_api::Verdict::kShown) {
      *reason = fhir_api::WithheldReason(verdict, owner, reader);
      return verdict;
    }
  }
  return fhir_api::Verdict::kShown;
}

absl::StatusOr<fhir_api::Verdict> FhirApi::JudgeProvenance(Call& call, std::string_view json,
                                                           std::string* reason) {
  const nlohmann::json provenance = nlohmann::json::parse(json, nullptr, false);
  if (!provenance.is_object()) return absl::DataLossError("a stored Provenance does not parse");
  for (const nlohmann::json& target : provenance.value("target", nlohmann::json::array())) {
    const std::string reference = target.is_object() ? target.value("reference", "") : "";
    // "Type/id/_history/n": the owner is fixed when the resource is created, so its current
    // version tells.
    const std::vector<std::string> parts = absl::StrSplit(reference, '/');
    if (parts.size() < 2 || !fhir::HoldsOwnersCare(parts[0])) continue;
    absl::StatusOr<std::string> resource = model_->Read(parts[0], parts[1]);
    if (absl::IsNotFound(resource.status())) continue;
    if (!resource.ok()) return resource.status();
    ASSIGN_OR_RETURN(fhir_api::Verdict verdict, Judge(call, *resource, reason));
    if (verdict != fhir_api::Verdict::kShown) return verdict;
  }
  return fhir_api::Verdict::kShown;
}

absl::Status FhirApi::Withhold(Call& call, fhir::SearchPage& page, bool may_withhold) {
  if (!call.checked) return absl::OkStatus();
  const size_t matches = page.matches.size();
  for (std::vector<std::string>* list : {&page.matches, &page.includes}) {
    size_t kept = 0;
    for (std::string& json : *list) {
      ASSIGN_OR_RETURN(bool shown, Disclosed(call, json));
      if (!shown) continue;
      if (&(*list)[kept] != &json) (*list)[kept] = std::move(json);
      ++kept;
    }
    list->resize(kept);
  }
  // The total counts matches the reader may not see: on this page, or on others, unread.
  const bool one_page = page.next_params.empty() && page.previous_params.empty();
  if (page.matches.size() != matches || (may_withhold && !one_page)) page.total.reset();
  return absl::OkStatus();
}

// How many the index counts includes what the reader may not see: each match is read and judged,
// page by page, up to kMaxCountedMatches; beyond, there is no count (nullopt).
absl::StatusOr<std::optional<uint64_t>> FhirApi::CountDisclosed(Call& call, std::string_view type) {
  constexpr uint64_t kMaxCountedMatches = 10'000;
  // The same criteria, from the first match on, without what shapes the result.
  fhir::SearchParams params;
  for (const auto& [name, value] : call.params) {
    if (name != "_summary" && name != "_count" && name != "_offset" && name != "_cursor" &&
        name != "_include" && name != "_revinclude" && name != "_elements") {
      params.emplace_back(name, value);
    }
  }
  params.emplace_back("_count", std::to_string(options_.max_count));
  const fhir::SearchOptions options = SearchOptionsFor(call.request, options_);
  uint64_t shown = 0;
  for (uint64_t read = 0; read < kMaxCountedMatches;) {
    ASSIGN_OR_RETURN(fhir::SearchPage page, searcher_->Search(type, params, options));
    for (const std::string& json : page.matches) {
      ASSIGN_OR_RETURN(bool disclosed, Disclosed(call, json));
      shown += disclosed ? 1 : 0;
    }
    read += page.matches.size();
    if (page.next_params.empty() || page.matches.empty()) return shown;
    ASSIGN_OR_RETURN(params, fhir_api::ParseQuery(page.next_params));
  }
  return std::nullopt;
}

// AuditEvent: the access log, read by id (its position) and searched newest first. Reading it is
// itself an access to the patients it names, and is recorded like any other read.
void FhirApi::RouteAuditEvent(Call& call, const std::vector<std::string_view>& segments) {
  const std::string_view method = call.request.method();
  const bool get = method == "GET";
  if (segments.size() == 1 && get) return HandleAuditEventSearch(call, false);
  if (segments.size() == 2 && segments[1] == "_search" && (get || method == "POST")) {
    return HandleAuditEventSearch(call, !get);
  }
  if (segments.size() == 2 && segments[1][0] != '_' && segments[1][0] != '$' && get) {
    return HandleAuditEventRead(call, segments[1]);
  }
  if (segments.size() <= 2 && !get) {
    return call.NotSupported(segments.size() == 1 ? Interaction::kCreate : Interaction::kUpdate, "GET",
                             "AuditEvent: the access log is written by the hub alone;");
  }
  call.Error(404, absl::StrCat("AuditEvent supports read and search only; nothing is served at ",
                               Sv(call.path)));
}

void FhirApi::HandleAuditEventRead(Call& call, std::string_view id) {
  call.Access(Interaction::kRead, "AuditEvent");
  uint64_t position = 0;
  if (!absl::SimpleAtoi(Sv(id), &position)) return call.Error(404, absl::StrCat("AuditEvent/", Sv(id), " is not known"));
  absl::StatusOr<audit::AccessEntry> entry = options_.access_log->Get(position);
  if (!entry.ok()) {
    if (absl::IsNotFound(entry.status())) return call.Error(404, absl::StrCat("AuditEvent/", Sv(id), " is not known"));
    return call.Fail(entry.status(), 500);
  }
  const std::string json = audit::AuditEventJson(*entry);
  call.Holds(json);
  absl::StatusOr<fhir_api::SubsetSpec> spec = fhir_api::ParseSubset(call.Param("_summary"), call.Param("_elements"));
  if (!spec.ok()) return call.Fail(spec.status(), 400);
  call.response.status = 200;
  call.response.content_type = call.content_type;
  call.response.body = fhir_api::RenderResource(json, *spec, call.pretty);
}

void FhirApi::HandleAuditEventSearch(Call& call, bool post) {
  call.Access(Interaction::kSearchType, "AuditEvent");
  if (post && !call.TakeSearchForm("AuditEvent")) return;
  absl::StatusOr<fhir_api::SubsetSpec> spec = fhir_api::ParseSubset(call.Param("_summary"), call.Param("_elements"));
  if (!spec.ok()) return call.Fail(spec.status(), 400);
  absl::StatusOr<fhir_api::AuditEventSearch> search = fhir_api::ParseAuditEventSearch(
      call.params, SearchOptionsFor(call.request, options_));
  if (!search.ok()) return call.Fail(search.status(), 400);
  absl::StatusOr<audit::AccessPage> found = options_.access_log->Find(search->query);
  if (!found.ok()) return call.Fail(found.status(), StatusFor(found.status()));
  fhir::SearchPage page;
  for (const audit::AccessEntry& entry : found->entries) page.matches.push_back(audit::AuditEventJson(entry));
  call.Holds(page);
  page.self_params = search->self_params;
  page.ignored = std::move(search->ignored);
  if (found->next_before.has_value()) {
    page.next_params = absl::StrCat(search->self_params, "&_cursor=", *found->next_before);
  }
  call.Ok(fhir_api::RenderSearchBundle(page, {.base_url = call.base_url, .path = "AuditEvent"}, *spec));
}

}  // namespace carehub::services
