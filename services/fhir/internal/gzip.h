// Gzip (RFC 1952) compression of response bodies with zlib, and the Accept-Encoding test.
//
//   if (AcceptsGzip(request.header("Accept-Encoding"))) body = *Gzip(body);
//
// Errors: Gzip returns Internal if zlib fails (it does not for valid input).
// Thread-safety: stateless; safe from any thread.
#ifndef CAREHUB_SERVICES_FHIR_INTERNAL_GZIP_H_
#define CAREHUB_SERVICES_FHIR_INTERNAL_GZIP_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace carehub::services::http_internal {

absl::StatusOr<std::string> Gzip(std::string_view data);
// For tests.
absl::StatusOr<std::string> Gunzip(std::string_view data);

// True if an Accept-Encoding value admits gzip: "gzip" (or "x-gzip", or "*") with q > 0.
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace carehub::services::http_internal

#endif  // CAREHUB_SERVICES_FHIR_INTERNAL_GZIP_H_
