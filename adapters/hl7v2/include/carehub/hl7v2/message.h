// Hl7Message: an HL7 v2 message in the ER7 ("pipe and hat") encoding, parsed into segments and
// fields, with values read by position and unescaped on access.
//
//   ASSIGN_OR_RETURN(Hl7Message msg, Hl7Message::Parse(raw, {.default_charset = "UNICODE UTF-8"}));
//   std::string trigger = msg.Get("MSH", 9, 2);            // "A01"
//   const Hl7Segment* pid = msg.Find("PID");
//   for (int r = 0; r < pid->RepetitionCount(3); ++r) pid->Get(3, 1, 1, r);  // PID-3 reps
//
// Parsing follows the message's own rules:
//   - the encoding characters come from MSH-1 and MSH-2 (any four, or five with the v2.7
//     truncation character), so a sender's custom delimiters work;
//   - segments end in CR, LF or CRLF; empty lines are skipped;
//   - MSH-18 names the character set: UTF-8 ("UNICODE UTF-8", "UTF-8") or ISO 8859-1 ("8859/1"),
//     and an empty MSH-18 means `default_charset`. The whole message is converted to UTF-8
//     before it is split, so every value is UTF-8. Bytes that are not valid in the named set are
//     an error, not mojibake;
//   - escape sequences \F\ \S\ \T\ \R\ \E\ (and \P\ in v2.7) become the delimiter they stand for,
//     \Xhh..\ becomes the bytes it names (in the message's character set), \.br\ a line break;
//     highlighting (\H\ \N\) and other formatting sequences are dropped; anything else that is
//     not a well-formed sequence is kept as text.
// Field numbers are the standard's, 1-based, also for MSH (MSH-1 is the field separator, MSH-2
// the encoding characters); components and subcomponents are 1-based, repetitions 0-based.
//
// Memory: the message keeps one UTF-8 copy of its text and one string_view per field, so a
// parsed message costs about its size plus 16 bytes per field; values are cut out on access.
//
// Errors (Parse): InvalidArgument naming the reason: no MSH first, bad encoding characters, a
// malformed segment name, an unsupported or violated character set. Never a field's value, which
// may be a personnummer or a name.
//
// Thread-safety: immutable after Parse; safe to read from several threads.
#ifndef CAREHUB_HL7V2_MESSAGE_H_
#define CAREHUB_HL7V2_MESSAGE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace carehub::hl7v2 {

struct EncodingCharacters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
  char truncation = 0;  // v2.7 MSH-2 5th character; 0 when absent
};

enum class Charset { kUtf8, kLatin1 };

// Maps an MSH-18 value to a charset. InvalidArgument for a set this parser does not support.
absl::StatusOr<Charset> CharsetFromMsh18(std::string_view msh18);

// Converts ISO 8859-1 bytes to UTF-8.
std::string Latin1ToUtf8(std::string_view latin1);
bool IsValidUtf8(std::string_view text);

// Replaces escape sequences in one leaf value (see the file comment).
std::string Unescape(std::string_view raw, const EncodingCharacters& enc, Charset charset);
// The reverse, for building messages (ACKs, tests): delimiters in `text` become \F\ and friends.
std::string Escape(std::string_view text, const EncodingCharacters& enc);

class Hl7Segment {
 public:
  std::string_view name() const { return name_; }
  // The highest field number present (0 for a segment with only a name).
  int field_count() const { return static_cast<int>(fields_.size()) - 1; }
  // Field n as sent (escaped, all repetitions); empty if absent.
  std::string_view RawField(int n) const;
  // Number of repetitions of field n (0 if empty).
  int RepetitionCount(int n) const;
  // The unescaped value of field n, repetition `rep`, component `comp`, subcomponent `sub`; empty
  // if absent. For MSH-1 and MSH-2, the delimiters themselves.
  std::string Get(int n, int comp = 1, int sub = 1, int rep = 0) const;

 private:
  friend class Hl7Message;
  std::string_view name_;
  std::vector<std::string_view> fields_;  // index 0 is the name
  EncodingCharacters enc_;
  Charset charset_ = Charset::kUtf8;
};

struct ParseOptions {
  // The character set of a message with an empty MSH-18 (a per-facility setting).
  std::string default_charset = "UNICODE UTF-8";
};

class Hl7Message {
 public:
  static absl::StatusOr<Hl7Message> Parse(std::string_view raw, const ParseOptions& options = {});

  const EncodingCharacters& encoding() const { return enc_; }
  Charset charset() const { return charset_; }
  const std::vector<Hl7Segment>& segments() const { return segments_; }
  // The nth (0-based) segment named `name`; nullptr if there is none.
  const Hl7Segment* Find(std::string_view name, int nth = 0) const;
  // Find(segment)->Get(...), or empty if the segment is absent.
  std::string Get(std::string_view segment, int field, int comp = 1, int sub = 1,
                  int rep = 0) const;
  // The message as UTF-8 text (segments as sent, terminators included).
  std::string_view text() const { return *text_; }

 private:
  Hl7Message() = default;

  std::unique_ptr<const std::string> text_;  // stable address: segments point into it
  EncodingCharacters enc_;
  Charset charset_ = Charset::kUtf8;
  std::vector<Hl7Segment> segments_;
};

}  // namespace carehub::hl7v2

#endif  // CAREHUB_HL7V2_MESSAGE_H_
