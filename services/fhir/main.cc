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
// Stops cleanly on SIGTERM or SIGINT (exit code 0): stops accepting HTTP connections, lets
// requests in flight finish for up to --shutdown_grace, stops the projector, closes the model.
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
#include "carehub/fhir/read_model.h"
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
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "How long HTTP requests in flight may take to finish after SIGTERM/SIGINT.");

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
  LOG_INFO("process.serving").Kv("binary", kBinary).Kv("http_port", port);

  const int signal = signals.Wait();
  LOG_INFO("process.stopping").Kv("binary", kBinary).Kv("signal", signal);
  http.Stop(absl::GetFlag(FLAGS_shutdown_grace));
  RemoveHttpPortFile();
  projector.Stop();
  return projector.status();
  // Destroyed in reverse order: the server, the API, the access log, the projector, the model,
  // the client.
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
      },
      carehub::services::Run);
}
