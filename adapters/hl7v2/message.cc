#include "carehub/hl7v2/message.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/strings.h"

namespace carehub::hl7v2 {
namespace {

absl::Status Malformed(std::string_view reason) {
  return absl::InvalidArgumentError(Sv(reason));
}

// The nth piece of `text` split at `sep` (0-based); empty if there are fewer pieces.
std::string_view Piece(std::string_view text, char sep, int n) {
  size_t start = 0;
  for (int i = 0; i < n; ++i) {
    const size_t at = text.find(sep, start);
    if (at == std::string_view::npos) return {};
    start = at + 1;
  }
  const size_t end = text.find(sep, start);
  return text.substr(start, end == std::string_view::npos ? text.size() - start : end - start);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes \Xhhhh\'s hex digits into `out`, in the message's charset; false if malformed.
bool AppendHex(std::string_view hex, Charset charset, std::string* out) {
  if (hex.empty() || hex.size() % 2 != 0) return false;
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    bytes.push_back(static_cast<char>(hi * 16 + lo));
  }
  if (charset == Charset::kLatin1) {
    out->append(Latin1ToUtf8(bytes));
  } else if (IsValidUtf8(bytes)) {
    out->append(bytes);
  } else {
    out->append("\xEF\xBF\xBD");  // U+FFFD: the sequence named no valid UTF-8
  }
  return true;
}

bool IsSegmentName(std::string_view name) {
  if (name.size() != 3) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

bool IsDelimiterCandidate(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7F && !absl::ascii_isalnum(u);
}

// Reads MSH-1, MSH-2 from the start of the message.
absl::StatusOr<EncodingCharacters> ReadEncodingCharacters(std::string_view text) {
  if (text.size() < 8 || text.substr(0, 3) != "MSH") {
    return Malformed("the message does not begin with an MSH segment");
  }
  EncodingCharacters enc;
  enc.field = text[3];
  const size_t end = text.find(enc.field, 4);
  if (end == std::string_view::npos) return Malformed("MSH-2: not terminated");
  const std::string_view chars = text.substr(4, end - 4);
  if (chars.size() < 4 || chars.size() > 5) {
    return Malformed("MSH-2: expected 4 or 5 encoding characters");
  }
  enc.component = chars[0];
  enc.repetition = chars[1];
  enc.escape = chars[2];
  enc.subcomponent = chars[3];
  if (chars.size() == 5) enc.truncation = chars[4];
  std::string all(1, enc.field);
  all.append(chars);
  for (size_t i = 0; i < all.size(); ++i) {
    if (!IsDelimiterCandidate(all[i]) || all.find(all[i], i + 1) != std::string::npos) {
      return Malformed("MSH-1/MSH-2: encoding characters must be distinct punctuation");
    }
  }
  return enc;
}

}  // namespace

absl::StatusOr<Charset> CharsetFromMsh18(std::string_view msh18) {
  const std::string upper = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(Sv(msh18)));
  if (upper == "UNICODE UTF-8" || upper == "UTF-8" || upper == "UTF8" || upper == "ASCII") {
    return Charset::kUtf8;  // ASCII is a subset; checked as UTF-8
  }
  if (upper == "8859/1" || upper == "ISO-8859-1" || upper == "ISO 8859-1" ||
      upper == "ISO_IR 100" || upper == "LATIN1") {
    return Charset::kLatin1;
  }
  return absl::InvalidArgumentError("MSH-18: unsupported character set");
}

std::string Latin1ToUtf8(std::string_view latin1) {
  std::string out;
  out.reserve(latin1.size() + latin1.size() / 8);
  for (char c : latin1) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x80) {
      out.push_back(c);
    } else {
      out.push_back(static_cast<char>(0xC0 | (u >> 6)));
      out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
    }
  }
  return out;
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    int extra;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // truncated sequence
    for (int k = 1; k <= extra; ++k) {
      const unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values beyond U+10FFFF are not UTF-8.
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
        (extra == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

std::string Unescape(std::string_view raw, const EncodingCharacters& enc, Charset charset) {
  if (raw.find(enc.escape) == std::string_view::npos) return std::string(raw);
  std::string out;
  out.reserve(raw.size());
  size_t i = 0;
  while (i < raw.size()) {
    if (raw[i] != enc.escape) {
      out.push_back(raw[i++]);
      continue;
    }
    const size_t end = raw.find(enc.escape, i + 1);
    if (end == std::string_view::npos) {  // a lone escape character: text
      out.append(raw.substr(i));
      break;
    }
    const std::string_view seq = raw.substr(i + 1, end - i - 1);
    bool known = true;
    if (seq == "F") {
      out.push_back(enc.field);
    } else if (seq == "S") {
      out.push_back(enc.component);
    } else if (seq == "T") {
      out.push_back(enc.subcomponent);
    } else if (seq == "R") {
      out.push_back(enc.repetition);
    } else if (seq == "E") {
      out.push_back(enc.escape);
    } else if (seq == "P" && enc.truncation != 0) {
      out.push_back(enc.truncation);
    } else if (seq == ".br") {
      out.push_back('\n');
    } else if (seq == "H" || seq == "N" || (!seq.empty() && seq[0] == '.') ||
               (!seq.empty() && (seq[0] == 'C' || seq[0] == 'M') && seq.size() > 1 &&
                std::all_of(seq.begin() + 1, seq.end(),
                            [](char c) { return HexValue(c) >= 0; }))) {
      // Formatting and character-set switches: dropped (values are UTF-8 already).
    } else if (!seq.empty() && seq[0] == 'X') {
      known = AppendHex(seq.substr(1), charset, &out);
    } else {
      known = false;
    }
    if (known) {
      i = end + 1;
    } else {  // not an escape sequence after all: keep the escape character as text
      out.push_back(raw[i++]);
    }
  }
  return out;
}

std::string Escape(std::string_view text, const EncodingCharacters& enc) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const char* code = nullptr;
    if (c == enc.escape) {
      code = "E";
    } else if (c == enc.field) {
      code = "F";
    } else if (c == enc.component) {
      code = "S";
    } else if (c == enc.subcomponent) {
      code = "T";
    } else if (c == enc.repetition) {
      code = "R";
    } else if (enc.truncation != 0 && c == enc.truncation) {
      code = "P";
    }
    if (code != nullptr) {
      out.push_back(enc.escape);
      out.append(code);
      out.push_back(enc.escape);
    } else if (c == '\r' || c == '\n') {
      out.push_back(enc.escape);
      out.append(".br");
      out.push_back(enc.escape);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string_view Hl7Segment::RawField(int n) const {
  if (n < 1 || n >= static_cast<int>(fields_.size())) return {};
  return fields_[n];
}

int Hl7Segment::RepetitionCount(int n) const {
  const std::string_view field = RawField(n);
  if (field.empty()) return 0;
  if (name_ == "MSH" && n <= 2) return 1;
  return static_cast<int>(std::count(field.begin(), field.end(), enc_.repetition)) + 1;
}

std::string Hl7Segment::Get(int n, int comp, int sub, int rep) const {
  const std::string_view field = RawField(n);
  if (field.empty() || comp < 1 || sub < 1 || rep < 0) return {};
  if (name_ == "MSH" && n <= 2) {  // the delimiters themselves, never split or unescaped
    return comp == 1 && sub == 1 && rep == 0 ? std::string(field) : std::string();
  }
  const std::string_view leaf =
      Piece(Piece(Piece(field, enc_.repetition, rep), enc_.component, comp - 1),
            enc_.subcomponent, sub - 1);
  return Unescape(leaf, enc_, charset_);
}

absl::StatusOr<Hl7Message> Hl7Message::Parse(std::string_view raw, const ParseOptions& options) {
  // Leading line breaks are common (a CR left over from the previous frame): skip them.
  while (!raw.empty() && (raw.front() == '\r' || raw.front() == '\n')) raw.remove_prefix(1);
  absl::StatusOr<EncodingCharacters> enc = ReadEncodingCharacters(raw);
  if (!enc.ok()) return enc.status();

  // MSH-18 is read from the raw bytes: it is ASCII in every supported set, and the delimiters are
  // ASCII too, so splitting before or after conversion gives the same fields.
  const std::string_view msh_line = raw.substr(0, raw.find_first_of("\r\n"));
  std::string_view msh18 = Piece(msh_line, enc->field, 17);
  msh18 = Piece(msh18, enc->repetition, 0);  // the first repetition is the message's set
  absl::StatusOr<Charset> charset =
      CharsetFromMsh18(msh18.empty() ? std::string_view(options.default_charset) : msh18);
  if (!charset.ok()) return charset.status();

  Hl7Message msg;
  msg.enc_ = *enc;
  msg.charset_ = *charset;
  if (*charset == Charset::kLatin1) {
    msg.text_ = std::make_unique<const std::string>(Latin1ToUtf8(raw));
  } else {
    if (!IsValidUtf8(raw)) return Malformed("the message is not valid UTF-8 (MSH-18)");
    msg.text_ = std::make_unique<const std::string>(raw);
  }

  const std::string_view text = *msg.text_;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    Hl7Segment segment;
    segment.enc_ = *enc;
    segment.charset_ = *charset;
    size_t start = 0;
    while (true) {
      const size_t at = line.find(enc->field, start);
      segment.fields_.push_back(
          line.substr(start, at == std::string_view::npos ? line.size() - start : at - start));
      if (at == std::string_view::npos) break;
      start = at + 1;
    }
    segment.name_ = segment.fields_[0];
    if (!IsSegmentName(segment.name_)) {
      return Malformed(absl::StrCat("segment ", msg.segments_.size() + 1,
                                    ": not a segment name (three letters or digits)"));
    }
    if (segment.name_ == "MSH") {
      if (!msg.segments_.empty()) return Malformed("a second MSH segment: batches are not accepted");
      // MSH-1 is the field separator itself, so MSH's fields shift by one.
      segment.fields_.insert(segment.fields_.begin() + 1, line.substr(3, 1));
    }
    msg.segments_.push_back(std::move(segment));
  }
  return msg;
}

const Hl7Segment* Hl7Message::Find(std::string_view name, int nth) const {
  for (const Hl7Segment& segment : segments_) {
    if (segment.name() == name && nth-- == 0) return &segment;
  }
  return nullptr;
}

std::string Hl7Message::Get(std::string_view segment, int field, int comp, int sub,
                            int rep) const {
  const Hl7Segment* found = Find(segment);
  return found == nullptr ? std::string() : found->Get(field, comp, sub, rep);
}

}  // namespace carehub::hl7v2
