#include "services/care/internal/state_cache.h"

#include <memory>
#include <string>

#include "carehub/care/v1/events.pb.h"
#include "carehub/eventstore/types.h"
#include "gtest/gtest.h"

namespace carehub::care::internal {
namespace {

// A state folded up to `version` (events carry only a version; their content does not matter).
std::unique_ptr<PatientState> StateAt(const DeadlineCalendar* calendar, uint64_t version) {
  auto state = std::make_unique<PatientState>(calendar);
  for (uint64_t v = 0; v <= version; ++v) {
    eventstore::RecordedEvent recorded;
    recorded.version = v;
    recorded.data = v1::CareEvent().SerializeAsString();
    EXPECT_TRUE(state->Apply(recorded).ok());
  }
  return state;
}

TEST(StateCacheTest, TakeRemovesSoNoTwoCommandsShareAState) {
  StateCache cache(4);
  cache.Put("patient-a", StateAt(nullptr, 2));
  std::unique_ptr<PatientState> taken = cache.Take("patient-a");
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(taken->version(), 2u);
  EXPECT_EQ(cache.Take("patient-a"), nullptr);
}

TEST(StateCacheTest, KeepsTheFurtherFoldedStateAndEvictsTheLeastRecentlyUsed) {
  StateCache cache(2);
  cache.Put("patient-a", StateAt(nullptr, 5));
  cache.Put("patient-a", StateAt(nullptr, 3));  // a slower concurrent command puts back less
  EXPECT_EQ(cache.Take("patient-a")->version(), 5u);

  cache.Put("patient-a", StateAt(nullptr, 0));
  cache.Put("patient-b", StateAt(nullptr, 0));
  cache.Put("patient-a", StateAt(nullptr, 1));  // a used again: b is now the oldest
  cache.Put("patient-c", StateAt(nullptr, 0));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Take("patient-b"), nullptr);
  EXPECT_NE(cache.Take("patient-a"), nullptr);
  EXPECT_NE(cache.Take("patient-c"), nullptr);
}

TEST(StateCacheTest, ZeroCapacityCachesNothing) {
  StateCache cache(0);
  cache.Put("patient-a", StateAt(nullptr, 0));
  EXPECT_EQ(cache.Take("patient-a"), nullptr);
}

}  // namespace
}  // namespace carehub::care::internal
