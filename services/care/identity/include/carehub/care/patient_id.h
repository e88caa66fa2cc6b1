// Internal patient ids: opaque, random, and unrelated to any national identifier.
//
//   std::unique_ptr<PatientIdGenerator> ids = NewUrandomPatientIdGenerator();
//   absl::StatusOr<std::string> id = ids->NewPatientId();  // "3b0c5e8a-1f2d-4c7e-9a61-0d2f4e8b7c15"
//
// Why random and not derived from the personnummer (e.g. a keyed hash): a derived id would link
// every record of a person to their personnummer for anyone who obtains the key, and it could not
// survive a change of identifier (samordningsnummer -> personnummer, reservnummer -> personnummer).
// So the care service mints a random id when it meets a new person and records the mapping from
// national identifier to id as PatientIdentifierLinked events in the log; a changed identifier is
// one more link to the same id.
#ifndef CAREHUB_CARE_PATIENT_ID_H_
#define CAREHUB_CARE_PATIENT_ID_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/statusor.h"

namespace carehub::care {

// Mints internal patient ids. Implementations are thread-safe.
class PatientIdGenerator {
 public:
  virtual ~PatientIdGenerator() = default;

  // Returns a new id: a random UUID (version 4) in lower-case canonical form, 36 characters. Ids
  // do not repeat (122 random bits). Returns Unavailable if the source of randomness fails.
  virtual absl::StatusOr<std::string> NewPatientId() = 0;
};

// Ids from the kernel's cryptographically secure generator (the pool behind /dev/urandom, read with
// getrandom(2), so no file descriptor is held and it works in a chroot). Unpredictable: the
// production choice.
std::unique_ptr<PatientIdGenerator> NewUrandomPatientIdGenerator();

// Ids from a caller-supplied generator, e.g. an absl::BitGen, or a seeded std::mt19937_64 for
// deterministic tests and replays. `gen` is not owned and must outlive the returned object; calls
// are serialised, so `gen` need not be thread-safe but must not be used elsewhere concurrently.
std::unique_ptr<PatientIdGenerator> NewBitGenPatientIdGenerator(absl::BitGenRef gen);

// Whether `id` has the form NewPatientId() returns: 8-4-4-4-12 lower-case hex digits, version 4,
// RFC 4122 variant. Lets the care service refuse anything else (above all a personnummer) where a
// patient id is expected.
bool IsPatientId(std::string_view id);

}  // namespace carehub::care

#endif  // CAREHUB_CARE_PATIENT_ID_H_
