// The text of a FHIR HTTP request: query strings and form bodies decoded into parameters,
// content negotiation (Accept, _format), and HTTP dates for Last-Modified / If-Modified-Since.
//
//   ASSIGN_OR_RETURN(fhir::SearchParams params, ParseQuery("patient=abc&_count=10"));
//   Negotiation n = Negotiate(request.header("Accept"), format_param);
//   if (!n.acceptable) -> 406 with n.diagnostic
//
// Errors: ParseQuery returns InvalidArgument for a malformed percent-escape.
// Thread-safety: stateless.
#ifndef CAREHUB_SERVICES_FHIR_INTERNAL_REQUEST_TEXT_H_
#define CAREHUB_SERVICES_FHIR_INTERNAL_REQUEST_TEXT_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/fhir/search.h"

namespace carehub::services::fhir_api {

// application/x-www-form-urlencoded: '&'-separated name=value pairs, '+' for space, %XX escapes.
// Empty pairs are skipped.
absl::StatusOr<fhir::SearchParams> ParseQuery(std::string_view query);
// Percent-encodes for a query component (unreserved characters kept).
std::string QueryEscape(std::string_view s);

struct Negotiation {
  bool acceptable = true;
  std::string content_type;  // what to answer with, e.g. "application/fhir+json;charset=utf-8"
  std::string diagnostic;    // why not, when !acceptable
};

// `accept` is the Accept header ("" when absent); `format` the _format parameter if given, which
// overrides it (http://hl7.org/fhir/R4/http.html#mime-type). JSON is served as
// application/fhir+json, or application/json when the client asks for exactly that.
Negotiation Negotiate(std::string_view accept, const std::optional<std::string>& format);

// RFC 7231 IMF-fixdate: "Sun, 01 Mar 2026 02:10:00 GMT".
std::string HttpDate(absl::Time t);
// Parses an IMF-fixdate (the only form a modern client sends); nullopt if it is not one.
std::optional<absl::Time> ParseHttpDate(std::string_view s);
// Parses a FHIR instant ("2026-03-01T02:10:00.000Z" or with an offset).
std::optional<absl::Time> ParseInstant(std::string_view s);

}  // namespace carehub::services::fhir_api

#endif  // CAREHUB_SERVICES_FHIR_INTERNAL_REQUEST_TEXT_H_
