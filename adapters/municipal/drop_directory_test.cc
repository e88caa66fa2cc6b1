// The drop directory on a real file system against a real care service: files move to done/ or
// failed/ with a reject report, re-dropping a file changes nothing, a file stays in inbox/ while
// the care service is unreachable, and writers' temporary names are left alone.
#include "carehub/municipal/drop_directory.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "adapters/municipal/testing/municipal_fixture.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace carehub::municipal {
namespace {

namespace fs = std::filesystem;
using testing::JsonRecord;
using testing::kTolvan;

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class DropDirectoryTest : public testing::MunicipalFixture {
 protected:
  void SetUp() override {
    MunicipalFixture::SetUp();
    drop_ = std::make_unique<DropDirectory>(importer_.get(),
                                            DropDirectoryOptions{.root = dir_.File("municipal")});
    // Start creates the directories; stop the poller at once so that the test drives the scans.
    ASSERT_TRUE(drop_->Start().ok());
    drop_->Stop();
  }

  std::string Inbox(const std::string& name) { return (fs::path(drop_->inbox()) / name).string(); }

  std::unique_ptr<DropDirectory> drop_;
};

TEST_F(DropDirectoryTest, CleanFileGoesToDoneAndAFileWithRejectsToFailedWithAReport) {
  Enrol(kTolvan);
  const std::string good = absl::StrCat(JsonRecord("insats_planerad", "d-1"),
                                        R"(,"activity_id":"act"})", "\n");
  const std::string bad_csv =
      "format;record_type;record_id;personnummer;owner;occurred_at;activity_id\n"
      "carehub-municipal/1;insats_paborjad;d-2;19121212-1212;SoL;2026-11-18 09:00;act\n"
      "carehub-municipal/1;insats_paborjad;d-3;19121212-1212;SoL;2026-11-18 09:00;\n";
  WriteFile(Inbox("2026-11-18-a.jsonl"), good);
  WriteFile(Inbox("2026-11-18-b.csv"), bad_csv);
  WriteFile(Inbox(".2026-11-18-c.csv"), "being written");
  WriteFile(Inbox("2026-11-18-d.csv.part"), "being written");
  WriteFile(Inbox("notes.txt"), "hello");

  absl::StatusOr<ScanSummary> summary = drop_->ScanOnce();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->files_done, 1);
  EXPECT_EQ(summary->files_failed, 2);
  EXPECT_EQ(summary->files_left, 0);

  EXPECT_EQ(ReadFile(drop_->done() + "/2026-11-18-a.jsonl"), good);
  EXPECT_EQ(ReadFile(drop_->failed() + "/2026-11-18-b.csv"), bad_csv);
  EXPECT_TRUE(fs::exists(Inbox(".2026-11-18-c.csv")));
  EXPECT_TRUE(fs::exists(Inbox("2026-11-18-d.csv.part")));
  EXPECT_FALSE(fs::exists(Inbox("2026-11-18-a.jsonl")));

  const std::string report = ReadFile(drop_->failed() + "/2026-11-18-b.csv.rejects.jsonl");
  const nlohmann::json reject = nlohmann::json::parse(report);
  EXPECT_EQ(reject["line"], 3);
  EXPECT_EQ(reject["record_id"], "d-3");
  EXPECT_EQ(reject["reason"], "activity_id: required");
  EXPECT_EQ(reject["text"],
            "carehub-municipal/1;insats_paborjad;d-3;19121212-1212;SoL;2026-11-18 09:00;");
  const std::string notes = ReadFile(drop_->failed() + "/notes.txt.rejects.jsonl");
  EXPECT_NE(notes.find("must end in .csv, .jsonl or .ndjson"), std::string::npos);
}

TEST_F(DropDirectoryTest, DroppingTheSameFileAgainChangesNothingAndKeepsBothCopies) {
  Enrol(kTolvan);
  const std::string file = absl::StrCat(JsonRecord("insats_planerad", "again-1"),
                                        R"(,"activity_id":"act"})", "\n",
                                        JsonRecord("insats_paborjad", "again-2"),
                                        R"(,"activity_id":"act"})", "\n");
  WriteFile(Inbox("daily.jsonl"), file);
  ASSERT_TRUE(drop_->ScanOnce().ok());
  const uint64_t size = LogSize();
  WriteFile(Inbox("daily.jsonl"), file);
  absl::StatusOr<ScanSummary> summary = drop_->ScanOnce();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->files_done, 1);
  EXPECT_EQ(LogSize(), size);
  EXPECT_TRUE(fs::exists(drop_->done() + "/daily.jsonl"));
  EXPECT_TRUE(fs::exists(drop_->done() + "/daily.1.jsonl"));
}

TEST_F(DropDirectoryTest, AFileStaysInTheInboxWhileTheCareServiceIsUnreachable) {
  Enrol(kTolvan);
  server_->Shutdown(absl::Seconds(1));
  server_.reset();
  WriteFile(Inbox("later.jsonl"),
            absl::StrCat(JsonRecord("insats_planerad", "l-1"), R"(,"activity_id":"act"})", "\n"));
  absl::StatusOr<ScanSummary> summary = drop_->ScanOnce();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->files_left, 1);
  EXPECT_TRUE(fs::exists(Inbox("later.jsonl")));
  EXPECT_TRUE(fs::is_empty(drop_->done()));
  EXPECT_TRUE(fs::is_empty(drop_->failed()));
}

TEST_F(DropDirectoryTest, ThePollerPicksUpFiles) {
  Enrol(kTolvan);
  DropDirectory polling(importer_.get(), {.root = dir_.File("municipal"),
                                          .poll_interval = absl::Milliseconds(20)});
  WriteFile(Inbox("polled.jsonl"),
            absl::StrCat(JsonRecord("insats_planerad", "p-1"), R"(,"activity_id":"act"})", "\n"));
  ASSERT_TRUE(polling.Start().ok());
  // Wait for the move (bounded): the poller runs on its own thread.
  for (int i = 0; i < 500 && !fs::exists(drop_->done() + "/polled.jsonl"); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  polling.Stop();
  EXPECT_TRUE(fs::exists(drop_->done() + "/polled.jsonl"));
}

}  // namespace
}  // namespace carehub::municipal
