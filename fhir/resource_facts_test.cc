#include "carehub/fhir/resource_facts.h"

#include <string>

#include "gtest/gtest.h"

namespace carehub::fhir {
namespace {

TEST(ScanResourceTest, FindsTypeIdAndMetaAnywhereAtTopLevel) {
  ResourceFacts f;
  ASSERT_TRUE(ScanResource(
      R"({"contained":[{"id":"no","meta":{"versionId":"9"}}],"note":"{\"id\":\"x\"}",)"
      R"("id":"abc","meta":{"lastUpdated":"2026-03-01T02:10:00.000Z","versionId":"3"},)"
      R"("n":-1.5e3,"b":true,"resourceType":"CarePlan"})",
      &f));
  EXPECT_EQ(f.resource_type, "CarePlan");
  EXPECT_EQ(f.id, "abc");
  EXPECT_EQ(f.version_id, "3");
  EXPECT_EQ(f.last_updated, "2026-03-01T02:10:00.000Z");
  EXPECT_FALSE(ScanResource("[1]", &f));
  EXPECT_FALSE(ScanResource(R"({"id":"x")", &f));
}

TEST(ScanResourceTest, StopsOnceItHasAllFourFacts) {
  ResourceFacts f;
  // What follows the facts is not read: a large resource costs no more than a small one.
  EXPECT_TRUE(ScanResource(
      R"({"resourceType":"Goal","id":"g","meta":{"versionId":"1","lastUpdated":"2026-03-01T02:10:00Z"},)"
      R"("note":[not read)",
      &f));
  EXPECT_EQ(f.id, "g");
  EXPECT_EQ(f.version_id, "1");
}

TEST(DataOwnerOfTest, FindsTheOwnersHsaIdInTheExtensionOnly) {
  const std::string owned = std::string(R"({"resourceType":"Encounter","id":"e","extension":[)") +
                            R"({"url":"https://carehub.se/fhir/StructureDefinition/expected-discharge",)"
                            R"("valueDateTime":"2026-03-05"},{"url":")" + kDataOwnerExtension +
                            R"(","valueReference":{"reference":"Organization/abc","type":"Organization",)"
                            R"("identifier":{"system":"urn:oid:1.2.752.29.4.19",)"
                            R"("value":"SE2321000131-E000000000000"}}}],"status":"finished"})";
  EXPECT_EQ(DataOwnerOf(owned), "SE2321000131-E000000000000");
  EXPECT_EQ(DataOwnerOf(R"({"resourceType":"CarePlan","id":"p","status":"active"})"), "");
  // The extension's text inside a string value is escaped, so it is not taken for the extension.
  const std::string quoted = std::string(R"({"resourceType":"CarePlan","note":[{"text":"\"url\":\")") +
                             kDataOwnerExtension + R"(\",\"valueReference\":{\"value\":\"x"}]})";
  EXPECT_EQ(DataOwnerOf(quoted), "");
}

}  // namespace
}  // namespace carehub::fhir
