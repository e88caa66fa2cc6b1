// A test suite for server binaries that serve the event store (carehub-eventstore, carehubd):
// started as child processes on port 0 in a temporary data directory, driven over real gRPC
// channels, stopped with signals. Each binary's test instantiates it:
//
//   INSTANTIATE_TEST_SUITE_P(Carehubd, ServerBinaryTest,
//                            ::testing::Values(ServerBinary{"carehubd", CAREHUBD_PATH}));
#ifndef CAREHUB_SERVICES_EVENTSTORE_TESTING_SERVER_BINARY_TESTS_H_
#define CAREHUB_SERVICES_EVENTSTORE_TESTING_SERVER_BINARY_TESTS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "carehub/eventstore/v1/eventstore.grpc.pb.h"
#include "carehub/services/testing/server_process.h"
#include "carehub/services/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace carehub::services::testing {

struct ServerBinary {
  std::string name;  // shows in test names
  std::string path;  // the executable
  // Flags it always gets besides --data_dir, --grpc_address and --port_file: carehubd's other
  // listeners on port 0 too, so that tests running at once never meet on a default port.
  std::vector<std::string> flags;
};

class ServerBinaryTest : public ::testing::TestWithParam<ServerBinary> {
 protected:
  void TearDown() override;

  // Starts the binary over data_dir() on 127.0.0.1:0 and connects to it. Extra flags are appended.
  void StartServer(const std::vector<std::string>& extra_flags = {});
  // Sends `signal` and expects a clean exit (code 0) and the port file removed.
  void StopServer(int signal);

  std::string data_dir() const { return dir_.File("data"); }

  TempDir dir_;
  std::string port_file_ = dir_.File("port");
  std::string log_file_ = dir_.File("server.log");
  std::unique_ptr<ServerProcess> server_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<eventstore::v1::EventStore::Stub> stub_;
};

}  // namespace carehub::services::testing

#endif  // CAREHUB_SERVICES_EVENTSTORE_TESTING_SERVER_BINARY_TESTS_H_
