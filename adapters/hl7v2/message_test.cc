#include "carehub/hl7v2/message.h"

#include <string>

#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"

namespace carehub::hl7v2 {
namespace {

const char kA01[] =
    "MSH|^~\\&|COSMIC|SE2321000131|CAREHUB|REGION|20261125233000||ADT^A01^ADT_A01|MSG0001|P|2.5"
    "|||||SE|UNICODE UTF-8\r"
    "EVN|A01|20261125233000\r"
    "PID|1||123^^^HOSP^MR~191212121212^^^SKV&1.2.752.129.2.1.3.1&ISO^PN||Tolvansson^Tolvan"
    "^Test||19121212|M\r"
    "PV1|1|I|MAVA3^12^2^VS&SE2321000131-E000000000001||||||||||||||||V123^^^COSMIC\r";

TEST(MessageTest, ParsesSegmentsFieldsRepetitionsComponentsSubcomponents) {
  absl::StatusOr<Hl7Message> m = Hl7Message::Parse(kA01);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->segments().size(), 4u);
  EXPECT_EQ(m->Get("MSH", 1), "|");
  EXPECT_EQ(m->Get("MSH", 2), "^~\\&");
  EXPECT_EQ(m->Get("MSH", 3), "COSMIC");
  EXPECT_EQ(m->Get("MSH", 9, 2), "A01");
  EXPECT_EQ(m->Get("MSH", 10), "MSG0001");
  const Hl7Segment* pid = m->Find("PID");
  ASSERT_NE(pid, nullptr);
  EXPECT_EQ(pid->RepetitionCount(3), 2);
  EXPECT_EQ(pid->Get(3, 1, 1, 0), "123");
  EXPECT_EQ(pid->Get(3, 1, 1, 1), "191212121212");
  EXPECT_EQ(pid->Get(3, 4, 1, 1), "SKV");
  EXPECT_EQ(pid->Get(3, 4, 2, 1), "1.2.752.129.2.1.3.1");
  EXPECT_EQ(pid->Get(3, 4, 3, 1), "ISO");
  EXPECT_EQ(pid->Get(3, 4, 4, 1), "");
  EXPECT_EQ(pid->Get(3, 1, 1, 2), "");
  EXPECT_EQ(pid->Get(5, 2), "Tolvan");
  EXPECT_EQ(pid->Get(99), "");
  EXPECT_EQ(m->Get("PV1", 19), "V123");
  EXPECT_EQ(m->Get("ZZZ", 1), "");
}

TEST(MessageTest, CustomEncodingCharacters) {
  std::string custom = absl::StrReplaceAll(
      kA01, {{"|", "#"}, {"^", "*"}, {"~", "@"}, {"\\", "!"}, {"&", "%"}});
  absl::StatusOr<Hl7Message> m = Hl7Message::Parse(custom);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->Get("MSH", 2), "*@!%");
  EXPECT_EQ(m->Get("PID", 3, 1, 1, 1), "191212121212");
  EXPECT_EQ(m->Get("PID", 3, 4, 2, 1), "1.2.752.129.2.1.3.1");
  EXPECT_EQ(m->Get("PV1", 3, 4, 2), "SE2321000131-E000000000001");
}

TEST(MessageTest, EveryEscapeSequence) {
  absl::StatusOr<Hl7Message> m = Hl7Message::Parse(
      "MSH|^~\\&|A|B|C|D|20261125||ADT^A08|1|P|2.5\r"
      "NTE|1||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f|x\\X4142\\y|\\H\\bold\\N\\|line\\.br\\two"
      "|lone\\|bad\\Q\\x\r");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->Get("NTE", 3), "a|b^c&d~e\\f");
  EXPECT_EQ(m->Get("NTE", 4), "xABy");
  EXPECT_EQ(m->Get("NTE", 5), "bold");
  EXPECT_EQ(m->Get("NTE", 6), "line\ntwo");
  EXPECT_EQ(m->Get("NTE", 7), "lone\\");
  EXPECT_EQ(m->Get("NTE", 8), "bad\\Q\\x");
}

TEST(MessageTest, EscapedDelimitersDoNotSplit) {
  absl::StatusOr<Hl7Message> m =
      Hl7Message::Parse("MSH|^~\\&|A|B|C|D|20261125||ADT^A08|1|P|2.5\rPID|1||x\\S\\y^z\r");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->Get("PID", 3, 1), "x^y");
  EXPECT_EQ(m->Get("PID", 3, 2), "z");
}

TEST(MessageTest, EscapeRoundTrip) {
  EncodingCharacters enc;
  const std::string text = "a|b^c&d~e\\f";
  EXPECT_EQ(Unescape(Escape(text, enc), enc, Charset::kUtf8), text);
}

TEST(MessageTest, Latin1IsConvertedToUtf8) {
  // "Åsa Öberg-Lärka" in ISO 8859-1 bytes.
  std::string msg =
      "MSH|^~\\&|A|B|C|D|20261125||ADT^A08|1|P|2.5|||||SE|8859/1\r"
      "PID|1||191212121212^^^^PN||\xD6" "berg-L\xE4rka^\xC5sa\r";
  absl::StatusOr<Hl7Message> m = Hl7Message::Parse(msg);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->Get("PID", 5, 1), "\xC3\x96" "berg-L\xC3\xA4rka");
  EXPECT_EQ(m->Get("PID", 5, 2), "\xC3\x85sa");
  EXPECT_EQ(m->charset(), Charset::kLatin1);
}

TEST(MessageTest, Utf8AndHexEscapesInTheMessageCharset) {
  std::string utf8 =
      "MSH|^~\\&|A|B|C|D|20261125||ADT^A08|1|P|2.5|||||SE|UNICODE UTF-8\r"
      "PID|1||1||\xC3\x96" "berg^\\XC385\\sa\r";
  absl::StatusOr<Hl7Message> m = Hl7Message::Parse(utf8);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->Get("PID", 5, 1), "\xC3\x96" "berg");
  EXPECT_EQ(m->Get("PID", 5, 2), "\xC3\x85sa");

  std::string latin1 =
      "MSH|^~\\&|A|B|C|D|20261125||ADT^A08|1|P|2.5|||||SE|8859/1\rPID|1||1||\\XC5\\sa\r";
  m = Hl7Message::Parse(latin1);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->Get("PID", 5, 1), "\xC3\x85sa");
}

TEST(MessageTest, DefaultCharsetAppliesWhenMsh18IsEmpty) {
  std::string msg = "MSH|^~\\&|A|B|C|D|20261125||ADT^A08|1|P|2.5\rPID|1||1||\xC5sa\r";
  EXPECT_FALSE(Hl7Message::Parse(msg).ok());  // not UTF-8
  absl::StatusOr<Hl7Message> m = Hl7Message::Parse(msg, {.default_charset = "8859/1"});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->Get("PID", 5), "\xC3\x85sa");
}

TEST(MessageTest, InvalidUtf8AndUnsupportedCharsetAreErrors) {
  EXPECT_FALSE(Hl7Message::Parse("MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\rPID|\xC3\r").ok());
  EXPECT_FALSE(Hl7Message::Parse("MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\rPID|\xED\xA0\x80\r").ok());
  EXPECT_FALSE(
      Hl7Message::Parse("MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5|||||SE|ISO IR87\rPID|1\r").ok());
}

TEST(MessageTest, SegmentTerminatorsCrLfCrLf) {
  for (const char* eol : {"\r", "\n", "\r\n"}) {
    std::string msg = absl::StrReplaceAll(kA01, {{"\r", eol}});
    absl::StatusOr<Hl7Message> m = Hl7Message::Parse(msg);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->segments().size(), 4u);
    EXPECT_EQ(m->Get("PV1", 19), "V123");
  }
}

TEST(MessageTest, StructuralErrors) {
  EXPECT_FALSE(Hl7Message::Parse("").ok());
  EXPECT_FALSE(Hl7Message::Parse("PID|1\r").ok());
  EXPECT_FALSE(Hl7Message::Parse("MSH|^~\\&").ok());
  EXPECT_FALSE(Hl7Message::Parse("MSH|^~|A\r").ok());
  EXPECT_FALSE(Hl7Message::Parse("MSH|^^\\&|A\r").ok());  // not distinct
  EXPECT_FALSE(Hl7Message::Parse("MSH|^~\\&|A\rpid|1\r").ok());
  EXPECT_FALSE(Hl7Message::Parse("MSH|^~\\&|A\rMSH|^~\\&|B\r").ok());
}

TEST(MessageTest, ErrorsNeverEchoValues) {
  absl::StatusOr<Hl7Message> m =
      Hl7Message::Parse("MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\r191212121212|x\r");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(std::string(m.status().message()).find("1912"), std::string::npos);
}

}  // namespace
}  // namespace carehub::hl7v2
