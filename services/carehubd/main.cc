// carehubd: the all-in-one carehub process. Every service runs here over one data directory and
// one gRPC listener, with health checking and reflection.
//
//   carehubd --data_dir=./var/carehub --grpc_address=127.0.0.1:50051
//            --http_address=127.0.0.1:8080
//
// Data layout under --data_dir: eventstore/ (the event log), care/hub.key (the care service's
// secret key for identifier registry streams: back it up with the log), fhir/ (the FHIR read
// model), access-log/ (who read which record, hash-chained like the log; --access_log, also
// served over gRPC for auditors). The FHIR REST API is served over HTTP at --http_address (base
// /fhir, GET /health).
// The adapters run here too: HL7 v2 ADT over MLLP at --mllp_address (when sending facilities
// are configured) and the municipal drop directory <data_dir>/municipal with its HTTP endpoint at
// --municipal_http_address, both calling the care service in-process.
// Stops cleanly on SIGTERM or SIGINT (exit code 0): refuses new calls, ends subscriptions, lets
// calls and HTTP requests in flight finish for up to --shutdown_grace, then closes the stores.
//
// main() is the only place where objects are wired together. To add a service: construct it in
// Run() from the objects it needs (declared before it, so it is destroyed first), and register it
// with server.AddService().
#include <cstdlib>
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
#include "carehub/eventstore/event_store.h"
#include "carehub/fhir/read_model.h"
#include "carehub/hl7v2/facility_config.h"
#include "carehub/hl7v2/hl7v2_adapter.h"
#include "carehub/municipal/municipal_adapter.h"
#include "carehub/services/care_runtime.h"
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
ABSL_FLAG(std::string, mllp_address, "127.0.0.1:2575",
          "host:port of the HL7 v2 MLLP listener (port 0: a free port, see the log); it runs "
          "when sending facilities are configured (--hl7v2_facilities or --hl7v2_owner_hsa_id).");
ABSL_FLAG(std::string, hl7v2_facilities, "",
          "File of per sending facility HL7 v2 settings (see carehub/hl7v2/facility_config.h).");
ABSL_FLAG(std::string, hl7v2_owner_hsa_id, "",
          "Without --hl7v2_facilities: the region's HSA-id, owner of every facility's events.");
ABSL_FLAG(std::string, municipal_http_address, "127.0.0.1:8090",
          "host:port of the municipal import endpoint (POST /municipal/v1/import); empty: none. "
          "The drop directory <data_dir>/municipal/inbox is always watched.");
ABSL_FLAG(std::string, municipal_source_system, "municipal",
          "The municipal system records come from (with record_id the idempotency key).");

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
  ASSIGN_OR_RETURN(
      std::unique_ptr<CareRuntime> care,
      CareRuntime::Start(store.get(),
                         {.care_dir = (data_dir / "care").string(),
                          .payment_agreements_file = absl::GetFlag(FLAGS_payment_agreements),
                          .deadline_check_interval =
                              absl::GetFlag(FLAGS_deadline_check_interval)}));

  // The FHIR read side: the projector keeps fhir/ (its own read model, rebuilt from the log if
  // removed) up to date with the log.
  const std::string fhir_path = (data_dir / "fhir").string();
  RETURN_IF_ERROR(CreateDirectories(fhir_path));
  ASSIGN_OR_RETURN(std::unique_ptr<fhir::ReadModel> fhir_read_model,
                   fhir::ReadModel::Open({.path = fhir_path}));
  FhirProjector fhir_projector(store.get(), fhir_read_model.get());
  RETURN_IF_ERROR(fhir_projector.Start());

  // The FHIR REST API over that read model (flags --http_*).
  // Every read through it is recorded first in the access log (--access_log).
  ASSIGN_OR_RETURN(std::unique_ptr<audit::AccessLog> access_log, OpenAccessLogFromFlags(data_dir.string()));
  FhirApi::Options fhir_api_options = FhirApiOptionsFromFlags([&] {
    return ProjectorHealth(fhir_projector, *store);
  });
  fhir_api_options.access_log = access_log.get();
  FhirApi fhir_api(fhir_read_model.get(), std::move(fhir_api_options));
  HttpServer http_server(&fhir_api, HttpServerOptionsFromFlags());
  ASSIGN_OR_RETURN(int http_port, http_server.Start());
  RETURN_IF_ERROR(WriteHttpPortFile(http_port));

  // Auditors read the running hub's access log over gRPC (carehub-audit --hub).
  std::optional<audit::AccessLogService> access_log_service;
  if (access_log != nullptr) access_log_service.emplace(access_log.get());

  // The gRPC listener for every service. Its request size bound is the largest any service needs.
  GrpcServer server({
      .address = absl::GetFlag(FLAGS_grpc_address),
      .max_receive_message_bytes = EventStoreService::MaxRequestBytes(store_options.limits),
  });
  server.AddService(&event_store_service, eventstore::v1::EventStore::service_full_name(),
                    [&event_store_service] { event_store_service.BeginShutdown(); });
  server.AddService(care->service(), care::v1::CareService::service_full_name());
  if (access_log_service.has_value()) {
    server.AddService(&*access_log_service, audit::v1::AccessLog::service_full_name());
  }

  // The adapters call the care service through the server's in-process channel, so they start
  // once it serves and stop before it drains (their commands in flight still get answers).
  std::unique_ptr<hl7v2::Hl7v2Adapter> hl7v2_adapter;
  std::optional<hl7v2::FacilityDirectory> facilities;
  if (!absl::GetFlag(FLAGS_hl7v2_facilities).empty()) {
    ASSIGN_OR_RETURN(facilities,
                     hl7v2::FacilityDirectory::Load(absl::GetFlag(FLAGS_hl7v2_facilities)));
  } else if (!absl::GetFlag(FLAGS_hl7v2_owner_hsa_id).empty()) {
    ASSIGN_OR_RETURN(facilities,
                     hl7v2::FacilityDirectory::Default(absl::GetFlag(FLAGS_hl7v2_owner_hsa_id)));
  } else {
    LOG_INFO("hl7v2.off").Kv("reason", "no sending facility configured");
  }
  std::unique_ptr<municipal::MunicipalAdapter> municipal_adapter;
  auto start_adapters = [&]() -> absl::Status {
    if (facilities.has_value()) {
      ASSIGN_OR_RETURN(hl7v2_adapter,
                       hl7v2::Hl7v2Adapter::Create(server.InProcessChannel(),
                                                   {.mllp_address = absl::GetFlag(FLAGS_mllp_address),
                                                    .data_dir = data_dir.string(),
                                                    .facilities = *facilities}));
      RETURN_IF_ERROR(hl7v2_adapter->Start().status());
    }
    municipal_adapter = std::make_unique<municipal::MunicipalAdapter>(
        server.InProcessChannel(),
        municipal::MunicipalAdapterOptions{
            .root = (data_dir / "municipal").string(),
            .http_address = absl::GetFlag(FLAGS_municipal_http_address),
            .source_system = absl::GetFlag(FLAGS_municipal_source_system)});
    return municipal_adapter->Start();
  };
  auto stop_adapters = [&] {
    if (hl7v2_adapter != nullptr) hl7v2_adapter->Stop();
    if (municipal_adapter != nullptr) municipal_adapter->Stop();
  };

  absl::Status served =
      ServeUntilShutdownSignal(server, signals,
                               {.name = kBinary,
                                .port_file = absl::GetFlag(FLAGS_port_file),
                                .shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace),
                                .on_started = start_adapters,
                                .on_stopping = stop_adapters});
  stop_adapters();  // when the start failed half-way
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
