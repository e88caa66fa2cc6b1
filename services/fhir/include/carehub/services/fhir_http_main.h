// What the binaries that serve the FHIR API (carehubd, carehub-fhir) share: the --http_* flags,
// the port file, and the health report that compares the projector's checkpoint with the log.
//
//   FhirApi api(model.get(), FhirApiOptionsFromFlags(
//       [&] { return ProjectorHealth(projector, *store); }));
//   HttpServer http(&api, HttpServerOptionsFromFlags());
//   ASSIGN_OR_RETURN(int port, http.Start());
//   RETURN_IF_ERROR(WriteHttpPortFile(port));
//   ...
//   http.Stop(grace);
//   RemoveHttpPortFile();
//
// Errors: WriteHttpPortFile returns Internal if the file cannot be written.
// Thread-safety: ProjectorHealth may be called from any thread; the rest from main().
#ifndef CAREHUB_SERVICES_FHIR_HTTP_MAIN_H_
#define CAREHUB_SERVICES_FHIR_HTTP_MAIN_H_

#include <functional>

#include "absl/status/status.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/services/fhir_api.h"
#include "carehub/services/fhir_projector.h"
#include "carehub/services/http_server.h"

namespace carehub::services {

HttpServerOptions HttpServerOptionsFromFlags();
FhirApi::Options FhirApiOptionsFromFlags(std::function<FhirHealth()> health);

// --http_port_file: the bound port (decimal, newline), written atomically (write, rename);
// nothing when the flag is empty.
absl::Status WriteHttpPortFile(int port);
void RemoveHttpPortFile();

// Ready when the projector runs without error and its checkpoint has reached the log's end.
FhirHealth ProjectorHealth(const FhirProjector& projector, eventstore::EventStore& store);

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_FHIR_HTTP_MAIN_H_
