// GrpcServer: one gRPC listener with carehub's common equipment — gRPC health checking, server
// reflection, message size and keepalive settings — and an orderly shutdown.
//
//   GrpcServer server({.address = "127.0.0.1:0"});
//   server.AddService(&event_store_service, v1::EventStore::service_full_name(),
//                     [&] { event_store_service.BeginShutdown(); });
//   ASSIGN_OR_RETURN(int port, server.Start());
//   ...
//   server.Shutdown(absl::Seconds(10));
//
// Adding a service to a process is one AddService() call in its main(). Every registered service
// reports SERVING under its full name (and the server as a whole under "") from Start() until
// Shutdown().
//
// Thread-compatible: configure, start and shut down from one thread. Registered services are not
// owned and must outlive the server.
#ifndef CAREHUB_SERVICES_COMMON_GRPC_SERVER_H_
#define CAREHUB_SERVICES_COMMON_GRPC_SERVER_H_

#include <grpcpp/channel.h>
#include <grpcpp/server.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/services/common/shutdown_signal.h"

namespace carehub::services {

struct GrpcServerOptions {
  // host:port to listen on; port 0 picks a free port (see Start()).
  std::string address = "127.0.0.1:50051";
  // Largest request message accepted; larger ones fail with RESOURCE_EXHAUSTED before reaching a
  // service. Services derive it from their own limits.
  int max_receive_message_bytes = 4 << 20;
  // Interval of HTTP/2 keepalive pings, so that a vanished client's long-lived calls (a
  // subscription) end instead of holding resources forever.
  absl::Duration keepalive_time = absl::Seconds(60);
  absl::Duration keepalive_timeout = absl::Seconds(20);
};

class GrpcServer {
 public:
  explicit GrpcServer(GrpcServerOptions options);
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;
  // Shuts down at once (no grace) if still running.
  ~GrpcServer();

  // Registers `service` (not owned) before Start(). `health_name` is the name under which the
  // health service reports it: the full protobuf service name. `begin_shutdown`, if given, runs
  // at the start of Shutdown() so the service can end calls that never finish on their own
  // (subscriptions) instead of holding the drain up to its deadline.
  void AddService(grpc::Service* service, std::string_view health_name,
                  std::function<void()> begin_shutdown = nullptr);

  // Binds and starts serving; returns the bound port. Unavailable if the address cannot be bound;
  // FailedPrecondition if already started.
  absl::StatusOr<int> Start();

  // The bound port; 0 before Start().
  int port() const { return port_; }

  // A channel to this server's services that stays inside the process (no socket, no
  // serialisation to the wire), for clients wired into the same binary, e.g. carehubd's adapters
  // calling the care service. Only after Start(); nullptr before.
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Reports NOT_SERVING, runs the begin_shutdown hooks, stops accepting calls, lets in-flight
  // calls finish for up to `grace`, then cancels the rest and waits for them. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  struct Registration {
    grpc::Service* service;
    std::string health_name;
    std::function<void()> begin_shutdown;
  };

  GrpcServerOptions options_;
  std::vector<Registration> registrations_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

// What a server binary needs besides its objects.
struct ServeOptions {
  // Names the binary in log lines.
  std::string name;
  // If not empty: the bound port is written here (decimal, newline) once serving, atomically
  // (write then rename), and removed after a clean stop. For tests and supervisors that start
  // the server on port 0.
  std::string port_file;
  // How long in-flight calls get to finish after a shutdown signal.
  absl::Duration shutdown_grace = absl::Seconds(10);
  // Run once the server is serving, before the port file is written (e.g. start clients of the
  // server's own services over InProcessChannel()); an error stops the server and is returned.
  std::function<absl::Status()> on_started;
  // Run after the shutdown signal, before the server stops accepting calls: stop those clients,
  // so that their calls in flight still reach the services.
  std::function<void()> on_stopping;
};

// The life of a server binary after wiring: starts `server`, writes the port file, logs the
// start line, waits for SIGTERM/SIGINT, shuts the server down and logs the stop line. Returns OK
// after a clean stop, or the error that prevented the start.
absl::Status ServeUntilShutdownSignal(GrpcServer& server, const ShutdownSignals& signals,
                                      const ServeOptions& options);

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_COMMON_GRPC_SERVER_H_
