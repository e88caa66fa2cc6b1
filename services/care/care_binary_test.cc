// The care service as operators run it: carehub-care over a separate carehub-eventstore, and
// inside carehubd. Both take commands over gRPC and stop cleanly on SIGTERM.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

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
#include "gtest/gtest.h"

namespace carehub::services {
namespace {

namespace v1 = ::carehub::care::v1;
using testing::ServerProcess;
using testing::TempDir;

// A gRPC server binary on a free port.
ServerProcess::Serving StartGrpcServer(const std::string& binary, std::vector<std::string> args,
                                       const TempDir& dir, const std::string& name) {
  args.push_back("--grpc_address=127.0.0.1:0");
  absl::StatusOr<ServerProcess::Serving> serving =
      ServerProcess::StartServing(binary, std::move(args), dir.path(), name);
  EXPECT_TRUE(serving.ok()) << serving.status();
  return serving.ok() ? *std::move(serving) : ServerProcess::Serving{};
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
  ServerProcess::Serving store = StartGrpcServer(
      CAREHUB_EVENTSTORE_PATH, {"--data_dir=" + dir.File("eventstore")}, dir, "eventstore");
  ASSERT_NE(store.process, nullptr);
  ServerProcess::Serving care = StartGrpcServer(
      CAREHUB_CARE_PATH,
      {"--data_dir=" + dir.File("care"),
       absl::StrCat("--eventstore_address=127.0.0.1:", store.port)},
      dir, "care");
  ASSERT_NE(care.process, nullptr);

  const v1::CommandResponse first = AdmitTolvan(care.port);
  EXPECT_TRUE(first.patient_created());
  EXPECT_EQ(first.event_ids_size(), 1);
  EXPECT_TRUE(AdmitTolvan(care.port).replayed());
  EXPECT_TRUE(std::filesystem::exists(dir.File("care/hub.key")));

  EXPECT_EQ(care.process->StopCleanly(), absl::OkStatus());
  EXPECT_EQ(store.process->StopCleanly(), absl::OkStatus());
}

TEST(CareBinaryTest, InsideCarehubd) {
  TempDir dir;
  {
    std::ofstream agreements(dir.File("agreements.txt"));
    agreements << "test-region-agreement 2026-1 2026-01-01 3 calendar 12 9135.00\n";
  }
  ServerProcess::Serving hub = StartGrpcServer(
      CAREHUBD_PATH,
      {"--data_dir=" + dir.File("data"), "--payment_agreements=" + dir.File("agreements.txt"),
       "--http_address=127.0.0.1:0", "--municipal_http_address=127.0.0.1:0"},
      dir, "carehubd");
  ASSERT_NE(hub.process, nullptr);
  EXPECT_TRUE(AdmitTolvan(hub.port).patient_created());
  EXPECT_TRUE(std::filesystem::exists(dir.File("data/care/hub.key")));
  EXPECT_EQ(hub.process->StopCleanly(), absl::OkStatus());
}

}  // namespace
}  // namespace carehub::services
