// What the binaries that serve the FHIR API (carehubd, carehub-fhir) share: the --http_* flags,
// the port file, the access log (--access_log), and the health report that compares the
// projector's checkpoint with the log.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<audit::AccessLog> access_log, OpenAccessLogFromFlags(data_dir));
//   FhirApi::Options options = FhirApiOptionsFromFlags(
//       [&] { return ProjectorHealth(projector, *store); });
//   options.access_log = access_log.get();  // declared before the API: it must outlive it
//   FhirApi api(model.get(), std::move(options));
//   HttpServer http(&api, HttpServerOptionsFromFlags());
//   ASSIGN_OR_RETURN(int port, http.Start());
//   RETURN_IF_ERROR(WriteHttpPortFile(port));
//   ...
//   http.Stop(grace);
//   RemoveHttpPortFile();
//
// Errors: WriteHttpPortFile returns Internal if the file cannot be written; OpenAccessLogFromFlags
// passes on the event store's (Unavailable when another process has the access log open).
// Thread-safety: ProjectorHealth may be called from any thread; the rest from main().
#ifndef CAREHUB_SERVICES_FHIR_HTTP_MAIN_H_
#define CAREHUB_SERVICES_FHIR_HTTP_MAIN_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "carehub/audit/access_log.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/services/fhir_api.h"
#include "carehub/services/fhir_projector.h"
#include "carehub/services/http_server.h"

namespace carehub::services {

HttpServerOptions HttpServerOptionsFromFlags();
FhirApi::Options FhirApiOptionsFromFlags(std::function<FhirHealth()> health);
// The access log at <data_dir>/access-log, created if missing; nullptr with --access_log=false
// (then reads are not recorded and AuditEvent is not served).
absl::StatusOr<std::unique_ptr<audit::AccessLog>> OpenAccessLogFromFlags(const std::string& data_dir);

// --http_port_file: the bound port (decimal, newline), written atomically (write, rename);
// nothing when the flag is empty.
absl::Status WriteHttpPortFile(int port);
void RemoveHttpPortFile();

// Ready when the projector runs without error and its checkpoint has reached the log's end.
FhirHealth ProjectorHealth(const FhirProjector& projector, eventstore::EventStore& store);

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_FHIR_HTTP_MAIN_H_
