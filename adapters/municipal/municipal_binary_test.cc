// carehub-municipal as operators run it: its own process, talking gRPC to carehub-care, which
// talks gRPC to carehub-eventstore. A dropped file ends in done/, an HTTP upload is answered per
// line, a restart re-imports nothing, and SIGTERM stops it cleanly.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
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

std::unique_ptr<ServerProcess> Start(const std::string& binary, std::vector<std::string> args,
                                     const TempDir& dir, const std::string& name, int* port) {
  const std::string port_file = dir.File(name + ".port");
  args.push_back("--port_file=" + port_file);
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(binary, args, dir.File(name + ".log"));
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  absl::StatusOr<int> bound = (*server)->WaitForPortFile(port_file, absl::Seconds(60));
  EXPECT_TRUE(bound.ok()) << bound.status() << "\n" << ReadFileOrEmpty(dir.File(name + ".log"));
  *port = bound.ok() ? *bound : 0;
  return *std::move(server);
}

void StopCleanly(ServerProcess& server) {
  ASSERT_TRUE(server.Signal(SIGTERM).ok());
  absl::StatusOr<int> status = server.WaitForExit(absl::Seconds(60));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
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
  int store_port = 0, care_port = 0, http_port = 0;
  std::unique_ptr<ServerProcess> store =
      Start(CAREHUB_EVENTSTORE_PATH,
            {"--data_dir=" + dir.File("eventstore"), "--grpc_address=127.0.0.1:0"}, dir,
            "eventstore", &store_port);
  ASSERT_NE(store, nullptr);
  std::unique_ptr<ServerProcess> care = Start(
      CAREHUB_CARE_PATH,
      {"--data_dir=" + dir.File("care"), "--grpc_address=127.0.0.1:0",
       absl::StrCat("--eventstore_address=127.0.0.1:", store_port)},
      dir, "care", &care_port);
  ASSERT_NE(care, nullptr);
  EnrolTolvan(care_port);

  const std::vector<std::string> args = {
      absl::StrCat("--care_address=127.0.0.1:", care_port), "--data_dir=" + dir.File("data"),
      "--http_address=127.0.0.1:0", "--poll_interval=50ms", "--source_system=lifecare-test"};
  std::unique_ptr<ServerProcess> adapter =
      Start(CAREHUB_MUNICIPAL_PATH, args, dir, "municipal", &http_port);
  ASSERT_NE(adapter, nullptr);

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
    TestHttpClient client(http_port);
    TestHttpClient::Response r =
        client.Send("POST", "/municipal/v1/import", {{"Content-Type", "text/csv"}}, kCsv);
    ASSERT_EQ(r.status, 200) << r.body;
    const nlohmann::json json = nlohmann::json::parse(r.body);
    EXPECT_EQ(json["already_imported"], 2) << r.body;
  }
  StopCleanly(*adapter);

  // A restart: the same file dropped again is imported again with nothing new.
  adapter = Start(CAREHUB_MUNICIPAL_PATH, args, dir, "municipal", &http_port);
  ASSERT_NE(adapter, nullptr);
  {
    TestHttpClient client(http_port);
    TestHttpClient::Response r = client.Send(
        "POST", "/municipal/v1/import", {{"Content-Type", "text/csv; charset=windows-1252"}}, kCsv);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(nlohmann::json::parse(r.body)["already_imported"], 2) << r.body;
  }
  StopCleanly(*adapter);
  const std::string log = ReadFileOrEmpty(dir.File("municipal.log"));
  EXPECT_EQ(log.find("19121212"), std::string::npos) << "a personnummer in a log line";
  EXPECT_EQ(log.find("Tolvan"), std::string::npos);
  StopCleanly(*care);
  StopCleanly(*store);
}

}  // namespace
}  // namespace carehub::municipal
