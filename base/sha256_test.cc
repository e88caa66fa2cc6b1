#include "carehub/base/sha256.h"

#include <array>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace carehub {
namespace {

// The test vectors of FIPS 180-2, appendix B.
TEST(Sha256Test, KnownDigests) {
  EXPECT_EQ(Sha256Hex({"abc"}),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex({"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"}),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex({}), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, PartsAreConcatenated) {
  EXPECT_EQ(Sha256Hex({"a", "", "bc"}), Sha256Hex({"abc"}));
  EXPECT_NE(Sha256Hex({"ab", "d"}), Sha256Hex({"abc"}));
  const std::array<uint8_t, 32> digest = Sha256({"ab", "c"});
  EXPECT_EQ(digest[0], 0xba);
  EXPECT_EQ(digest[31], 0xad);
}

// Each thread has its own digest context: digests computed at once do not mix.
TEST(Sha256Test, ThreadsHashIndependently) {
  const std::string expected = Sha256Hex({"abc"});
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string other(100 + t, 'x');
      const std::string other_expected = Sha256Hex({other});
      for (int i = 0; i < 2000; ++i) {
        if (Sha256Hex({"a", "bc"}) != expected) ++mismatches[t];
        if (Sha256Hex({other}) != other_expected) ++mismatches[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace carehub
