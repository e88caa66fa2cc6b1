// UTF-8 and JSON string text shared by everything that writes JSON by hand (FHIR envelopes,
// OperationOutcomes, access-log entries) or checks the text it is given (municipal imports).
//
//   std::string out = "{\"id\":";
//   AppendJsonQuoted(id, &out);  // escapes, and keeps the output valid UTF-8
//
// Thread-safety: stateless.
#ifndef CAREHUB_BASE_TEXT_H_
#define CAREHUB_BASE_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace carehub {

// Length of the well-formed UTF-8 sequence at text[i] (1 for ASCII), or 0 if it is not one
// (RFC 3629, table 3-7 of the Unicode standard: no overlongs, no surrogates, nothing above
// U+10FFFF).
size_t Utf8SequenceLength(std::string_view text, size_t i);

// `s` as a JSON string literal, with quotes, appended to `out`. Bytes that are not well-formed
// UTF-8 become U+FFFD, so that the output is always valid JSON in UTF-8.
void AppendJsonQuoted(std::string_view s, std::string* out);
std::string JsonQuote(std::string_view s);

}  // namespace carehub

#endif  // CAREHUB_BASE_TEXT_H_
