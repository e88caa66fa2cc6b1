#include "fhir/internal/resource_cache.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace carehub::fhir::internal {
namespace {

std::shared_ptr<const CachedResource> Resource(size_t bytes) {
  auto r = std::make_shared<CachedResource>();
  r->json = std::string(bytes, 'x');
  return r;
}

// Generations of about ten entries: each turnover drops the generation before the last.
TEST(ResourceCacheTest, KeepsRecentEntriesAndFreesDroppedOnesAFewPerPut) {
  ResourceCache cache(20 * 1100);
  std::shared_ptr<const CachedResource> first = Resource(1000);
  std::weak_ptr<const CachedResource> first_alive = first;
  cache.Put("Goal/first", std::move(first));
  for (int i = 0; i < 10; ++i) cache.Put(absl::StrCat("Goal/a", i), Resource(1000));
  // One turnover: "first" is in the older generation, still found (and moved back to the newer).
  ASSERT_NE(cache.Get("Goal/first"), nullptr);
  std::vector<std::weak_ptr<const CachedResource>> old;
  for (int i = 0; i < 10; ++i) {
    std::shared_ptr<const CachedResource> r = Resource(1000);
    old.push_back(r);
    cache.Put(absl::StrCat("Goal/b", i), std::move(r));
  }
  for (int i = 0; i < 30; ++i) cache.Put(absl::StrCat("Goal/c", i), Resource(1000));
  // Three generations on, the b entries are gone: not found, and freed by the puts since.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(cache.Get(absl::StrCat("Goal/b", i)), nullptr) << i;
    EXPECT_TRUE(old[i].expired()) << i;
  }
  EXPECT_TRUE(first_alive.expired());
  // The newest entries are found.
  EXPECT_NE(cache.Get("Goal/c29"), nullptr);
  EXPECT_NE(cache.Get("Goal/c28"), nullptr);
}

}  // namespace
}  // namespace carehub::fhir::internal
