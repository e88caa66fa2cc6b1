// The reader in two parts: JSON Lines through a SAX handler that builds the flat record directly
// (and names the parse error), and CSV through a small RFC 4180 state machine over the raw bytes.
// CSV's structural characters are ASCII, so the file is split into records before any charset
// conversion, and each record's cells are converted on their own: a bad byte spoils one line only.
#include "carehub/municipal/reader.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/municipal/internal/charset.h"
#include "nlohmann/json.hpp"

namespace carehub::municipal {
namespace {

using internal::IsValidUtf8;
using internal::SanitizeUtf8;
using internal::Windows1252ToUtf8;

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

std::string_view StripBom(std::string_view bytes) {
  if (bytes.substr(0, kUtf8Bom.size()) == kUtf8Bom) bytes.remove_prefix(kUtf8Bom.size());
  return bytes;
}

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

std::string_view TrimAscii(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// ---------------------------------------------------------------------------------------------
// JSON Lines
// ---------------------------------------------------------------------------------------------

using Json = nlohmann::json;

// Accepts exactly one object whose values are scalars or arrays of scalars.
class FlatRecordSax : public nlohmann::json_sax<Json> {
 public:
  explicit FlatRecordSax(std::vector<Field>* fields) : fields_(fields) {}

  const std::string& error() const { return error_; }

  bool null() override { return Scalar(std::nullopt); }
  bool boolean(bool value) override { return Scalar(value ? "true" : "false"); }
  bool number_integer(number_integer_t value) override { return Scalar(std::to_string(value)); }
  bool number_unsigned(number_unsigned_t value) override { return Scalar(std::to_string(value)); }
  bool number_float(number_float_t, const string_t& text) override { return Scalar(text); }
  bool string(string_t& value) override { return Scalar(std::move(value)); }
  bool binary(binary_t&) override { return Fail("binary values are not JSON text"); }

  bool start_object(std::size_t) override {
    if (depth_ != 0) return Fail(absl_field("a nested object is not part of the format"));
    depth_ = 1;
    return true;
  }
  bool key(string_t& name) override {
    if (name.empty()) return Fail("a field name may not be empty");
    key_ = std::move(name);
    for (const Field& field : *fields_) {
      if (field.name == key_) return Fail(absl_field("given twice"));
    }
    return true;
  }
  bool end_object() override {
    depth_ = 0;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0) return Fail("a line must be one JSON object, not an array");
    if (depth_ != 1) return Fail(absl_field("a nested array is not part of the format"));
    depth_ = 2;
    list_.clear();
    list_empty_ = true;
    return true;
  }
  bool end_array() override {
    depth_ = 1;
    if (!list_.empty()) fields_->push_back({key_, std::move(list_)});
    list_.clear();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    if (error_.empty()) {
      std::string_view what = e.what();
      // "[json.exception.parse_error.101] parse error at line 1, column 3: ..." -> from "parse".
      const size_t bracket = what.find("] ");
      if (bracket != std::string_view::npos) what.remove_prefix(bracket + 2);
      error_ = "malformed JSON: " + std::string(what);
    }
    return false;
  }

 private:
  std::string absl_field(std::string_view reason) const {
    return "field \"" + key_ + "\": " + std::string(reason);
  }
  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  bool Scalar(std::optional<std::string> value) {
    if (depth_ == 0) return Fail("a line must be one JSON object");
    if (depth_ == 1) {
      if (value.has_value() && !value->empty()) fields_->push_back({key_, std::move(*value)});
      return true;
    }
    // In a list.
    if (!value.has_value() || value->empty()) return true;
    if (value->find('|') != std::string::npos) {
      return Fail(absl_field("a list element may not contain '|'"));
    }
    if (!list_empty_) list_.push_back('|');
    list_.append(*value);
    list_empty_ = false;
    return true;
  }

  std::vector<Field>* fields_;
  std::string error_;
  std::string key_;
  std::string list_;
  bool list_empty_ = true;
  int depth_ = 0;
};

void ReadJsonLines(std::string_view bytes, ReadResult& result) {
  bytes = StripBom(bytes);
  result.charset = Charset::kUtf8;
  int line_number = 0;
  while (!bytes.empty()) {
    ++line_number;
    size_t end = bytes.find('\n');
    std::string_view line = bytes.substr(0, end);
    bytes.remove_prefix(end == std::string_view::npos ? bytes.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (IsBlank(line)) continue;

    SourceLine out;
    out.line = line_number;
    out.text = SanitizeUtf8(line);
    if (!IsValidUtf8(line)) {
      out.error = "not valid UTF-8 (JSON Lines files must be UTF-8)";
    } else {
      FlatRecordSax sax(&out.fields);
      const bool ok = Json::sax_parse(line.begin(), line.end(), &sax,
                                      nlohmann::detail::input_format_t::json, /*strict=*/true);
      if (!ok) {
        out.error = sax.error().empty() ? "malformed JSON" : sax.error();
        out.fields.clear();
      }
    }
    result.lines.push_back(std::move(out));
  }
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

// One CSV record split into raw (unconverted) cells.
struct RawRecord {
  int line = 0;
  std::string_view text;
  std::vector<std::string> cells;
  std::string error;
};

// Splits `bytes` into records. Line terminators: CRLF, LF or a lone CR (older spreadsheets).
class CsvSplitter {
 public:
  CsvSplitter(std::string_view bytes, char separator) : bytes_(bytes), separator_(separator) {}

  // The next non-blank record, or false at the end.
  bool Next(RawRecord& record) {
    while (pos_ < bytes_.size()) {
      record = RawRecord{};
      record.line = line_;
      const size_t start = pos_;
      ReadRecord(record);
      record.text = bytes_.substr(start, text_end_ - start);
      if (record.error.empty() && record.cells.size() == 1 && IsBlank(record.cells[0])) continue;
      return true;
    }
    return false;
  }

 private:
  // Consumes one line terminator at pos_ if there is one; true if it did.
  bool ConsumeNewline() {
    if (bytes_[pos_] == '\n') {
      ++pos_;
    } else if (bytes_[pos_] == '\r') {
      ++pos_;
      if (pos_ < bytes_.size() && bytes_[pos_] == '\n') ++pos_;
    } else {
      return false;
    }
    ++line_;
    return true;
  }

  void ReadRecord(RawRecord& record) {
    std::string cell;
    bool quoted = false;
    for (;;) {
      if (pos_ >= bytes_.size()) {
        text_end_ = pos_;
        record.cells.push_back(Finish(cell, quoted));
        return;
      }
      const char c = bytes_[pos_];
      if (c == '"' && IsBlank(cell) && !quoted) {
        quoted = true;
        cell.clear();
        ++pos_;
        if (!ReadQuoted(cell, record)) return;
        continue;
      }
      if (c == separator_) {
        record.cells.push_back(Finish(cell, quoted));
        cell.clear();
        quoted = false;
        ++pos_;
        continue;
      }
      if (c == '\n' || c == '\r') {
        text_end_ = pos_;
        ConsumeNewline();
        record.cells.push_back(Finish(cell, quoted));
        return;
      }
      if (quoted) {
        if (c != ' ' && c != '\t') {
          record.error = "text after the closing quote of a quoted field";
          SkipToEndOfLine();
          return;
        }
        ++pos_;
        continue;
      }
      cell.push_back(c);
      ++pos_;
    }
  }

  // After the opening quote: reads to the closing quote ("" is a quote). False on an error (then
  // the record has ended).
  bool ReadQuoted(std::string& cell, RawRecord& record) {
    const int start_line = line_;
    while (pos_ < bytes_.size()) {
      const char c = bytes_[pos_];
      if (c == '"') {
        if (pos_ + 1 < bytes_.size() && bytes_[pos_ + 1] == '"') {
          cell.push_back('"');
          pos_ += 2;
          continue;
        }
        ++pos_;
        return true;
      }
      if (c == '\n' || c == '\r') {
        const size_t before = pos_;
        ConsumeNewline();
        cell.append(bytes_.substr(before, pos_ - before));
        continue;
      }
      cell.push_back(c);
      ++pos_;
    }
    text_end_ = pos_;
    record.error = "a quoted field opened on line " + std::to_string(start_line) +
                   " is never closed";
    return false;
  }

  void SkipToEndOfLine() {
    while (pos_ < bytes_.size() && bytes_[pos_] != '\n' && bytes_[pos_] != '\r') ++pos_;
    text_end_ = pos_;
    if (pos_ < bytes_.size()) ConsumeNewline();
  }

  static std::string Finish(const std::string& cell, bool quoted) {
    return quoted ? cell : std::string(TrimAscii(cell));
  }

  std::string_view bytes_;
  char separator_;
  size_t pos_ = 0;
  size_t text_end_ = 0;
  int line_ = 1;
};

// ';' or ',' from the header line (the first non-blank line), counted outside quotes.
char DetectSeparator(std::string_view bytes) {
  size_t semicolons = 0, commas = 0;
  bool quoted = false, seen_text = false;
  for (char c : bytes) {
    if (c == '"') quoted = !quoted;
    if (!quoted && (c == '\n' || c == '\r')) {
      if (seen_text) break;
      continue;
    }
    if (c != ' ' && c != '\t') seen_text = true;
    if (quoted) continue;
    if (c == ';') ++semicolons;
    if (c == ',') ++commas;
  }
  if (semicolons == 0 && commas == 0) return 0;
  return semicolons > 0 ? ';' : ',';
}

// Converts `raw` to UTF-8 under `charset`; false if it is not valid in that charset.
bool ToUtf8(std::string_view raw, Charset charset, std::string& out) {
  if (charset == Charset::kWindows1252) {
    out = Windows1252ToUtf8(raw);
    return true;
  }
  if (!IsValidUtf8(raw)) return false;
  out.assign(raw);
  return true;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void ReadCsv(std::string_view bytes, const ReaderOptions& options, ReadResult& result) {
  bytes = StripBom(bytes);
  Charset charset = options.charset;
  if (charset == Charset::kAuto) {
    charset = IsValidUtf8(bytes) ? Charset::kUtf8 : Charset::kWindows1252;
  }
  result.charset = charset;
  char separator = options.separator != 0 ? options.separator : DetectSeparator(bytes);
  result.separator = separator;

  const auto text_of = [&](std::string_view raw) {
    return charset == Charset::kWindows1252 ? Windows1252ToUtf8(raw) : SanitizeUtf8(raw);
  };

  CsvSplitter splitter(bytes, separator == 0 ? ';' : separator);
  RawRecord record;
  std::vector<std::string> header;
  if (separator == 0) {
    result.file_error = "header: no ';' or ',' separator between column names";
  } else if (!splitter.Next(record)) {
    return;  // an empty file has no lines
  } else if (!record.error.empty()) {
    result.file_error = "header (line " + std::to_string(record.line) + "): " + record.error;
  } else {
    for (const std::string& raw : record.cells) {
      std::string name;
      if (!ToUtf8(raw, charset, name)) {
        result.file_error = "header: a column name is not valid UTF-8";
        break;
      }
      name = LowerAscii(TrimAscii(name));
      if (name.empty()) {
        result.file_error = "header: column " + std::to_string(header.size() + 1) + " has no name";
        break;
      }
      for (const std::string& other : header) {
        if (other == name) result.file_error = "header: column \"" + name + "\" appears twice";
      }
      if (!result.file_error.empty()) break;
      header.push_back(std::move(name));
    }
  }

  while (splitter.Next(record)) {
    SourceLine out;
    out.line = record.line;
    out.text = text_of(record.text);
    if (!result.file_error.empty()) {
      out.error = "not read: " + result.file_error;
    } else if (!record.error.empty()) {
      out.error = record.error;
    } else if (record.cells.size() != header.size()) {
      out.error = "has " + std::to_string(record.cells.size()) + " fields; the header has " +
                  std::to_string(header.size());
    } else {
      for (size_t i = 0; i < header.size(); ++i) {
        std::string value;
        if (!ToUtf8(record.cells[i], charset, value)) {
          out.error = "column \"" + header[i] + "\": not valid UTF-8";
          out.fields.clear();
          break;
        }
        if (!value.empty()) out.fields.push_back({header[i], std::move(value)});
      }
    }
    result.lines.push_back(std::move(out));
  }
}

}  // namespace

ReadResult ReadMunicipalFile(std::string_view bytes, const ReaderOptions& options) {
  ReadResult result;
  if (options.kind == FileKind::kJsonLines) {
    ReadJsonLines(bytes, result);
  } else {
    ReadCsv(bytes, options, result);
  }
  return result;
}

const std::string* FindField(const std::vector<Field>& fields, std::string_view name) {
  for (const Field& field : fields) {
    if (field.name == name) return &field.value;
  }
  return nullptr;
}

}  // namespace carehub::municipal
