#include "carehub/care/patient_id.h"

#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace carehub::care {
namespace {

std::vector<std::string> Mint(PatientIdGenerator& ids, int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<std::string> id = ids.NewPatientId();
    EXPECT_TRUE(id.ok()) << id.status();
    if (id.ok()) out.push_back(*id);
  }
  return out;
}

TEST(PatientIdTest, UrandomIdsAreDistinctVersion4Uuids) {
  std::unique_ptr<PatientIdGenerator> ids = NewUrandomPatientIdGenerator();
  const std::vector<std::string> minted = Mint(*ids, 2000);
  std::set<char> variants;
  for (const std::string& id : minted) {
    ASSERT_TRUE(IsPatientId(id)) << id;
    variants.insert(id[19]);
  }
  EXPECT_EQ(std::set<std::string>(minted.begin(), minted.end()).size(), minted.size());
  // All four variant nibbles turn up: the bits under the stamp are random.
  EXPECT_EQ(variants, (std::set<char>{'8', '9', 'a', 'b'}));
}

TEST(PatientIdTest, ASeededGeneratorReplaysTheSameIds) {
  std::mt19937_64 first(42);
  std::mt19937_64 second(42);
  std::mt19937_64 other(43);
  const std::vector<std::string> a = Mint(*NewBitGenPatientIdGenerator(first), 10);
  const std::vector<std::string> b = Mint(*NewBitGenPatientIdGenerator(second), 10);
  const std::vector<std::string> c = Mint(*NewBitGenPatientIdGenerator(other), 10);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (const std::string& id : a) EXPECT_TRUE(IsPatientId(id)) << id;
}

TEST(PatientIdTest, AbslBitGenIsSharedSafelyAcrossThreads) {
  absl::BitGen gen;
  std::unique_ptr<PatientIdGenerator> ids = NewBitGenPatientIdGenerator(gen);
  absl::Mutex mu;
  std::set<std::string> all;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      const std::vector<std::string> minted = Mint(*ids, 500);
      absl::MutexLock lock(&mu);
      all.insert(minted.begin(), minted.end());
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(all.size(), 2000u);
}

TEST(PatientIdTest, IsPatientIdRefusesEverythingElse) {
  EXPECT_TRUE(IsPatientId("3b0c5e8a-1f2d-4c7e-9a61-0d2f4e8b7c15"));
  EXPECT_FALSE(IsPatientId(""));
  EXPECT_FALSE(IsPatientId("191212121212"));
  EXPECT_FALSE(IsPatientId("19121212-1212"));
  EXPECT_FALSE(IsPatientId("3B0C5E8A-1F2D-4C7E-9A61-0D2F4E8B7C15"));  // upper case
  EXPECT_FALSE(IsPatientId("3b0c5e8a-1f2d-1c7e-9a61-0d2f4e8b7c15"));  // version 1
  EXPECT_FALSE(IsPatientId("3b0c5e8a-1f2d-4c7e-ca61-0d2f4e8b7c15"));  // not RFC 4122 variant
  EXPECT_FALSE(IsPatientId("3b0c5e8a1f2d-4c7e-9a61-0d2f4e8b7c15-"));  // dashes misplaced
  EXPECT_FALSE(IsPatientId("3b0c5e8a-1f2d-4c7e-9a61-0d2f4e8b7c1"));   // too short
  EXPECT_FALSE(IsPatientId("3b0c5e8a-1f2d-4c7e-9a61-0d2f4e8b7c15 "));  // trailing space
  EXPECT_FALSE(IsPatientId("3b0c5e8a-1f2d-4c7e-9a61-0d2f4e8b7g15"));  // not hex
}

}  // namespace
}  // namespace carehub::care
