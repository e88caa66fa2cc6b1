#include "carehub/hl7v2/dead_letter_store.h"

#include <filesystem>

#include "carehub/services/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace carehub::hl7v2 {
namespace {

TEST(DeadLetterStoreTest, PutListGetResubmit) {
  services::testing::TempDir dir;
  ManualClock clock(absl::FromUnixSeconds(1795000000));
  std::unique_ptr<DeadLetterStore> store = *DeadLetterStore::Open(dir.File("dl"), &clock);
  const std::string message = "MSH|^~\\&|A|B\rPID|1||191212121212\r\x01\xff";
  absl::StatusOr<std::string> id1 = store->Put({.ack_code = "AR",
                                                .error_code = "201",
                                                .reason = "MSH-9.2: not\nsupported",
                                                .control_id = "C1",
                                                .source_system = "COSMIC^SE1",
                                                .message_type = "ADT^A99",
                                                .size = message.size(),
                                                .message = message});
  ASSERT_TRUE(id1.ok()) << id1.status();
  clock.Advance(absl::Seconds(1));
  absl::StatusOr<std::string> id2 = store->Put({.ack_code = "AE", .message = ""});
  ASSERT_TRUE(id2.ok());
  EXPECT_LT(*id1, *id2);
  // No part of the message reaches a file name.
  for (const auto& entry : std::filesystem::directory_iterator(dir.File("dl"))) {
    EXPECT_EQ(entry.path().filename().string().find("1912"), std::string::npos);
  }

  absl::StatusOr<std::vector<DeadLetter>> all = store->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, *id1);
  EXPECT_EQ((*all)[0].reason, "MSH-9.2: not supported");
  EXPECT_EQ((*all)[0].received_at, absl::FromUnixSeconds(1795000000));
  EXPECT_TRUE((*all)[0].message.empty());

  absl::StatusOr<DeadLetter> got = store->Get(*id1);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->message, message);  // verbatim, bytes and all
  EXPECT_EQ(got->control_id, "C1");
  EXPECT_EQ(got->size, message.size());

  ASSERT_TRUE(store->MarkResubmitted(*id1, "AA").ok());
  all = store->List();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, *id2);
  EXPECT_TRUE(std::filesystem::exists(dir.File("dl/resubmitted/" + *id1 + ".hl7")));

  // A reopened store sees the same letters.
  store = *DeadLetterStore::Open(dir.File("dl"), &clock);
  EXPECT_EQ(store->List()->size(), 1u);
}

TEST(DeadLetterStoreTest, IdsThatAreNotOursAreRefused) {
  services::testing::TempDir dir;
  ManualClock clock(absl::UnixEpoch());
  std::unique_ptr<DeadLetterStore> store = *DeadLetterStore::Open(dir.File("dl"), &clock);
  EXPECT_EQ(store->Get("../../etc/passwd").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Get("20261125T000000.000000Z-1-000001").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(store->MarkResubmitted("x/y", "AA").ok());
}

}  // namespace
}  // namespace carehub::hl7v2
