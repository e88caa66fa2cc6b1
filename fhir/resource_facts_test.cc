#include "carehub/fhir/resource_facts.h"

#include <string>

#include "absl/strings/str_cat.h"
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

TEST(DataOwnerOfTest, FindsTheOwnerAndUnitInTheirExtensionsOnly) {
  auto extension = [](const char* url, const char* hsa_id) {
    return absl::StrCat(R"({"url":")", url, R"(","valueReference":{)",
                        R"("reference":"Organization/abc","type":"Organization",)",
                        R"("identifier":{"system":"urn:oid:1.2.752.29.4.19","value":")", hsa_id,
                        R"("}}})");
  };
  const std::string owned = absl::StrCat(
      R"({"resourceType":"Encounter","id":"e","extension":[)",
      R"({"url":"https://carehub.se/fhir/StructureDefinition/expected-discharge",)",
      R"("valueDateTime":"2026-03-05"},)",
      extension(kDataOwnerExtension, "SE2321000131-E000000000000"), ",",
      extension(kDataOwnerUnitExtension, "SE2321000131-E000000000001"),
      R"(],"status":"finished"})");
  EXPECT_EQ(DataOwnerOf(owned).organization, "SE2321000131-E000000000000");
  EXPECT_EQ(DataOwnerOf(owned).unit, "SE2321000131-E000000000001");
  const std::string no_unit = absl::StrCat(
      R"({"resourceType":"Flag","extension":[)",
      extension(kDataOwnerExtension, "SE2120000829-E000000000003"), "]}");
  EXPECT_EQ(DataOwnerOf(no_unit).organization, "SE2120000829-E000000000003");
  EXPECT_EQ(DataOwnerOf(no_unit).unit, "");
  EXPECT_EQ(DataOwnerOf(R"({"resourceType":"CarePlan","id":"p","status":"active"})").organization,
            "");
  // The extension's text inside a string value is escaped, so it is not taken for the extension.
  const std::string quoted =
      absl::StrCat(R"({"resourceType":"CarePlan","note":[{"text":"\"url\":\")",
                   kDataOwnerExtension, R"(\",\"valueReference\":{\"value\":\"x"}]})");
  EXPECT_EQ(DataOwnerOf(quoted).organization, "");
  EXPECT_TRUE(HoldsOwnersCare("Encounter"));
  EXPECT_FALSE(HoldsOwnersCare("CarePlan"));
}

}  // namespace
}  // namespace carehub::fhir
