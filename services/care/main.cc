// carehub-care: the care service alone (carehub.care.v1.CareService), over a remote event store.
// For deployments that run one process per service; carehubd serves the same service in the
// all-in-one process, over the in-process log.
//
//   carehub-care --eventstore_address=127.0.0.1:50051 --grpc_address=127.0.0.1:50052
//                --data_dir=/var/lib/carehub/care
//
// --data_dir holds hub.key, the secret key of the identifier registry streams. Every care-service
// process over one log must use the same key (copy it; never regenerate it), or they would
// create a second patient for an identifier another process registered.
//
// Stops cleanly on SIGTERM or SIGINT (exit code 0).
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "carehub/base/log.h"
#include "carehub/base/status_macros.h"
#include "carehub/services/care_runtime.h"
#include "carehub/services/common/grpc_server.h"
#include "carehub/services/common/server_main.h"
#include "carehub/services/common/shutdown_signal.h"
#include "carehub/services/eventstore_client.h"

ABSL_FLAG(std::string, data_dir, "./var/carehub/care",
          "Directory of the care service's own files (hub.key); created if missing.");
ABSL_FLAG(std::string, eventstore_address, "127.0.0.1:50051",
          "gRPC target of the event store (carehub-eventstore or carehubd).");
ABSL_FLAG(std::string, grpc_address, "127.0.0.1:50052",
          "host:port to serve gRPC on; port 0 picks a free port (see --port_file).");
ABSL_FLAG(std::string, port_file, "",
          "If set, the bound gRPC port is written to this file once serving, and the file is "
          "removed after a clean stop.");
ABSL_FLAG(std::string, payment_agreements, "",
          "File of payment-responsibility agreements, one version per line (see "
          "carehub/care/payment_agreements.h); empty: no payment-responsibility deadlines.");
ABSL_FLAG(absl::Duration, deadline_check_interval, absl::Minutes(1),
          "How often to look for Lag (2017:612) deadlines that have passed.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "How long calls in flight may take to finish after SIGTERM/SIGINT.");

namespace carehub::services {
namespace {

constexpr char kBinary[] = "carehub-care";

absl::Status Run(const ShutdownSignals& signals) {
  ASSIGN_OR_RETURN(std::unique_ptr<eventstore::EventStore> store,
                   ConnectEventStore(absl::GetFlag(FLAGS_eventstore_address), ClientOptions{}));
  ASSIGN_OR_RETURN(
      std::unique_ptr<CareRuntime> care,
      CareRuntime::Start(store.get(),
                         {.care_dir = absl::GetFlag(FLAGS_data_dir),
                          .payment_agreements_file = absl::GetFlag(FLAGS_payment_agreements),
                          .deadline_check_interval =
                              absl::GetFlag(FLAGS_deadline_check_interval)}));

  GrpcServer server({.address = absl::GetFlag(FLAGS_grpc_address)});
  server.AddService(care->service(), care::v1::CareService::service_full_name());
  return ServeUntilShutdownSignal(server, signals,
                                  {.name = kBinary,
                                   .port_file = absl::GetFlag(FLAGS_port_file),
                                   .shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace)});
  // Destroyed in reverse order: the server, the care service, the event store client.
}

}  // namespace
}  // namespace carehub::services

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Serves the carehub care service over gRPC.");
  absl::ParseCommandLine(argc, argv);
  return carehub::services::RunServerProcess(
      carehub::services::kBinary,
      {
          {"data_dir", absl::GetFlag(FLAGS_data_dir)},
          {"eventstore_address", absl::GetFlag(FLAGS_eventstore_address)},
          {"grpc_address", absl::GetFlag(FLAGS_grpc_address)},
      },
      carehub::services::Run);
}
