// carehub-municipal as operators run it: its own process, talking gRPC to carehub-care, which
// talks gRPC to carehub-eventstore. A dropped file ends in done/, an HTTP upload is answered per
// line, a restart re-imports nothing, and SIGTERM stops it cleanly.

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "carehub/care/v1/care_service.grpc.pb.h"
#include "carehub/services/testing/server_process.h"
#include "carehub/services/testing/temp_dir.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/fhir/testing/http_client.h"

namespace carehub::municipal {
namespace {

namespace fs = std::filesystem;
namespace v1 = care::v1;
using services::testing::ReadFileOrEmpty;
using services::testing::ServerProcess;
using services::testing::TempDir;
using services::testing::TestHttpClient;

ServerProcess::Serving Start(const std::string& binary, std::vector<std::string> args,
                             const TempDir& dir, const std::string& name) {
  absl::StatusOr<ServerProcess::Serving> serving =
      ServerProcess::StartServing(binary, std::move(args), dir.path(), name);
  EXPECT_TRUE(serving.ok()) << serving.status();
  return serving.ok() ? *std::move(serving) : ServerProcess::Serving{};
}

void EnrolTolvan(int care_port) {
  std::unique_ptr<v1::CareService::Stub> stub = v1::CareService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", care_port), grpc::InsecureChannelCredentials()));
  v1::CommandRequest command;
  command.set_command_id("enrol-tolvan");
  command.mutable_patient()->mutable_identifier()->set_kind(
      v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
  command.mutable_patient()->mutable_identifier()->set_value("19121212-1212");
  command.mutable_source()->set_system("vardcentral-test");
  command.mutable_data_owner()->set_kind(v1::DATA_OWNER_KIND_REGION);
  command.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(absl::Now()));
  command.mutable_patient_enrolled()->set_target_group(v1::TARGET_GROUP_MOST_ILL);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::CommandResponse response;
  const grpc::Status status = stub->Execute(&context, command, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
}

constexpr char kCsv[] =
    "format;record_type;record_id;personnummer;owner;occurred_at;activity_id;description\r\n"
    "carehub-municipal/1;insats_planerad;bin-1;19121212-1212;SoL;2026-11-18 08:00;act;"
    "Hemtj\xE4nst morgon\r\n"
    "carehub-municipal/1;insats_paborjad;bin-2;19121212-1212;SoL;2026-11-18 09:00;act;\r\n";

TEST(MunicipalBinaryTest, DropDirectoryAndHttpOverRemoteCareService) {
  TempDir dir;
  ServerProcess::Serving store =
      Start(CAREHUB_EVENTSTORE_PATH,
            {"--data_dir=" + dir.File("eventstore"), "--grpc_address=127.0.0.1:0"}, dir,
            "eventstore");
  ASSERT_NE(store.process, nullptr);
  ServerProcess::Serving care = Start(
      CAREHUB_CARE_PATH,
      {"--data_dir=" + dir.File("care"), "--grpc_address=127.0.0.1:0",
       absl::StrCat("--eventstore_address=127.0.0.1:", store.port)},
      dir, "care");
  ASSERT_NE(care.process, nullptr);
  EnrolTolvan(care.port);

  const std::vector<std::string> args = {
      absl::StrCat("--care_address=127.0.0.1:", care.port), "--data_dir=" + dir.File("data"),
      "--http_address=127.0.0.1:0", "--poll_interval=50ms", "--source_system=lifecare-test"};
  ServerProcess::Serving adapter = Start(CAREHUB_MUNICIPAL_PATH, args, dir, "municipal");
  ASSERT_NE(adapter.process, nullptr);

  const std::string inbox = dir.File("data/municipal/inbox");
  const std::string done = dir.File("data/municipal/done");
  {
    std::ofstream out(inbox + "/.incoming.csv", std::ios::binary);
    out << kCsv;
  }
  fs::rename(inbox + "/.incoming.csv", inbox + "/hemtjanst-2026-11-18.csv");
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (!fs::exists(done + "/hemtjanst-2026-11-18.csv") && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(fs::exists(done + "/hemtjanst-2026-11-18.csv"))
      << ReadFileOrEmpty(dir.File("municipal.log"));

  {
    TestHttpClient client(adapter.port);
    TestHttpClient::Response r =
        client.Send("POST", "/municipal/v1/import", {{"Content-Type", "text/csv"}}, kCsv);
    ASSERT_EQ(r.status, 200) << r.body;
    const nlohmann::json json = nlohmann::json::parse(r.body);
    EXPECT_EQ(json["already_imported"], 2) << r.body;
  }
  EXPECT_EQ(adapter.process->StopCleanly(), absl::OkStatus());

  // A restart: the same file dropped again is imported again with nothing new.
  adapter = Start(CAREHUB_MUNICIPAL_PATH, args, dir, "municipal");
  ASSERT_NE(adapter.process, nullptr);
  {
    TestHttpClient client(adapter.port);
    TestHttpClient::Response r = client.Send(
        "POST", "/municipal/v1/import", {{"Content-Type", "text/csv; charset=windows-1252"}}, kCsv);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(nlohmann::json::parse(r.body)["already_imported"], 2) << r.body;
  }
  EXPECT_EQ(adapter.process->StopCleanly(), absl::OkStatus());
  const std::string log = ReadFileOrEmpty(dir.File("municipal.log"));
  EXPECT_EQ(log.find("19121212"), std::string::npos) << "a personnummer in a log line";
  EXPECT_EQ(log.find("Tolvan"), std::string::npos);
  EXPECT_EQ(care.process->StopCleanly(), absl::OkStatus());
  EXPECT_EQ(store.process->StopCleanly(), absl::OkStatus());
}

}  // namespace
}  // namespace carehub::municipal
