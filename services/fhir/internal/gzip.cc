#include "services/fhir/internal/gzip.h"

#include <zlib.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "carehub/base/strings.h"

namespace carehub::services::http_internal {
namespace {

// windowBits 15 + 16 selects the gzip wrapper; + 32 on inflate accepts gzip or zlib.
constexpr int kGzipWindowBits = 15 + 16;

absl::StatusOr<std::string> Run(z_stream* stream, bool deflating, std::string_view data) {
  std::string out;
  stream->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream->avail_in = static_cast<uInt>(data.size());
  char chunk[16 * 1024];
  int rc = Z_OK;
  do {
    stream->next_out = reinterpret_cast<Bytef*>(chunk);
    stream->avail_out = sizeof(chunk);
    rc = deflating ? deflate(stream, Z_FINISH) : inflate(stream, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) break;
    out.append(chunk, sizeof(chunk) - stream->avail_out);
    if (!deflating && rc == Z_BUF_ERROR && stream->avail_in == 0) break;
  } while (rc != Z_STREAM_END);
  if (deflating) {
    deflateEnd(stream);
  } else {
    inflateEnd(stream);
  }
  if (rc != Z_STREAM_END) return absl::InternalError("zlib failed");
  return out;
}

}  // namespace

absl::StatusOr<std::string> Gzip(std::string_view data) {
  z_stream stream{};
  // Level 1: JSON compresses well even at the fastest level, and latency matters more here.
  if (deflateInit2(&stream, 1, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("deflateInit2 failed");
  }
  return Run(&stream, true, data);
}

absl::StatusOr<std::string> Gunzip(std::string_view data) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 32) != Z_OK) return absl::InternalError("inflateInit2 failed");
  return Run(&stream, false, data);
}

bool AcceptsGzip(std::string_view accept_encoding) {
  for (absl::string_view item : absl::StrSplit(Sv(accept_encoding), ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(item, ';');
    absl::string_view coding = absl::StripAsciiWhitespace(parts[0]);
    if (!absl::EqualsIgnoreCase(coding, "gzip") && !absl::EqualsIgnoreCase(coding, "x-gzip") &&
        coding != "*") {
      continue;
    }
    double q = 1;
    for (size_t i = 1; i < parts.size(); ++i) {
      absl::string_view p = absl::StripAsciiWhitespace(parts[i]);
      if (absl::StartsWithIgnoreCase(p, "q=") && !absl::SimpleAtod(p.substr(2), &q)) q = 0;
    }
    if (q > 0) return true;
  }
  return false;
}

}  // namespace carehub::services::http_internal
