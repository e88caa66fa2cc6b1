#include "carehub/services/common/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/server_builder.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "carehub/base/log.h"

namespace carehub::services {
namespace {

int ToMillis(absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); }

absl::Status WritePortFile(const std::string& path, int port) {
  const std::string temp = absl::StrCat(path, ".tmp");
  std::FILE* file = std::fopen(temp.c_str(), "w");
  if (file == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create ", temp, ": ", std::strerror(errno)));
  }
  const std::string text = absl::StrCat(port, "\n");
  bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  written = (std::fclose(file) == 0) && written;
  // Rename so that a reader polling for the file never sees it half-written.
  if (!written || std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

GrpcServer::GrpcServer(GrpcServerOptions options) : options_(std::move(options)) {}

GrpcServer::~GrpcServer() { Shutdown(absl::ZeroDuration()); }

void GrpcServer::AddService(grpc::Service* service, std::string_view health_name,
                            std::function<void()> begin_shutdown) {
  registrations_.push_back({service, std::string(health_name), std::move(begin_shutdown)});
}

absl::StatusOr<int> GrpcServer::Start() {
  if (server_ != nullptr || shut_down_) return absl::FailedPreconditionError("already started");
  // Both are process-wide switches that the ServerBuilder reads when it is constructed and built.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  // Plaintext: the hub listens on loopback by default; TLS belongs to the deployment issue.
  builder.AddListeningPort(options_.address, grpc::InsecureServerCredentials(), &port_);
  // gRPC sets SO_REUSEPORT by default, which would let a second hub bind the same port and
  // silently take half the calls, each process with its own data. Fail to start instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, ToMillis(options_.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ToMillis(options_.keepalive_timeout));
  // By default gRPC stops pinging after two pings without data, which is exactly the state of a
  // caught-up subscription to a quiet log; keep probing so a vanished subscriber is noticed.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  for (const Registration& registration : registrations_) {
    builder.RegisterService(registration.service);
  }
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    port_ = 0;
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.address));
  }
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus(true);
    for (const Registration& registration : registrations_) {
      health->SetServingStatus(registration.health_name, true);
    }
  }
  return port_;
}

void GrpcServer::Shutdown(absl::Duration grace) {
  if (server_ == nullptr || shut_down_) return;
  shut_down_ = true;
  // Tell health watchers first, so that balancers stop sending before calls are refused.
  if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(false);
  }
  for (const Registration& registration : registrations_) {
    if (registration.begin_shutdown) registration.begin_shutdown();
  }
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

std::shared_ptr<grpc::Channel> GrpcServer::InProcessChannel() {
  if (server_ == nullptr) return nullptr;
  return server_->InProcessChannel(grpc::ChannelArguments());
}

absl::Status ServeUntilShutdownSignal(GrpcServer& server, const ShutdownSignals& signals,
                                      const ServeOptions& options) {
  absl::StatusOr<int> port = server.Start();
  if (!port.ok()) return port.status();
  if (options.on_started) {
    if (absl::Status started = options.on_started(); !started.ok()) {
      server.Shutdown(absl::ZeroDuration());
      return started;
    }
  }
  if (!options.port_file.empty()) {
    absl::Status written = WritePortFile(options.port_file, *port);
    if (!written.ok()) {
      server.Shutdown(absl::ZeroDuration());
      return written;
    }
  }
  LOG_INFO("server.started").Kv("binary", options.name).Kv("port", *port);

  const int signal = signals.Wait();
  LOG_INFO("server.stopping")
      .Kv("binary", options.name)
      .Kv("signal", signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "other")
      .Kv("grace_ms", absl::ToInt64Milliseconds(options.shutdown_grace));
  const absl::Time begin = absl::Now();
  if (options.on_stopping) options.on_stopping();
  server.Shutdown(options.shutdown_grace);
  if (!options.port_file.empty()) std::remove(options.port_file.c_str());
  LOG_INFO("server.stopped")
      .Kv("binary", options.name)
      .Kv("drain_ms", absl::ToInt64Milliseconds(absl::Now() - begin));
  return absl::OkStatus();
}

}  // namespace carehub::services
