// carehubd: the all-in-one carehub process. Every service runs here over one data directory and
// one gRPC listener, with health checking and reflection.
//
//   carehubd --data_dir=./var/carehub --grpc_address=127.0.0.1:50051
//            --http_address=127.0.0.1:8080
//
// Data layout under --data_dir: eventstore/ (the event log), care/hub.key (the care service's
// secret key for identifier registry streams: back it up with the log), fhir/ (the FHIR read
// model). The FHIR REST API is served over HTTP at --http_address (base /fhir, GET /health).
// Stops cleanly on SIGTERM or SIGINT (exit code 0): refuses new calls, ends subscriptions, lets
// calls and HTTP requests in flight finish for up to --shutdown_grace, then closes the stores.
//
// main() is the only place where objects are wired together. To add a service: construct it in
// Run() from the objects it needs (declared before it, so it is destroyed first), and register it
// with server.AddService().
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/base/log.h"
#include "carehub/base/status_macros.h"
#include "carehub/care/care_commands.h"
#include "carehub/care/deadline_scheduler.h"
#include "carehub/care/hub_key.h"
#include "carehub/care/patient_id.h"
#include "carehub/care/payment_agreements.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/fhir/read_model.h"
#include "carehub/services/care_service.h"
#include "carehub/services/common/grpc_server.h"
#include "carehub/services/common/server_main.h"
#include "carehub/services/common/shutdown_signal.h"
#include "carehub/services/eventstore_service.h"
#include "carehub/services/fhir_api.h"
#include "carehub/services/fhir_http_main.h"
#include "carehub/services/fhir_projector.h"
#include "carehub/services/http_server.h"

ABSL_FLAG(std::string, data_dir, "./var/carehub",
          "Directory of all carehub data (event log under eventstore/); created if missing.");
ABSL_FLAG(std::string, grpc_address, "127.0.0.1:50051",
          "host:port to serve gRPC on; port 0 picks a free port (see --port_file).");
ABSL_FLAG(std::string, port_file, "",
          "If set, the bound gRPC port is written to this file once serving, and the file is "
          "removed after a clean stop.");
ABSL_FLAG(std::string, payment_agreements, "",
          "File of payment-responsibility agreements, one version per line (see "
          "carehub/care/payment_agreements.h); empty: no payment-responsibility deadlines.");
ABSL_FLAG(absl::Duration, deadline_check_interval, absl::Minutes(1),
          "How often the care service looks for Lag (2017:612) deadlines that have passed.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "How long calls in flight may take to finish after SIGTERM/SIGINT.");

namespace carehub::services {
namespace {

constexpr char kBinary[] = "carehubd";

absl::Status CreateDirectories(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", path, ": ", error.message()));
  return absl::OkStatus();
}

absl::Status Run(const ShutdownSignals& signals) {
  const std::filesystem::path data_dir(absl::GetFlag(FLAGS_data_dir));

  // The event log.
  eventstore::Options store_options;
  store_options.path = (data_dir / "eventstore").string();
  RETURN_IF_ERROR(CreateDirectories(store_options.path));
  ASSIGN_OR_RETURN(std::unique_ptr<eventstore::EventStore> store,
                   eventstore::EventStore::Open(store_options));
  EventStoreService event_store_service(store.get());

  // The care service: commands in, care events out, and the deadline checks.
  RETURN_IF_ERROR(CreateDirectories((data_dir / "care").string()));
  ASSIGN_OR_RETURN(std::string hub_key,
                   care::LoadOrCreateHubKey((data_dir / "care" / "hub.key").string()));
  std::vector<care::PaymentAgreement> payment_agreements;
  if (!absl::GetFlag(FLAGS_payment_agreements).empty()) {
    ASSIGN_OR_RETURN(payment_agreements,
                     care::LoadPaymentAgreements(absl::GetFlag(FLAGS_payment_agreements)));
  }
  std::unique_ptr<care::PatientIdGenerator> patient_ids = care::NewUrandomPatientIdGenerator();
  ASSIGN_OR_RETURN(std::unique_ptr<care::CareCommands> care_commands,
                   care::CareCommands::Create(store.get(),
                                              {.clock = Clock::Real(),
                                               .ids = patient_ids.get(),
                                               .hub_key = std::move(hub_key),
                                               .payment_agreements = payment_agreements}));
  care::DeadlineScheduler deadline_scheduler(care_commands.get(), Clock::Real(),
                                             absl::GetFlag(FLAGS_deadline_check_interval));
  CareService care_service(care_commands.get());

  // The FHIR read side: the projector keeps fhir/ (its own read model, rebuilt from the log if
  // removed) up to date with the log.
  const std::string fhir_path = (data_dir / "fhir").string();
  RETURN_IF_ERROR(CreateDirectories(fhir_path));
  ASSIGN_OR_RETURN(std::unique_ptr<fhir::ReadModel> fhir_read_model,
                   fhir::ReadModel::Open({.path = fhir_path}));
  FhirProjector fhir_projector(store.get(), fhir_read_model.get());
  RETURN_IF_ERROR(fhir_projector.Start());

  // The FHIR REST API over that read model (flags --http_*).
  FhirApi fhir_api(fhir_read_model.get(), FhirApiOptionsFromFlags([&] {
                     return ProjectorHealth(fhir_projector, *store);
                   }));
  HttpServer http_server(&fhir_api, HttpServerOptionsFromFlags());
  ASSIGN_OR_RETURN(int http_port, http_server.Start());
  RETURN_IF_ERROR(WriteHttpPortFile(http_port));

  // The gRPC listener for every service. Its request size bound is the largest any service needs.
  GrpcServer server({
      .address = absl::GetFlag(FLAGS_grpc_address),
      .max_receive_message_bytes = EventStoreService::MaxRequestBytes(store_options.limits),
  });
  server.AddService(&event_store_service, eventstore::v1::EventStore::service_full_name(),
                    [&event_store_service] { event_store_service.BeginShutdown(); });
  server.AddService(&care_service, care::v1::CareService::service_full_name());

  absl::Status served =
      ServeUntilShutdownSignal(server, signals,
                               {.name = kBinary,
                                .port_file = absl::GetFlag(FLAGS_port_file),
                                .shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace)});
  http_server.Stop(absl::GetFlag(FLAGS_shutdown_grace));
  RemoveHttpPortFile();
  return served;
  // Destroyed here in reverse order of declaration: the server, the services, then the stores.
}

}  // namespace
}  // namespace carehub::services

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("The all-in-one carehub process.");
  absl::ParseCommandLine(argc, argv);
  return carehub::services::RunServerProcess(
      carehub::services::kBinary,
      {
          {"data_dir", absl::GetFlag(FLAGS_data_dir)},
          {"grpc_address", absl::GetFlag(FLAGS_grpc_address)},
      },
      carehub::services::Run);
}
