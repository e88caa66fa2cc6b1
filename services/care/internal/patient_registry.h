// PatientRegistry: national identifier -> internal patient id, kept in the log.
//
// Each identifier has a registry stream "pid-" + hex(HMAC-SHA256(hub key, kind|system|value)): a
// deterministic id that reveals nothing without the hub key (no personnummer in a stream id). Its
// first event, PatientIdentifierLinked, names the patient. A new patient is created by appending
// that event with ExpectedVersion::NoStream(): of two adapters meeting the same new person at
// once, one wins and the other gets a conflict and reads the winner's patient id. The link is
// also copied into the patient's own stream ("patient-<id>"), which thereby exists from the first
// moment, so the FHIR projection can show the identifier.
//
// A registry stream's first event never changes, so the identifiers resolved so far are kept in
// memory (up to kResolvedCapacity, then forgotten at once and relearnt): a patient's later
// commands cost neither the HMAC nor a read of the log.
//
// Thread-safe (the store serialises the race). Not owned: store, ids, parser, calendar, clock.
#ifndef CAREHUB_SERVICES_CARE_INTERNAL_PATIENT_REGISTRY_H_
#define CAREHUB_SERVICES_CARE_INTERNAL_PATIENT_REGISTRY_H_

#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "carehub/base/clock.h"
#include "carehub/care/deadlines.h"
#include "carehub/care/national_id.h"
#include "carehub/care/patient_id.h"
#include "carehub/care/v1/events.pb.h"
#include "carehub/eventstore/event_store.h"

namespace carehub::care::internal {

namespace v1 = ::carehub::care::v1;

// "patient-<id>".
std::string PatientStreamId(const std::string& patient_id);

class PatientRegistry {
 public:
  PatientRegistry(eventstore::EventStore* store, std::string hub_key, PatientIdGenerator* ids,
                  const NationalIdParser* parser, const DeadlineCalendar* calendar,
                  const Clock* clock)
      : store_(store), hub_key_(std::move(hub_key)), ids_(ids), parser_(parser),
        calendar_(calendar), clock_(clock) {}

  // Validates and normalises (kind, value, system). InvalidArgument naming the field `field`
  // and the reason, never the identifier.
  absl::StatusOr<v1::PatientIdentifier> Normalize(const v1::PatientIdentifier& identifier,
                                                  const std::string& field) const;

  // The registry stream of a normalised identifier.
  std::string RegistryStreamId(const v1::PatientIdentifier& normalized) const;

  struct Resolution {
    std::string patient_id;
    bool created = false;
  };
  // The patient a normalised identifier denotes; with `create_if_missing`, a new patient if none,
  // else NotFound.
  absl::StatusOr<Resolution> Resolve(const v1::PatientIdentifier& normalized,
                                     bool create_if_missing);

  // Links another normalised identifier to `patient_id` (e.g. a personnummer replacing a
  // samordningsnummer). Idempotent; FailedPrecondition if it denotes another patient. `event`
  // is the PatientIdentifierLinked to record (envelope and id filled in by the caller).
  absl::StatusOr<eventstore::AppendResult> Link(const v1::CareEvent& event);

 private:
  // The patient id in a registry stream's first event; NotFound if the stream does not exist.
  absl::StatusOr<std::string> ReadLinkedPatient(const std::string& stream_id);
  absl::Status EnsurePatientStream(const v1::CareEvent& link);
  // kind|system|value, what the registry stream id is the HMAC of.
  static std::string IdentifierKey(const v1::PatientIdentifier& normalized);

  static constexpr size_t kResolvedCapacity = 200000;

  eventstore::EventStore* store_;
  const std::string hub_key_;
  PatientIdGenerator* ids_;
  const NationalIdParser* parser_;
  const DeadlineCalendar* calendar_;
  const Clock* clock_;
  absl::Mutex resolved_mu_;
  // IdentifierKey -> patient id.
  absl::flat_hash_map<std::string, std::string> resolved_ ABSL_GUARDED_BY(resolved_mu_);
};

// A care event as the store keeps it: type = the payload's full message name.
eventstore::ProposedEvent ToProposed(const v1::CareEvent& event);

}  // namespace carehub::care::internal

#endif  // CAREHUB_SERVICES_CARE_INTERNAL_PATIENT_REGISTRY_H_
