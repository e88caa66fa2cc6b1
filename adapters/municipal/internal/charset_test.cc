#include "adapters/municipal/internal/charset.h"

#include "gtest/gtest.h"

namespace carehub::municipal::internal {
namespace {

TEST(CharsetTest, SwedishLettersFromWindows1252) {
  // "Vårdcentralen Bäckby, Öster" in Windows-1252 / ISO 8859-1.
  EXPECT_EQ(Windows1252ToUtf8("V\xE5rdcentralen B\xE4" "ckby, \xD6ster"),
            "Vårdcentralen Bäckby, Öster");
  EXPECT_EQ(Windows1252ToUtf8("\x80 \x96 \x9E"), "€ – ž");
  EXPECT_EQ(Windows1252ToUtf8("\x81"), "\xC2\x81");
}

TEST(CharsetTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("Tolvan Tolvansson, Åsa, 😀"));
  EXPECT_FALSE(IsValidUtf8("\xE5"));              // a Windows-1252 å
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
  EXPECT_EQ(SanitizeUtf8("a\xE5" "b"), "a\xEF\xBF\xBD" "b");
}

}  // namespace
}  // namespace carehub::municipal::internal
