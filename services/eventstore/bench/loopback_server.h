// LoopbackServer: an in-process gRPC server on 127.0.0.1 with a port the OS picks, hosting the
// services it is given, and channels to it over real TCP loopback.
//
//   ASSIGN_OR_RETURN(auto server, LoopbackServer::Start({&echo_service}));
//   auto stub = carehub::bench::Echo::NewStub(server->NewChannel());
//
// Both gRPC figures (echo and event store) use this one server and channel set-up, so their
// ratio compares the services and nothing else. Thread-safe.
#ifndef CAREHUB_SERVICES_EVENTSTORE_BENCH_LOOPBACK_SERVER_H_
#define CAREHUB_SERVICES_EVENTSTORE_BENCH_LOOPBACK_SERVER_H_

#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/impl/service_type.h"
#include "grpcpp/server.h"

namespace carehub::bench {

class LoopbackServer {
 public:
  // `services` are not owned and must outlive the server.
  static absl::StatusOr<std::unique_ptr<LoopbackServer>> Start(
      const std::vector<grpc::Service*>& services);

  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;
  // Shuts the server down, cancelling calls still open after a short grace period.
  ~LoopbackServer();

  // A new channel, connected before it is returned (connection set-up is not measured). All
  // channels with the same arguments share one TCP connection, as one client process would.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> NewChannel() const;

  int port() const { return port_; }

 private:
  LoopbackServer(std::unique_ptr<grpc::Server> server, int port)
      : server_(std::move(server)), port_(port) {}

  std::unique_ptr<grpc::Server> server_;
  int port_;
};

}  // namespace carehub::bench

#endif  // CAREHUB_SERVICES_EVENTSTORE_BENCH_LOOPBACK_SERVER_H_
