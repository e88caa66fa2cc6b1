// The care service as operators run it: carehub-care over a separate carehub-eventstore, and
// inside carehubd. Both take commands over gRPC and stop cleanly on SIGTERM.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "carehub/care/v1/care_service.grpc.pb.h"
#include "carehub/services/testing/server_process.h"
#include "carehub/services/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace carehub::services {
namespace {

namespace v1 = ::carehub::care::v1;
using testing::ServerProcess;
using testing::TempDir;

std::unique_ptr<ServerProcess> StartServer(const std::string& binary,
                                           std::vector<std::string> args, const TempDir& dir,
                                           const std::string& name, int* port) {
  const std::string port_file = dir.File(name + ".port");
  args.push_back("--grpc_address=127.0.0.1:0");
  args.push_back("--port_file=" + port_file);
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(binary, args, dir.File(name + ".log"));
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  absl::StatusOr<int> bound = (*server)->WaitForPortFile(port_file, absl::Seconds(60));
  EXPECT_TRUE(bound.ok()) << bound.status() << "\n"
                          << testing::ReadFileOrEmpty(dir.File(name + ".log"));
  *port = bound.ok() ? *bound : 0;
  return *std::move(server);
}

void StopCleanly(ServerProcess& server) {
  ASSERT_TRUE(server.Signal(SIGTERM).ok());
  absl::StatusOr<int> status = server.WaitForExit(absl::Seconds(60));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
}

// Admits Tolvan Tolvansson (a new patient) and returns the response.
v1::CommandResponse AdmitTolvan(int port) {
  std::unique_ptr<v1::CareService::Stub> stub = v1::CareService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  v1::CommandRequest command;
  command.set_command_id("ADT-A01-0001");
  command.mutable_patient()->mutable_identifier()->set_kind(
      v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
  command.mutable_patient()->mutable_identifier()->set_value("19121212-1212");
  command.mutable_source()->set_system("cosmic-test");
  command.mutable_data_owner()->set_kind(v1::DATA_OWNER_KIND_REGION);
  command.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(absl::Now()));
  command.mutable_inpatient_admitted()->mutable_stay()->set_visit_number("VT-1");
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::CommandResponse response;
  const grpc::Status status = stub->Execute(&context, command, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

TEST(CareBinaryTest, StandaloneOverARemoteEventStore) {
  TempDir dir;
  int store_port = 0;
  std::unique_ptr<ServerProcess> store =
      StartServer(CAREHUB_EVENTSTORE_PATH, {"--data_dir=" + dir.File("eventstore")}, dir,
                  "eventstore", &store_port);
  ASSERT_NE(store, nullptr);
  int care_port = 0;
  std::unique_ptr<ServerProcess> care = StartServer(
      CAREHUB_CARE_PATH,
      {"--data_dir=" + dir.File("care"),
       absl::StrCat("--eventstore_address=127.0.0.1:", store_port)},
      dir, "care", &care_port);
  ASSERT_NE(care, nullptr);

  const v1::CommandResponse first = AdmitTolvan(care_port);
  EXPECT_TRUE(first.patient_created());
  EXPECT_EQ(first.event_ids_size(), 1);
  EXPECT_TRUE(AdmitTolvan(care_port).replayed());
  EXPECT_TRUE(std::filesystem::exists(dir.File("care/hub.key")));

  StopCleanly(*care);
  StopCleanly(*store);
}

TEST(CareBinaryTest, InsideCarehubd) {
  TempDir dir;
  {
    std::ofstream agreements(dir.File("agreements.txt"));
    agreements << "test-region-agreement 2026-1 2026-01-01 3 calendar 12 9135.00\n";
  }
  int port = 0;
  std::unique_ptr<ServerProcess> hub = StartServer(
      CAREHUBD_PATH,
      {"--data_dir=" + dir.File("data"), "--payment_agreements=" + dir.File("agreements.txt")},
      dir, "carehubd", &port);
  ASSERT_NE(hub, nullptr);
  EXPECT_TRUE(AdmitTolvan(port).patient_created());
  EXPECT_TRUE(std::filesystem::exists(dir.File("data/care/hub.key")));
  StopCleanly(*hub);
}

}  // namespace
}  // namespace carehub::services
