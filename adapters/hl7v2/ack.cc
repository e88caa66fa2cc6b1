#include "carehub/hl7v2/ack.h"

#include "absl/strings/str_cat.h"
#include "carehub/base/strings.h"
#include "carehub/hl7v2/message.h"
#include "carehub/hl7v2/timestamp.h"

namespace carehub::hl7v2 {
namespace {

constexpr size_t kMaxHeaderValue = 199;

// Printable ASCII only: a header value goes into an ACK and a log line.
std::string Clean(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, kMaxHeaderValue)) {
    if (c >= 0x20 && c < 0x7F) out.push_back(c);
  }
  return out;
}

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

}  // namespace

std::string_view AckCodeName(AckCode code) {
  switch (code) {
    case AckCode::kApplicationAccept:
      return "AA";
    case AckCode::kApplicationError:
      return "AE";
    case AckCode::kApplicationReject:
      return "AR";
  }
  return "AR";
}

MessageHeader MessageHeader::FromRaw(std::string_view raw) {
  MessageHeader header;
  const size_t start = raw.find("MSH");
  if (start == std::string_view::npos || raw.size() < start + 8) return header;
  std::string_view line = raw.substr(start);
  line = line.substr(0, line.find_first_of("\r\n"));
  EncodingCharacters enc;
  enc.field = line[3];
  enc.component = line[4];
  enc.repetition = line[5];
  enc.escape = line[6];
  enc.subcomponent = line[7];
  // Field n of MSH is piece n-1 when split at the field separator (MSH-1 is the separator).
  auto field = [&](int n, int comp) {
    const std::string_view f = Piece(Piece(line, enc.field, n - 1), enc.repetition, 0);
    return Clean(Unescape(Piece(Piece(f, enc.component, comp - 1), enc.subcomponent, 0), enc,
                          Charset::kUtf8));
  };
  header.sending_application = field(3, 1);
  header.sending_facility = field(4, 1);
  if (header.sending_facility.empty()) header.sending_facility = field(4, 2);
  header.receiving_application = field(5, 1);
  header.receiving_facility = field(6, 1);
  header.message_type = field(9, 1);
  header.trigger_event = field(9, 2);
  header.control_id = field(10, 1);
  header.processing_id = field(11, 1);
  header.version = field(12, 1);
  return header;
}

std::string BuildAck(const MessageHeader& answered, const AckContent& content, absl::Time now,
                     std::string_view ack_control_id) {
  const EncodingCharacters enc;
  // Control bytes (MLLP's 0x0B and 0x1C among them) never reach the ACK, whatever a text holds.
  auto e = [&](std::string_view v) {
    std::string escaped = Escape(v, enc);
    for (char& c : escaped) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
    }
    return escaped;
  };
  std::string ack = absl::StrCat(
      "MSH|^~\\&|", e(answered.receiving_application.empty() ? "CAREHUB"
                                                             : answered.receiving_application),
      "|", e(answered.receiving_facility.empty() ? "CAREHUB" : answered.receiving_facility), "|",
      e(answered.sending_application), "|", e(answered.sending_facility), "|",
      FormatHl7Timestamp(now), "||ACK^", e(answered.trigger_event), "^ACK|", e(ack_control_id),
      "|", e(answered.processing_id.empty() ? "P" : answered.processing_id), "|",
      e(answered.version.empty() ? "2.5" : answered.version), "\r");
  absl::StrAppend(&ack, "MSA|", Sv(AckCodeName(content.code)), "|", e(answered.control_id));
  if (content.code != AckCode::kApplicationAccept) {
    absl::StrAppend(&ack, "|", e(content.text), "\r");
    absl::StrAppend(&ack, "ERR|||", e(content.error.code), "^", e(content.error.text),
                    "^HL70357|E||||", e(content.text), "\r");
  } else {
    ack.push_back('\r');
  }
  return ack;
}

}  // namespace carehub::hl7v2
