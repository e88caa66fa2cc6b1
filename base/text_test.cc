#include "carehub/base/text.h"

#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace carehub {
namespace {

TEST(Utf8SequenceLengthTest, AcceptsWellFormedAndRejectsTheRest) {
  EXPECT_EQ(Utf8SequenceLength("a", 0), 1u);
  EXPECT_EQ(Utf8SequenceLength("ä", 0), 2u);
  EXPECT_EQ(Utf8SequenceLength("€", 0), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x98\x80", 0), 4u);
  EXPECT_EQ(Utf8SequenceLength("\xC0\xAF", 0), 0u);          // overlong
  EXPECT_EQ(Utf8SequenceLength("\xED\xA0\x80", 0), 0u);      // surrogate
  EXPECT_EQ(Utf8SequenceLength("\xF4\x90\x80\x80", 0), 0u);  // above U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xC3", 0), 0u);              // cut short
  EXPECT_EQ(Utf8SequenceLength("\xFF", 0), 0u);
}

TEST(JsonQuoteTest, EscapesAndKeepsUtf8Valid) {
  EXPECT_EQ(JsonQuote(""), R"("")");
  EXPECT_EQ(JsonQuote("a\"b\\c\n\r\t\x01\x1f"), R"("a\"b\\c\n\r\t\u0001\u001f")");
  EXPECT_EQ(JsonQuote("Märta Tolvansson"), "\"Märta Tolvansson\"");
  EXPECT_EQ(JsonQuote("\xff"), R"("\ufffd")");
  EXPECT_EQ(JsonQuote("x\xc3"), R"("x\ufffd")");
  EXPECT_EQ(JsonQuote("\xED\xA0\x80z"), R"("\ufffd\ufffd\ufffdz")");
}

TEST(JsonQuoteTest, AParserReadsBackWhatWasQuoted) {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  all += "åäö Ö € \xF0\x9F\x98\x80";
  nlohmann::json parsed = nlohmann::json::parse(JsonQuote(all));
  EXPECT_EQ(parsed.get<std::string>(), all);

  std::string out = "[";
  AppendJsonQuoted("a", &out);
  out += ",";
  AppendJsonQuoted("b\"", &out);
  out += "]";
  EXPECT_EQ(nlohmann::json::parse(out), nlohmann::json::array({"a", "b\""}));
}

}  // namespace
}  // namespace carehub
