// The municipal import file reader: turns the bytes of a JSON Lines or CSV file in the
// carehub-municipal format (adapters/municipal/FORMAT.md) into records of named text fields, one
// per data line, each with its line number, its text verbatim, and an error if it could not be
// read. It knows the file syntax only; record_mapping.h knows what the fields mean.
//
//   ReadResult file = ReadMunicipalFile(bytes, {.kind = FileKind::kCsv});
//   for (const SourceLine& line : file.lines) {
//     if (!line.error.empty()) Report(line.line, line.error, line.text);
//     else Use(line.fields);  // e.g. {"record_type", "insats_planerad"}, {"activity_id", "a-1"}
//   }
//
// Errors never stop the reader: a line that cannot be read gets `error`, and the next line is
// read. A CSV header that cannot be read (no header, a duplicate or empty column name) makes every
// data line an error that names the header's problem. Nothing here allocates without bound
// beyond the input's size, and no input crashes it (a libFuzzer target runs it).
//
// Text: JSON Lines must be UTF-8 (RFC 8259). CSV may be UTF-8 (with or without a byte-order mark)
// or Windows-1252 / ISO 8859-1 (spreadsheet exports); ISO 8859-1 is read as Windows-1252, its
// superset for every printable character, as browsers do. With Charset::kAuto a CSV file that is
// valid UTF-8 is read as UTF-8, otherwise as Windows-1252. Every field and every `text` is UTF-8.
//
// Thread-safe: a pure function.
#ifndef CAREHUB_MUNICIPAL_READER_H_
#define CAREHUB_MUNICIPAL_READER_H_

#include <string>
#include <string_view>
#include <vector>

namespace carehub::municipal {

enum class FileKind { kCsv, kJsonLines };

enum class Charset {
  kAuto,         // CSV: UTF-8 if the whole file is valid UTF-8, else Windows-1252
  kUtf8,
  kWindows1252,  // also used for ISO 8859-1
};

struct ReaderOptions {
  FileKind kind = FileKind::kJsonLines;
  // CSV only; JSON Lines is always UTF-8.
  Charset charset = Charset::kAuto;
  // CSV only: ';' or ','; 0 detects it from the header line (the one of the two that occurs
  // outside quotes; ';' if both do, as Swedish spreadsheets write it).
  char separator = 0;
};

// One field: its name (CSV: the header's column name, lower-cased and trimmed) and its value as
// text. JSON numbers and booleans are given as their JSON text; a JSON array of strings or
// numbers is joined with '|', the list separator of the format. Empty values are left out.
struct Field {
  std::string name;
  std::string value;
};

struct SourceLine {
  // 1-based number of the physical line where the record starts.
  int line = 0;
  // The record verbatim, converted to UTF-8 (invalid UTF-8 bytes replaced by U+FFFD), without its
  // line terminator. For reject reports.
  std::string text;
  // The fields, when `error` is empty.
  std::vector<Field> fields;
  // Why the line could not be read; empty if it was read.
  std::string error;
};

struct ReadResult {
  // The data lines in file order: not blank lines, not the CSV header.
  std::vector<SourceLine> lines;
  // Set when the file as a whole is unusable (e.g. the CSV header); every line then carries an
  // error too.
  std::string file_error;
  // What the reader used (CSV), for reports and logs.
  Charset charset = Charset::kUtf8;
  char separator = 0;
};

ReadResult ReadMunicipalFile(std::string_view bytes, const ReaderOptions& options);

// The value of field `name` in `fields`, or nullptr. Linear: records have few fields.
const std::string* FindField(const std::vector<Field>& fields, std::string_view name);

}  // namespace carehub::municipal

#endif  // CAREHUB_MUNICIPAL_READER_H_
