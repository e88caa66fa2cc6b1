#include "carehub/municipal/reader.h"

#include <string>

#include "gtest/gtest.h"

namespace carehub::municipal {
namespace {

std::string Get(const SourceLine& line, const std::string& name) {
  const std::string* value = FindField(line.fields, name);
  return value == nullptr ? "<absent>" : *value;
}

TEST(JsonLinesReaderTest, ReadsObjectsWithLineNumbersAndSkipsBlankLines) {
  const ReadResult r = ReadMunicipalFile(
      "{\"record_type\":\"egenmatning\",\"value\":91.5,\"ok\":true,\"n\":null}\r\n"
      "\n"
      "   \n"
      "{\"goal_ids\":[\"g1\",\"g2\", 3],\"empty\":\"\"}",
      {.kind = FileKind::kJsonLines});
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[0].line, 1);
  EXPECT_EQ(r.lines[0].error, "");
  EXPECT_EQ(Get(r.lines[0], "record_type"), "egenmatning");
  EXPECT_EQ(Get(r.lines[0], "value"), "91.5");
  EXPECT_EQ(Get(r.lines[0], "ok"), "true");
  EXPECT_EQ(Get(r.lines[0], "n"), "<absent>");
  EXPECT_EQ(r.lines[1].line, 4);
  EXPECT_EQ(Get(r.lines[1], "goal_ids"), "g1|g2|3");
  EXPECT_EQ(Get(r.lines[1], "empty"), "<absent>");
  EXPECT_EQ(r.lines[1].text, "{\"goal_ids\":[\"g1\",\"g2\", 3],\"empty\":\"\"}");
}

TEST(JsonLinesReaderTest, BadLinesGetTheirOwnErrorAndTheRestIsRead) {
  const ReadResult r = ReadMunicipalFile(
      "{\"a\":\"1\"}\n"
      "{\"a\":\n"
      "[1,2]\n"
      "{\"a\":{\"b\":1}}\n"
      "{\"a\":\"1\",\"a\":\"2\"}\n"
      "{\"a\":\"x|y\"}\n"
      "{\"a\":[\"x|y\"]}\n"
      "{\"a\":\"\xE5\"}\n"
      "{\"a\":\"1\"} trailing\n"
      "{\"a\":[[1]]}\n"
      "{\"a\":\"ok\"}\n"
      "{\"\":2}\n",
      {.kind = FileKind::kJsonLines});
  ASSERT_EQ(r.lines.size(), 12u);
  EXPECT_EQ(r.lines[0].error, "");
  EXPECT_NE(r.lines[1].error.find("malformed JSON"), std::string::npos) << r.lines[1].error;
  EXPECT_NE(r.lines[2].error.find("one JSON object"), std::string::npos);
  EXPECT_NE(r.lines[3].error.find("nested object"), std::string::npos);
  EXPECT_NE(r.lines[4].error.find("given twice"), std::string::npos);
  EXPECT_EQ(r.lines[5].error, "");  // '|' in a plain string is text
  EXPECT_NE(r.lines[6].error.find("'|'"), std::string::npos);
  EXPECT_NE(r.lines[7].error.find("UTF-8"), std::string::npos);
  EXPECT_EQ(r.lines[7].text, "{\"a\":\"\xEF\xBF\xBD\"}");
  EXPECT_NE(r.lines[8].error.find("malformed JSON"), std::string::npos);
  EXPECT_NE(r.lines[9].error.find("nested array"), std::string::npos);
  EXPECT_EQ(r.lines[10].error, "");
  EXPECT_EQ(r.lines[10].line, 11);
  EXPECT_EQ(r.lines[11].error, "a field name may not be empty");  // found by the fuzzer
  EXPECT_TRUE(r.lines[1].fields.empty());
}

TEST(CsvReaderTest, SemicolonsWindows1252QuotesAndEmbeddedNewlines) {
  // As a Swedish Excel saves "CSV (semikolonavgränsad)": Windows-1252, ';', CRLF.
  const std::string file =
      "Record_Type ; record_id;description\r\n"
      "insats_planerad;r-1;Hemtj\xE4nst morgon och kv\xE4ll\r\n"
      "\r\n"
      "insats_planerad;r-2;\"Dusch; \"\"helg\"\"\r\nendast\"\r\n"
      "insats_planerad;r-3;\r\n";
  const ReadResult r = ReadMunicipalFile(file, {.kind = FileKind::kCsv});
  EXPECT_EQ(r.file_error, "");
  EXPECT_EQ(r.charset, Charset::kWindows1252);
  EXPECT_EQ(r.separator, ';');
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[0].line, 2);
  EXPECT_EQ(Get(r.lines[0], "record_type"), "insats_planerad");
  EXPECT_EQ(Get(r.lines[0], "description"), "Hemtjänst morgon och kväll");
  EXPECT_EQ(r.lines[0].text, "insats_planerad;r-1;Hemtjänst morgon och kväll");
  EXPECT_EQ(r.lines[1].line, 4);
  EXPECT_EQ(Get(r.lines[1], "description"), "Dusch; \"helg\"\r\nendast");
  EXPECT_EQ(r.lines[2].line, 6);
  EXPECT_EQ(Get(r.lines[2], "description"), "<absent>");
}

TEST(CsvReaderTest, CommasUtf8WithBomAndLf) {
  const ReadResult r = ReadMunicipalFile(
      "\xEF\xBB\xBFrecord_id,member_name\n1,\"Tolvansson, Tolvan\"\n2,Åsa Öberg\n",
      {.kind = FileKind::kCsv});
  EXPECT_EQ(r.charset, Charset::kUtf8);
  EXPECT_EQ(r.separator, ',');
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(Get(r.lines[0], "record_id"), "1");
  EXPECT_EQ(Get(r.lines[0], "member_name"), "Tolvansson, Tolvan");
  EXPECT_EQ(Get(r.lines[1], "member_name"), "Åsa Öberg");
}

TEST(CsvReaderTest, ExplicitCharsetAndSeparatorWin) {
  const ReadResult latin1 =
      ReadMunicipalFile("a;b\n\xC5;x\n", {.kind = FileKind::kCsv, .charset = Charset::kWindows1252});
  ASSERT_EQ(latin1.lines.size(), 1u);
  EXPECT_EQ(Get(latin1.lines[0], "a"), "Å");

  const ReadResult utf8 =
      ReadMunicipalFile("a;b\n\xC5;x\nok;y\n", {.kind = FileKind::kCsv, .charset = Charset::kUtf8});
  ASSERT_EQ(utf8.lines.size(), 2u);
  EXPECT_NE(utf8.lines[0].error.find("not valid UTF-8"), std::string::npos);
  EXPECT_EQ(utf8.lines[1].error, "");

  const ReadResult comma = ReadMunicipalFile("a,b;c\n1,2;3\n", {.kind = FileKind::kCsv, .separator = ','});
  ASSERT_EQ(comma.lines.size(), 1u);
  EXPECT_EQ(Get(comma.lines[0], "b;c"), "2;3");
}

TEST(CsvReaderTest, PerLineErrors) {
  const ReadResult r = ReadMunicipalFile(
      "a;b\n"
      "1;2;3\n"
      "1\n"
      "\"x\"y;2\n"
      "1;2\n"
      "\"never closed;2\n"
      "1;2\n",
      {.kind = FileKind::kCsv});
  ASSERT_EQ(r.lines.size(), 5u);
  EXPECT_EQ(r.lines[0].error, "has 3 fields; the header has 2");
  EXPECT_EQ(r.lines[0].line, 2);
  EXPECT_EQ(r.lines[1].error, "has 1 fields; the header has 2");
  EXPECT_EQ(r.lines[2].error, "text after the closing quote of a quoted field");
  EXPECT_EQ(r.lines[3].error, "");
  EXPECT_EQ(r.lines[3].line, 5);
  EXPECT_EQ(r.lines[4].error, "a quoted field opened on line 6 is never closed");
  EXPECT_EQ(r.lines[4].text, "\"never closed;2\n1;2\n");
}

TEST(CsvReaderTest, BadHeaderMakesEveryLineAnErrorThatSaysWhy) {
  const ReadResult duplicate = ReadMunicipalFile("a;A\n1;2\n3;4\n", {.kind = FileKind::kCsv});
  EXPECT_EQ(duplicate.file_error, "header: column \"a\" appears twice");
  ASSERT_EQ(duplicate.lines.size(), 2u);
  EXPECT_EQ(duplicate.lines[1].error, "not read: header: column \"a\" appears twice");
  EXPECT_EQ(duplicate.lines[1].line, 3);

  const ReadResult no_separator = ReadMunicipalFile("justone\n1\n", {.kind = FileKind::kCsv});
  EXPECT_NE(no_separator.file_error.find("no ';' or ','"), std::string::npos);
  ASSERT_EQ(no_separator.lines.size(), 2u);  // the header line too: it could not be told apart

  const ReadResult empty_name = ReadMunicipalFile("a;;c\n1;2;3\n", {.kind = FileKind::kCsv});
  EXPECT_EQ(empty_name.file_error, "header: column 2 has no name");
}

TEST(ReaderTest, EmptyInputHasNoLines) {
  EXPECT_TRUE(ReadMunicipalFile("", {.kind = FileKind::kCsv}).lines.empty());
  EXPECT_TRUE(ReadMunicipalFile("\n\n", {.kind = FileKind::kJsonLines}).lines.empty());
  EXPECT_TRUE(ReadMunicipalFile("a;b\n", {.kind = FileKind::kCsv}).lines.empty());
}

}  // namespace
}  // namespace carehub::municipal
