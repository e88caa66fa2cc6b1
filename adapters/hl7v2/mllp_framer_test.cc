#include "carehub/hl7v2/mllp_framer.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace carehub::hl7v2 {
namespace {

std::vector<MllpFrame> FeedAll(MllpFramer& framer, const std::vector<std::string>& chunks) {
  std::vector<MllpFrame> frames;
  for (const std::string& chunk : chunks) framer.Feed(chunk, &frames);
  return frames;
}

TEST(MllpFramerTest, OneFrameInSeveralChunks) {
  MllpFramer framer;
  const std::string framed = MllpFramer::Frame("MSH|^~\\&|A\rPID|1\r");
  std::vector<std::string> chunks;
  for (char c : framed) chunks.push_back(std::string(1, c));  // worst case: a byte per read
  std::vector<MllpFrame> frames = FeedAll(framer, chunks);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].kind, MllpFrame::Kind::kMessage);
  EXPECT_EQ(frames[0].payload, "MSH|^~\\&|A\rPID|1\r");
  EXPECT_FALSE(framer.pending());
}

TEST(MllpFramerTest, TwoFramesInOneChunk) {
  MllpFramer framer;
  std::vector<MllpFrame> frames =
      FeedAll(framer, {MllpFramer::Frame("MSH|1") + MllpFramer::Frame("MSH|2")});
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].payload, "MSH|1");
  EXPECT_EQ(frames[1].payload, "MSH|2");
}

TEST(MllpFramerTest, StrayBytesBeforeStartAreSkipped) {
  MllpFramer framer;
  std::vector<MllpFrame> frames = FeedAll(framer, {"\r\nnoise", MllpFramer::Frame("MSH|1")});
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, "MSH|1");
  EXPECT_EQ(framer.stray_bytes(), 7u);
}

TEST(MllpFramerTest, MissingCrAfterEndStillEndsTheFrame) {
  MllpFramer framer;
  std::vector<MllpFrame> frames;
  framer.Feed("\x0BMSH|1\x1C", &frames);
  ASSERT_EQ(frames.size(), 1u);  // answered at once, without waiting for a CR
  framer.Feed("\x0BMSH|2\x1C\r", &frames);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].payload, "MSH|2");
  EXPECT_EQ(framer.stray_bytes(), 0u);
}

TEST(MllpFramerTest, EmptyFrame) {
  MllpFramer framer;
  std::vector<MllpFrame> frames = FeedAll(framer, {"\x0B\x1C\r"});
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].kind, MllpFrame::Kind::kEmpty);
}

TEST(MllpFramerTest, OversizedMessageKeepsOnlyAPrefixAndTheNextFrameWorks) {
  MllpFramer framer({.max_message_bytes = 1000, .max_prefix_bytes = 100});
  std::string big = "MSH|^~\\&|" + std::string(5000, 'x');
  std::vector<std::string> chunks = {"\x0B"};
  for (size_t i = 0; i < big.size(); i += 333) chunks.push_back(big.substr(i, 333));
  chunks.push_back("\x1C\r" + MllpFramer::Frame("MSH|ok"));
  std::vector<MllpFrame> frames = FeedAll(framer, chunks);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].kind, MllpFrame::Kind::kOversized);
  EXPECT_EQ(frames[0].payload, big.substr(0, 100));
  EXPECT_EQ(frames[0].size, big.size());
  EXPECT_EQ(frames[1].kind, MllpFrame::Kind::kMessage);
  EXPECT_EQ(frames[1].payload, "MSH|ok");
}

TEST(MllpFramerTest, AMessageOfExactlyTheLimitIsAccepted) {
  MllpFramer framer({.max_message_bytes = 1 << 20});
  const std::string message(1 << 20, 'a');
  std::vector<MllpFrame> frames = FeedAll(framer, {MllpFramer::Frame(message)});
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].kind, MllpFrame::Kind::kMessage);
  EXPECT_EQ(frames[0].payload.size(), message.size());
}

TEST(MllpFramerTest, ClosedMidFrameIsPending) {
  MllpFramer framer;
  std::vector<MllpFrame> frames = FeedAll(framer, {"\x0BMSH|half"});
  EXPECT_TRUE(frames.empty());
  EXPECT_TRUE(framer.pending());
}

TEST(MllpFramerTest, StartByteInsideFrameRestarts) {
  MllpFramer framer;
  std::vector<MllpFrame> frames = FeedAll(framer, {"\x0BMSH|lost", MllpFramer::Frame("MSH|2")});
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, "MSH|2");
  EXPECT_EQ(framer.abandoned_frames(), 1u);
}

}  // namespace
}  // namespace carehub::hl7v2
