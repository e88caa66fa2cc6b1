#include "carehub/hl7v2/ack.h"

#include "absl/strings/match.h"
#include "carehub/hl7v2/message.h"
#include "gtest/gtest.h"

namespace carehub::hl7v2 {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1795000000);

TEST(AckTest, HeaderFromRawWithCustomDelimiters) {
  MessageHeader h = MessageHeader::FromRaw(
      "MSH#*@!%#COSMIC#SE2321000131*x#HUB#HUB#20261125##ADT*A01#MSG-1#P#2.5\rPID#1");
  EXPECT_EQ(h.sending_application, "COSMIC");
  EXPECT_EQ(h.sending_facility, "SE2321000131");
  EXPECT_EQ(h.message_type, "ADT");
  EXPECT_EQ(h.trigger_event, "A01");
  EXPECT_EQ(h.control_id, "MSG-1");
  EXPECT_EQ(h.version, "2.5");
}

TEST(AckTest, HeaderFromGarbageIsEmpty) {
  EXPECT_EQ(MessageHeader::FromRaw("").control_id, "");
  EXPECT_EQ(MessageHeader::FromRaw("MSH").control_id, "");
  EXPECT_EQ(MessageHeader::FromRaw("\x01\x02MSH|^~\\&").control_id, "");
}

TEST(AckTest, AcceptAndRejectParseBack) {
  MessageHeader h = MessageHeader::FromRaw(
      "MSH|^~\\&|COSMIC|SE2321000131|HUB|REGION|20261125||ADT^A01|C|P|2.5\r");
  h.control_id = "C|1";  // whatever a header holds, the ACK stays well-formed
  std::string aa = BuildAck(h, {}, kNow, "ACK-1");
  absl::StatusOr<Hl7Message> parsed = Hl7Message::Parse(aa);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Get("MSA", 1), "AA");
  EXPECT_EQ(parsed->Get("MSA", 2), "C|1");  // the control id's '|' survives, escaped
  EXPECT_EQ(parsed->Get("MSH", 5), "COSMIC");
  EXPECT_EQ(parsed->Get("MSH", 9, 2), "A01");
  EXPECT_EQ(parsed->Find("ERR"), nullptr);

  std::string ar = BuildAck(h,
                            {.code = AckCode::kApplicationReject,
                             .error = kUnsupportedEventCode,
                             .text = "MSH-9.2: not supported ^ really"},
                            kNow, "ACK-2");
  parsed = Hl7Message::Parse(ar);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Get("MSA", 1), "AR");
  EXPECT_EQ(parsed->Get("ERR", 3, 1), "201");
  EXPECT_EQ(parsed->Get("ERR", 4), "E");
  EXPECT_EQ(parsed->Get("ERR", 8), "MSH-9.2: not supported ^ really");
  EXPECT_TRUE(absl::EndsWith(ar, "\r"));
}

}  // namespace
}  // namespace carehub::hl7v2
