// carehub-fhir: the FHIR read side as a process of its own. Subscribes to an event log in
// another process (carehub-eventstore or carehubd, over gRPC), projects it into its own read
// model, and serves the FHIR REST API. Run several for more read capacity: each keeps its own
// read model, fed by the same log.
//
//   carehub-fhir --eventstore_address=127.0.0.1:50051 --data_dir=./var/carehub-fhir
//                --http_address=127.0.0.1:8080
//
// Data layout under --data_dir: fhir/ (the read model; remove it to rebuild from the log),
// access-log/ (who read what; never remove it: it is the record the law asks for).
// Auditors read that access log while it runs over gRPC at --grpc_address
// (carehub.audit.v1.AccessLog, with health checking and reflection):
// `carehub-audit --hub=<care> --access_log_hub=<this address> access-log --patient=...`.
// Stops cleanly on SIGTERM or SIGINT (exit code 0): stops accepting gRPC calls and HTTP
// connections, lets those in flight finish for up to --shutdown_grace, stops the projector,
// closes the model.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "carehub/audit/access_log_service.h"
#include "carehub/base/log.h"
#include "carehub/base/status_macros.h"
#include "carehub/fhir/read_model.h"
#include "carehub/services/common/grpc_server.h"
#include "carehub/services/common/server_main.h"
#include "carehub/services/common/shutdown_signal.h"
#include "carehub/services/eventstore_client.h"
#include "carehub/services/fhir_api.h"
#include "carehub/services/fhir_http_main.h"
#include "carehub/services/fhir_projector.h"
#include "carehub/services/http_server.h"

ABSL_FLAG(std::string, data_dir, "./var/carehub-fhir",
          "Directory of the FHIR read model (under fhir/); created if missing.");
ABSL_FLAG(std::string, eventstore_address, "127.0.0.1:50051",
          "host:port of the event store's gRPC service (carehub-eventstore or carehubd).");
ABSL_FLAG(std::string, grpc_address, "127.0.0.1:50053",
          "host:port to serve the access log on over gRPC (carehub.audit.v1.AccessLog); port 0 "
          "picks a free port (see --port_file).");
ABSL_FLAG(std::string, port_file, "",
          "If set, the bound gRPC port is written to this file once serving, and removed on a clean stop.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "How long gRPC calls and HTTP requests in flight may take to finish after SIGTERM/SIGINT.");

namespace carehub::services {
namespace {

constexpr char kBinary[] = "carehub-fhir";

absl::Status Run(const ShutdownSignals& signals) {
  const std::string fhir_path =
      (std::filesystem::path(absl::GetFlag(FLAGS_data_dir)) / "fhir").string();
  std::error_code error;
  std::filesystem::create_directories(fhir_path, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", fhir_path, ": ", error.message()));

  ClientOptions client_options;
  client_options.connect_eagerly = false;  // the log may start after us; the projector retries
  ASSIGN_OR_RETURN(std::unique_ptr<eventstore::EventStore> store,
                   ConnectEventStore(absl::GetFlag(FLAGS_eventstore_address), client_options));
  ASSIGN_OR_RETURN(std::unique_ptr<fhir::ReadModel> model, fhir::ReadModel::Open({.path = fhir_path}));
  FhirProjector projector(store.get(), model.get());
  RETURN_IF_ERROR(projector.Start());

  ASSIGN_OR_RETURN(std::unique_ptr<audit::AccessLog> access_log,
                   OpenAccessLogFromFlags(absl::GetFlag(FLAGS_data_dir)));
  FhirApi::Options api_options =
      FhirApiOptionsFromFlags([&] { return ProjectorHealth(projector, *store); });
  api_options.access_log = access_log.get();
  FhirApi api(model.get(), std::move(api_options));
  HttpServer http(&api, HttpServerOptionsFromFlags());
  ASSIGN_OR_RETURN(int port, http.Start());
  RETURN_IF_ERROR(WriteHttpPortFile(port));
  LOG_INFO("http.serving").Kv("binary", kBinary).Kv("http_port", port);

  // The access log is kept here, so it is read here: auditors' tools reach it over gRPC.
  std::optional<audit::AccessLogService> access_log_service;
  if (access_log != nullptr) access_log_service.emplace(access_log.get());
  GrpcServer grpc_server({.address = absl::GetFlag(FLAGS_grpc_address)});
  if (access_log_service.has_value()) {
    grpc_server.AddService(&*access_log_service, audit::v1::AccessLog::service_full_name());
  }
  absl::Status served = ServeUntilShutdownSignal(grpc_server, signals,
                                                 {.name = kBinary,
                                                  .port_file = absl::GetFlag(FLAGS_port_file),
                                                  .shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace)});
  http.Stop(absl::GetFlag(FLAGS_shutdown_grace));
  RemoveHttpPortFile();
  projector.Stop();
  RETURN_IF_ERROR(served);
  return projector.status();
  // Destroyed in reverse order: the gRPC server, its service, the HTTP server, the API, the
  // access log, the projector, the model, the client.
}

}  // namespace
}  // namespace carehub::services

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "The FHIR read side: projector and FHIR REST API over a remote event log.");
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
