// The access log over real gRPC (a server on 127.0.0.1:0 in this process): what a running hub
// answers auditors' tools is exactly what its log holds.
#include "carehub/audit/access_log_service.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/base/clock.h"
#include "carehub/services/common/grpc_server.h"
#include "gtest/gtest.h"

namespace carehub::audit {
namespace {

class AccessLogServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "carehub-als-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    absl::StatusOr<std::unique_ptr<AccessLog>> log =
        AccessLog::Open({.path = dir_ + "/access-log", .clock = &clock_});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    service_ = std::make_unique<AccessLogService>(log_.get());
    server_ = std::make_unique<services::GrpcServer>(services::GrpcServerOptions{.address = "127.0.0.1:0"});
    server_->AddService(service_.get(), v1::AccessLog::service_full_name());
    absl::StatusOr<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    target_ = absl::StrCat("127.0.0.1:", *port);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(5));
    server_.reset();
    service_.reset();
    log_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Record(AccessAgent agent, std::vector<std::string> patients) {
    AccessEntry e;
    e.agent = std::move(agent);
    e.interaction = "operation";
    e.operation = "everything";
    e.resource_type = "Patient";
    e.status = 200;
    e.patients = std::move(patients);
    for (const std::string& p : e.patients) e.resources.push_back({"CarePlan", absl::StrCat("plan-", p), 2});
    ASSERT_TRUE(log_->Record(e).ok());
    clock_.Advance(absl::Minutes(1));
  }

  std::string dir_;
  ManualClock clock_{absl::FromUnixSeconds(1767225600)};  // 2026-01-01T00:00:00Z
  std::unique_ptr<AccessLog> log_;
  std::unique_ptr<AccessLogService> service_;
  std::unique_ptr<services::GrpcServer> server_;
  std::string target_;
};

TEST_F(AccessLogServiceTest, FindAndVerifyAnswerWhatTheLogHolds) {
  Record({"SE2321000016-U001", "SE2321000016", "SE2321000016-E001"}, {"p1", "p2"});
  Record({}, {"p1"});
  Record({"SE2120001231-U777", "", ""}, {"p3"});
  Record({"SE2321000016-U001", "SE2321000016", "SE2321000016-E001"}, {"p1"});
  absl::StatusOr<std::unique_ptr<AccessLogReader>> remote = ConnectAccessLog(target_);
  ASSERT_TRUE(remote.ok()) << remote.status();

  // Page by page, every field as the log holds it.
  std::vector<AccessEntry> got;
  AccessQuery query{.patient = "p1", .limit = 2};
  for (;;) {
    absl::StatusOr<AccessPage> page = (*remote)->Find(query);
    ASSERT_TRUE(page.ok()) << page.status();
    for (AccessEntry& e : page->entries) got.push_back(std::move(e));
    if (!page->next_before.has_value()) break;
    query.before = page->next_before;
  }
  absl::StatusOr<AccessPage> local = log_->Find({.patient = "p1", .limit = 10});
  ASSERT_TRUE(local.ok());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got, local->entries);
  EXPECT_EQ(got[0].position, 3u);  // newest first
  EXPECT_EQ(got[2].agent.user_hsa_id, "SE2321000016-U001");
  EXPECT_EQ(got[2].recorded, absl::FromUnixSeconds(1767225600));

  // Agent and time window.
  absl::StatusOr<AccessPage> anonymous = (*remote)->Find({.agent = "anonymous", .limit = 10});
  ASSERT_TRUE(anonymous.ok());
  ASSERT_EQ(anonymous->entries.size(), 1u);
  EXPECT_EQ(anonymous->entries[0].position, 1u);
  absl::StatusOr<AccessPage> window = (*remote)->Find(
      {.from = absl::FromUnixSeconds(1767225600 + 60), .to = absl::FromUnixSeconds(1767225600 + 180), .limit = 10});
  ASSERT_TRUE(window.ok());
  ASSERT_EQ(window->entries.size(), 2u);
  EXPECT_EQ(window->entries[0].position, 2u);

  absl::StatusOr<eventstore::VerifyResult> verify = (*remote)->Verify(std::nullopt);
  ASSERT_TRUE(verify.ok()) << verify.status();
  EXPECT_TRUE(verify->ok);
  EXPECT_EQ(verify->events_verified, 4u);
  EXPECT_EQ(verify->head, log_->store().Head().value());
  absl::StatusOr<eventstore::VerifyResult> extends = (*remote)->Verify(verify->head);
  ASSERT_TRUE(extends.ok()) << extends.status();
  EXPECT_TRUE(extends->ok);
}

TEST_F(AccessLogServiceTest, BadQueriesAndAHubWithoutAnAccessLogGetClearErrors) {
  absl::StatusOr<std::unique_ptr<AccessLogReader>> remote = ConnectAccessLog(target_);
  ASSERT_TRUE(remote.ok()) << remote.status();
  absl::StatusOr<AccessPage> empty_window =
      (*remote)->Find({.from = absl::FromUnixSeconds(10), .to = absl::FromUnixSeconds(10), .limit = 5});
  EXPECT_EQ(empty_window.status().code(), absl::StatusCode::kInvalidArgument) << empty_window.status();
  EXPECT_EQ((*remote)->Find({.limit = 0}).status().code(), absl::StatusCode::kInvalidArgument);

  // A server without the service (carehubd --access_log=false).
  services::GrpcServer bare({.address = "127.0.0.1:0"});
  absl::StatusOr<int> port = bare.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  absl::StatusOr<std::unique_ptr<AccessLogReader>> none = ConnectAccessLog(absl::StrCat("127.0.0.1:", *port));
  ASSERT_TRUE(none.ok()) << none.status();
  absl::StatusOr<AccessPage> page = (*none)->Find({.limit = 5});
  EXPECT_EQ(page.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(page.status().message().find("--access_log=false"), std::string::npos) << page.status();
  bare.Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace carehub::audit
