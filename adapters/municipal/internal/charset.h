// Text conversion for the municipal reader: UTF-8 validation and Windows-1252 -> UTF-8.
// A small table rather than iconv: the reader runs inside a fuzzer and on every line, and
// Windows-1252 is a fixed single-byte mapping. Thread-safe: pure functions.
#ifndef CAREHUB_ADAPTERS_MUNICIPAL_INTERNAL_CHARSET_H_
#define CAREHUB_ADAPTERS_MUNICIPAL_INTERNAL_CHARSET_H_

#include <string>
#include <string_view>

namespace carehub::municipal::internal {

// True if `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// `text` with every byte sequence that is not well-formed UTF-8 replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view text);

// Windows-1252 bytes as UTF-8. The five bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F,
// 0x90, 0x9D) become the C1 controls of the same value, as in the WHATWG Encoding Standard.
std::string Windows1252ToUtf8(std::string_view text);

}  // namespace carehub::municipal::internal

#endif  // CAREHUB_ADAPTERS_MUNICIPAL_INTERNAL_CHARSET_H_
