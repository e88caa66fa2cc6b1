#include "carehub/fhir/resource_facts.h"

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

}  // namespace
}  // namespace carehub::fhir
