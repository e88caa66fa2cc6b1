#include "services/eventstore/testing/server_binary_tests.h"

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gmock/gmock.h"
#include "services/eventstore/testing/event_builders.h"

namespace carehub::services::testing {
namespace {

namespace pb = ::carehub::eventstore::v1;
using ::testing::Contains;

// Generous: the binaries run under sanitizers on a small machine.
constexpr absl::Duration kStartTimeout = absl::Seconds(60);
constexpr absl::Duration kStopTimeout = absl::Seconds(60);

std::chrono::system_clock::time_point CallDeadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(30);
}

std::string Describe(int wait_status) {
  if (WIFEXITED(wait_status)) return absl::StrCat("exit code ", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return absl::StrCat("killed by signal ", WTERMSIG(wait_status));
  return absl::StrCat("wait status ", wait_status);
}

}  // namespace

void ServerBinaryTest::TearDown() {
  if (HasFailure()) {
    std::cerr << "--- " << GetParam().name << " log ---\n" << ReadFileOrEmpty(log_file_) << "---\n";
  }
  stub_.reset();
  channel_.reset();
  server_.reset();  // kills a server a failed test left running
}

void ServerBinaryTest::StartServer(const std::vector<std::string>& extra_flags) {
  std::vector<std::string> flags = {
      absl::StrCat("--data_dir=", data_dir()),
      "--grpc_address=127.0.0.1:0",
      absl::StrCat("--port_file=", port_file_),
      "--shutdown_grace=5s",
  };
  flags.insert(flags.end(), GetParam().flags.begin(), GetParam().flags.end());
  flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(GetParam().path, flags, log_file_);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
  absl::StatusOr<int> port = server_->WaitForPortFile(port_file_, kStartTimeout);
  ASSERT_TRUE(port.ok()) << port.status();
  port_ = *port;
  channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials());
  ASSERT_TRUE(channel_->WaitForConnected(CallDeadline())) << "no connection to port " << port_;
  stub_ = pb::EventStore::NewStub(channel_);
}

void ServerBinaryTest::StopServer(int signal) {
  ASSERT_NE(server_, nullptr);
  // Close the connection first, as a client that is done does. An idle connection that stays
  // open holds the server's drain up to its grace period (see IdleClientConnections...).
  stub_.reset();
  channel_.reset();
  ASSERT_TRUE(server_->Signal(signal).ok());
  absl::StatusOr<int> wait_status = server_->WaitForExit(kStopTimeout);
  ASSERT_TRUE(wait_status.ok()) << wait_status.status();
  EXPECT_TRUE(WIFEXITED(*wait_status) && WEXITSTATUS(*wait_status) == 0)
      << GetParam().name << " ended with " << Describe(*wait_status);
  EXPECT_FALSE(std::filesystem::exists(port_file_)) << "the port file outlived the server";
  server_.reset();
}

TEST_P(ServerBinaryTest, AnswersHealthChecksAsServing) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  // Stubs share the channel: they go before StopServer() closes it.
  auto health = grpc::health::v1::Health::NewStub(channel_);
  for (const std::string service : {"", "carehub.eventstore.v1.EventStore"}) {
    grpc::ClientContext context;
    context.set_deadline(CallDeadline());
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = health->Check(&context, request, &response);
    ASSERT_TRUE(status.ok()) << "service '" << service << "': " << status.error_message();
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING)
        << "service '" << service << "'";
  }
  {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service("carehub.no.such.Service");
    grpc::health::v1::HealthCheckResponse response;
    EXPECT_EQ(health->Check(&context, request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  health.reset();
  StopServer(SIGTERM);
}

TEST_P(ServerBinaryTest, DescribesTheEventStoreThroughReflection) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  {
    // Scoped: the stub and the call share the channel, which StopServer() closes.
    auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(channel_);
    grpc::ClientContext context;
    context.set_deadline(CallDeadline());
    auto stream = reflection->ServerReflectionInfo(&context);

    grpc::reflection::v1alpha::ServerReflectionRequest list;
    list.set_list_services("");
    ASSERT_TRUE(stream->Write(list));
    grpc::reflection::v1alpha::ServerReflectionResponse listed;
    ASSERT_TRUE(stream->Read(&listed));
    std::vector<std::string> names;
    for (const auto& service : listed.list_services_response().service()) names.push_back(service.name());
    EXPECT_THAT(names, Contains("carehub.eventstore.v1.EventStore"));

    grpc::reflection::v1alpha::ServerReflectionRequest symbol;
    symbol.set_file_containing_symbol("carehub.eventstore.v1.EventStore");
    ASSERT_TRUE(stream->Write(symbol));
    grpc::reflection::v1alpha::ServerReflectionResponse described;
    ASSERT_TRUE(stream->Read(&described));
    ASSERT_GT(described.file_descriptor_response().file_descriptor_proto_size(), 0)
        << described.error_response().error_message();
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(described.file_descriptor_response().file_descriptor_proto(0)));
    EXPECT_EQ(file.name(), "carehub/eventstore/v1/eventstore.proto");

    ASSERT_TRUE(stream->WritesDone());
    EXPECT_TRUE(stream->Finish().ok());
  }
  StopServer(SIGTERM);
}

TEST_P(ServerBinaryTest, StopsCleanlyOnSigtermAndKeepsTheDataAcrossARestart) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  {
    grpc::ClientContext context;
    context.set_deadline(CallDeadline());
    pb::AppendResponse response;
    grpc::Status status = stub_->Append(
        &context,
        MakeAppend("patient-0001", ExpectNoStream(),
                   {TestEvent("event-1"), TestEvent("event-2"), TestEvent("event-3")}),
        &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.last_position(), 2u);
  }
  pb::HeadResponse head_before;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->Head(&context, pb::HeadRequest(), &head_before).ok());
  }
  StopServer(SIGTERM);

  ASSERT_NO_FATAL_FAILURE(StartServer());
  {
    grpc::ClientContext context;
    context.set_deadline(CallDeadline());
    pb::ReadStreamRequest request;
    request.set_stream_id("patient-0001");
    pb::ReadStreamResponse response;
    ASSERT_TRUE(stub_->ReadStream(&context, request, &response).ok());
    ASSERT_EQ(response.events_size(), 3);
    EXPECT_EQ(response.events(0).event_id(), "event-1");
    EXPECT_EQ(response.events(2).event_id(), "event-3");
  }
  {
    grpc::ClientContext context;
    pb::HeadResponse head_after;
    ASSERT_TRUE(stub_->Head(&context, pb::HeadRequest(), &head_after).ok());
    EXPECT_EQ(head_after.head().position(), head_before.head().position());
    EXPECT_EQ(head_after.head().hash(), head_before.head().hash());
  }
  {
    grpc::ClientContext context;
    context.set_deadline(CallDeadline());
    pb::VerifyResponse verified;
    ASSERT_TRUE(stub_->Verify(&context, pb::VerifyRequest(), &verified).ok());
    EXPECT_TRUE(verified.ok()) << verified.problem();
    EXPECT_EQ(verified.events_verified(), 3u);
  }
  StopServer(SIGINT);
}

TEST_P(ServerBinaryTest, ShutdownEndsOpenSubscriptionsAsUnavailable) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  {
    grpc::ClientContext context;
    context.set_deadline(CallDeadline());
    auto subscription = stub_->Subscribe(&context, pb::SubscribeRequest());
    pb::SubscribeResponse caught_up;
    ASSERT_TRUE(subscription->Read(&caught_up));
    EXPECT_TRUE(caught_up.caught_up());

    ASSERT_TRUE(server_->Signal(SIGTERM).ok());
    pb::SubscribeResponse ignored;
    while (subscription->Read(&ignored)) {
    }
    EXPECT_EQ(subscription->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  stub_.reset();
  channel_.reset();
  absl::StatusOr<int> wait_status = server_->WaitForExit(kStopTimeout);
  ASSERT_TRUE(wait_status.ok()) << wait_status.status();
  EXPECT_TRUE(WIFEXITED(*wait_status) && WEXITSTATUS(*wait_status) == 0)
      << GetParam().name << " ended with " << Describe(*wait_status);
}

TEST_P(ServerBinaryTest, StopsWithinTheGraceWhileAnIdleClientStaysConnected) {
  // A client that keeps its connection open but makes no calls never acknowledges the server's
  // GOAWAY, so the drain runs to its deadline; the server must still stop, cleanly.
  ASSERT_NO_FATAL_FAILURE(StartServer({"--shutdown_grace=1s"}));
  {
    grpc::ClientContext context;
    pb::HeadResponse head;
    ASSERT_TRUE(stub_->Head(&context, pb::HeadRequest(), &head).ok());
  }
  ASSERT_TRUE(server_->Signal(SIGTERM).ok());
  absl::StatusOr<int> wait_status = server_->WaitForExit(kStopTimeout);
  ASSERT_TRUE(wait_status.ok()) << wait_status.status();
  EXPECT_TRUE(WIFEXITED(*wait_status) && WEXITSTATUS(*wait_status) == 0)
      << GetParam().name << " ended with " << Describe(*wait_status);
}

TEST_P(ServerBinaryTest, FailsToStartWhenTheAddressIsTaken) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  TempDir other;
  std::vector<std::string> flags = {absl::StrCat("--data_dir=", other.File("data")),
                                    absl::StrCat("--grpc_address=127.0.0.1:", port_),
                                    absl::StrCat("--port_file=", other.File("port"))};
  flags.insert(flags.end(), GetParam().flags.begin(), GetParam().flags.end());
  absl::StatusOr<std::unique_ptr<ServerProcess>> second =
      ServerProcess::Start(GetParam().path, flags, log_file_);
  ASSERT_TRUE(second.ok()) << second.status();
  absl::StatusOr<int> wait_status = (*second)->WaitForExit(kStopTimeout);
  ASSERT_TRUE(wait_status.ok()) << wait_status.status();
  EXPECT_TRUE(WIFEXITED(*wait_status) && WEXITSTATUS(*wait_status) != 0)
      << "a second server on a taken port ended with " << Describe(*wait_status);
  EXPECT_FALSE(std::filesystem::exists(other.File("port")));
  StopServer(SIGTERM);
}

}  // namespace carehub::services::testing
