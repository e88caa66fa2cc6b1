// ACK messages: the answer to every MLLP frame the listener receives.
//
//   MessageHeader header = MessageHeader::FromRaw(frame.payload);  // best effort, never fails
//   std::string ack = BuildAck(header, {.code = AckCode::kApplicationReject,
//                                      .error = {"201", "Unsupported event code"},
//                                      .text = "MSH-9: trigger A99 is not supported"},
//                              clock.Now(), "ACK-000001");
//
// Codes (original acknowledgement mode, MSA-1):
//   AA  the message's events are durable in the hub's log;
//   AR  the message is structurally invalid or unsupported: do not resend it unchanged;
//   AE  processing failed (an unknown reference, the care service unavailable): may be resent.
// Every AR and AE carries an ERR segment: ERR-3 an HL7 table 0357 code, ERR-4 "E", ERR-8 the
// reason in words. The ACK uses the standard encoding characters |^~\& whatever the message
// used, and escapes every value, so a control id or a reason can never break the ACK's framing.
//
// Thread-safety: pure functions.
#ifndef CAREHUB_HL7V2_ACK_H_
#define CAREHUB_HL7V2_ACK_H_

#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace carehub::hl7v2 {

enum class AckCode { kApplicationAccept, kApplicationError, kApplicationReject };
std::string_view AckCodeName(AckCode code);  // "AA", "AE", "AR"

// HL7 table 0357 (message error condition codes) as the adapter uses them.
struct Hl7Error {
  std::string code;  // e.g. "100", "101", "102", "200", "201", "204", "207"
  std::string text;  // the table's own text, e.g. "Required field missing"
};
inline const Hl7Error kSegmentSequenceError{"100", "Segment sequence error"};
inline const Hl7Error kRequiredFieldMissing{"101", "Required field missing"};
inline const Hl7Error kDataTypeError{"102", "Data type error"};
inline const Hl7Error kUnsupportedMessageType{"200", "Unsupported message type"};
inline const Hl7Error kUnsupportedEventCode{"201", "Unsupported event code"};
inline const Hl7Error kUnsupportedProcessingId{"202", "Unsupported processing id"};
inline const Hl7Error kUnknownKeyIdentifier{"204", "Unknown key identifier"};
inline const Hl7Error kDuplicateKeyIdentifier{"205", "Duplicate key identifier"};
inline const Hl7Error kApplicationInternalError{"207", "Application internal error"};

// What an ACK copies from the message it answers. Read tolerantly from raw bytes, so that even a
// message the parser rejects (or the first bytes of an oversized one) gets an ACK naming its
// control id. Values are kept to printable ASCII and at most 199 bytes each.
struct MessageHeader {
  std::string sending_application;   // MSH-3.1
  std::string sending_facility;      // MSH-4.1 (or 4.2 when 4.1 is empty)
  std::string receiving_application; // MSH-5.1
  std::string receiving_facility;    // MSH-6.1
  std::string message_type;          // MSH-9.1
  std::string trigger_event;         // MSH-9.2
  std::string control_id;            // MSH-10
  std::string processing_id;         // MSH-11.1
  std::string version;               // MSH-12.1

  static MessageHeader FromRaw(std::string_view raw);
};

struct AckContent {
  AckCode code = AckCode::kApplicationAccept;
  Hl7Error error;    // for AE and AR
  std::string text;  // ERR-8 and MSA-3; no personal data
};

// The ACK as ER7 text with CR segment terminators (not MLLP-framed).
std::string BuildAck(const MessageHeader& answered, const AckContent& content, absl::Time now,
                     std::string_view ack_control_id);

}  // namespace carehub::hl7v2

#endif  // CAREHUB_HL7V2_ACK_H_
