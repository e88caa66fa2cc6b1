// libFuzzer target for the municipal file reader (reader.h): any bytes, read as JSON Lines or as
// CSV under each charset and separator, must give lines with increasing line numbers, UTF-8 text
// and UTF-8 fields, and never crash. The first input byte picks the reader options; the rest is
// the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/municipal/internal/charset.h"
#include "carehub/municipal/reader.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carehub::municipal;
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  ReaderOptions options;
  options.kind = (selector & 1) != 0 ? FileKind::kCsv : FileKind::kJsonLines;
  options.charset = static_cast<Charset>((selector >> 1) % 3);
  options.separator = "\0;,"[(selector >> 3) % 3];
  const ReadResult result = ReadMunicipalFile(bytes, options);
  int previous = 0;
  for (const SourceLine& line : result.lines) {
    Check(line.line > previous);
    previous = line.line;
    Check(internal::IsValidUtf8(line.text));
    Check(line.error.empty() || line.fields.empty());
    for (const Field& field : line.fields) {
      Check(!field.name.empty() && !field.value.empty());
      Check(internal::IsValidUtf8(field.name) && internal::IsValidUtf8(field.value));
    }
  }
  return 0;
}
