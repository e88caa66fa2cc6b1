// PatientResolver: turns what an auditor types for a patient — the hub's internal patient id
// (a UUID) or a national identifier (personnummer, samordningsnummer) — into the internal id.
//
//   // A stopped hub's data directory: the registry streams of the log, keyed by the hub key.
//   ASSIGN_OR_RETURN(std::string key, ReadHubKey(data_dir + "/care/hub.key"));
//   std::unique_ptr<PatientResolver> resolver = NewRegistryResolver(store.get(), key);
//   // A running hub: CareService.ResolvePatient with create_if_missing = false.
//   ASSIGN_OR_RETURN(auto resolver, NewRemoteResolver("127.0.0.1:50051"));
//   ASSIGN_OR_RETURN(std::string patient_id, resolver->Resolve("19121212-1212"));
//
// Errors: InvalidArgument when the input is neither a patient id nor a valid national
// identifier (never repeating any part of the input); NotFound "unknown patient"; Unavailable when
// the hub cannot be reached. No message or log line ever repeats a national identifier.
//
// Thread-safety: Resolve is thread-safe.
#ifndef CAREHUB_AUDIT_PATIENT_RESOLVER_H_
#define CAREHUB_AUDIT_PATIENT_RESOLVER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "carehub/eventstore/event_store.h"

namespace carehub::audit {

class PatientResolver {
 public:
  virtual ~PatientResolver() = default;
  virtual absl::StatusOr<std::string> Resolve(std::string_view identifier) const = 0;
};

// Reads the hub key without ever creating one (an audit must not write into the data
// directory). NotFound if the file does not exist; DataLoss if it has the wrong size.
absl::StatusOr<std::string> ReadHubKey(const std::string& path);

// Resolves through the registry streams of `store` (not owned; must outlive the resolver).
std::unique_ptr<PatientResolver> NewRegistryResolver(eventstore::EventStore* store,
                                                     std::string hub_key);

// Resolves through the care service at `target` (host:port). Connects lazily.
std::unique_ptr<PatientResolver> NewRemoteResolver(const std::string& target);

}  // namespace carehub::audit

#endif  // CAREHUB_AUDIT_PATIENT_RESOLVER_H_
