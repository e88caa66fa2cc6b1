// carehub-eventstore: the event store alone, served over gRPC (carehub.eventstore.v1.EventStore)
// with health checking and reflection. For deployments that run one process per service;
// carehubd serves the same service in the all-in-one process.
//
//   carehub-eventstore --data_dir=/var/lib/carehub/eventstore --grpc_address=0.0.0.0:50051
//
// Stops cleanly on SIGTERM or SIGINT (exit code 0): refuses new calls, ends subscriptions, lets
// calls in flight finish for up to --shutdown_grace, then closes the store.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "carehub/base/log.h"
#include "carehub/base/status_macros.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/services/common/grpc_server.h"
#include "carehub/services/common/server_main.h"
#include "carehub/services/common/shutdown_signal.h"
#include "carehub/services/eventstore_service.h"

ABSL_FLAG(std::string, data_dir, "./var/carehub/eventstore",
          "Directory of the event log (a RocksDB database); created if missing.");
ABSL_FLAG(std::string, grpc_address, "127.0.0.1:50051",
          "host:port to serve gRPC on; port 0 picks a free port (see --port_file).");
ABSL_FLAG(std::string, port_file, "",
          "If set, the bound gRPC port is written to this file once serving, and the file is "
          "removed after a clean stop.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "How long calls in flight may take to finish after SIGTERM/SIGINT.");
ABSL_FLAG(int, worker_threads, 16,
          "Threads running the store's blocking calls (appends waiting for fsync, reads).");

namespace carehub::services {
namespace {

constexpr char kBinary[] = "carehub-eventstore";

absl::Status Run(const ShutdownSignals& signals) {
  eventstore::Options store_options;
  store_options.path = absl::GetFlag(FLAGS_data_dir);
  std::error_code error;
  std::filesystem::create_directories(store_options.path, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot create ", store_options.path, ": ", error.message()));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<eventstore::EventStore> store,
                   eventstore::EventStore::Open(store_options));

  EventStoreServiceOptions service_options;
  service_options.worker_threads = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_worker_threads)));
  EventStoreService event_store_service(store.get(), service_options);

  GrpcServer server({
      .address = absl::GetFlag(FLAGS_grpc_address),
      .max_receive_message_bytes = EventStoreService::MaxRequestBytes(store_options.limits),
  });
  server.AddService(&event_store_service, eventstore::v1::EventStore::service_full_name(),
                    [&event_store_service] { event_store_service.BeginShutdown(); });

  return ServeUntilShutdownSignal(server, signals,
                                  {.name = kBinary,
                                   .port_file = absl::GetFlag(FLAGS_port_file),
                                   .shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace)});
  // The server, then the service, then the store are destroyed here, in that order.
}

}  // namespace
}  // namespace carehub::services

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Serves the carehub event store over gRPC.");
  absl::ParseCommandLine(argc, argv);
  return carehub::services::RunServerProcess(
      carehub::services::kBinary,
      {
          {"data_dir", absl::GetFlag(FLAGS_data_dir)},
          {"grpc_address", absl::GetFlag(FLAGS_grpc_address)},
      },
      carehub::services::Run);
}
