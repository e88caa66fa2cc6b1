// ServeUntilShutdownSignal's hooks and GrpcServer::InProcessChannel: clients wired into the same
// process start after the server serves, reach it without a socket, and stop before it drains.
// Its own binary: the test blocks SIGTERM and sends it to the process, which is only safe when
// no thread created before the block is alive.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "carehub/services/common/grpc_server.h"
#include "carehub/services/common/shutdown_signal.h"
#include "gtest/gtest.h"

namespace carehub::services {
namespace {

// grpc.health.v1.Health/Check for the whole server ("" service) over `channel`: the response's
// status field (1 = SERVING), read from the wire bytes so no generated health stub is needed.
int HealthStatus(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  grpc::Slice empty("", 0);
  grpc::ByteBuffer request(&empty, 1);  // an empty HealthCheckRequest: service ""
  grpc::ByteBuffer response;
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status s) {
                   status = s;
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) return -1;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -1;
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  // Field 1, varint: 0x08 <status>.
  return bytes.size() == 2 && bytes[0] == 0x08 ? bytes[1] : -1;
}

TEST(ServeTest, HooksRunAroundServingAndTheInProcessChannelReachesTheServer) {
  absl::StatusOr<ShutdownSignals> signals = ShutdownSignals::Block();
  ASSERT_TRUE(signals.ok()) << signals.status();
  GrpcServer server({.address = "127.0.0.1:0"});
  EXPECT_EQ(server.InProcessChannel(), nullptr) << "no channel before Start()";

  std::vector<std::string> calls;
  std::thread signaller;
  const absl::Status served = ServeUntilShutdownSignal(
      server, *signals,
      {.name = "serve_test",
       .on_started =
           [&] {
             calls.push_back("started");
             EXPECT_EQ(HealthStatus(server.InProcessChannel()), 1);
             signaller = std::thread([] { kill(getpid(), SIGTERM); });
             return absl::OkStatus();
           },
       .on_stopping =
           [&] {
             calls.push_back("stopping");
             // Still serving: clients stopping now can finish their calls.
             EXPECT_EQ(HealthStatus(server.InProcessChannel()), 1);
           }});
  signaller.join();
  EXPECT_TRUE(served.ok()) << served;
  EXPECT_EQ(calls, (std::vector<std::string>{"started", "stopping"}));
}

TEST(ServeTest, AFailedStartHookStopsTheServerAndIsReturned) {
  absl::StatusOr<ShutdownSignals> signals = ShutdownSignals::Block();
  ASSERT_TRUE(signals.ok());
  GrpcServer server({.address = "127.0.0.1:0"});
  const absl::Status served = ServeUntilShutdownSignal(
      server, *signals,
      {.name = "serve_test",
       .on_started = [] { return absl::UnavailableError("adapter port taken"); }});
  EXPECT_EQ(served.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(served.message(), "adapter port taken");
}

}  // namespace
}  // namespace carehub::services
