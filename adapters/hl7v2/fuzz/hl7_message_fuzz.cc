// libFuzzer target: the HL7 v2 parser, the tolerant header reader, the ACK builder and the
// timestamp parser. Whatever the bytes, parsing returns a message or an error; every value of a
// parsed message is valid UTF-8; and an ACK built from any header parses back with its MSA.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "carehub/hl7v2/ack.h"
#include "carehub/hl7v2/message.h"
#include "carehub/hl7v2/timestamp.h"

namespace hl7 = carehub::hl7v2;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  for (const char* charset : {"UNICODE UTF-8", "8859/1"}) {
    absl::StatusOr<hl7::Hl7Message> m = hl7::Hl7Message::Parse(raw, {.default_charset = charset});
    if (!m.ok()) continue;
    for (const hl7::Hl7Segment& s : m->segments()) {
      for (int f = 1; f <= s.field_count() && f <= 40; ++f) {
        const int reps = s.RepetitionCount(f);
        for (int r = 0; r < reps && r < 4; ++r) {
          for (int c = 1; c <= 4; ++c) {
            for (int sub = 1; sub <= 2; ++sub) {
              if (!hl7::IsValidUtf8(s.Get(f, c, sub, r))) std::abort();
            }
          }
        }
      }
    }
  }
  const hl7::MessageHeader header = hl7::MessageHeader::FromRaw(raw);
  const std::string ack = hl7::BuildAck(
      header, {.code = hl7::AckCode::kApplicationReject, .error = hl7::kDataTypeError,
               .text = std::string(raw.substr(0, 64))},
      absl::UnixEpoch(), "ACK");
  if (ack.find_first_of(std::string_view("\x0B\x1C", 2)) != std::string::npos) std::abort();
  // The reason is arbitrary bytes; the ACK must still frame and parse when it is UTF-8.
  absl::StatusOr<hl7::Hl7Message> parsed = hl7::Hl7Message::Parse(ack, {.default_charset = "8859/1"});
  if (!parsed.ok() || parsed->Get("MSA", 1) != "AR") std::abort();
  (void)hl7::ParseHl7Timestamp(raw.substr(0, 32), absl::UTCTimeZone());
  return 0;
}
