// Disclosure: whether one data owner's record may be shown to another organisation, by the
// patient's consents and blocks (Patientdatalagen: sammanhållen journalföring). The hub is not
// one shared journal but a set of consented disclosures between separate data owners (the
// region, each municipality's HSL and SoL units); every read is checked here.
//
// The rules, for a resource owned by O (fhir::DataOwnerOf) and an organisation R that asks:
//   - a resource without an owner (the shared plan, team, workflow tasks, the patient's consents)
//     and R's own record (O == R) are shown;
//   - an active block (spärr) of O's record, against R or against every other organisation
//     (no actors), withholds it, whatever the consents;
//   - otherwise an active consent naming R as a recipient (any scope: the SIP consent or an
//     opt-in) shows it, and without one it is withheld.
// A consent is active while its status is "active" and `now` is within provision.period.
//
// The consents and blocks are the patient's Consent resources as the projection writes them
// (fhir/internal/patient_projection.cc): recipients and blocked readers in provision.actor, the
// blocked owner in Consent.organization, each as a reference with the organisation's HSA-id.
//
//   PatientDisclosure d = PatientDisclosure::FromConsents(consent_jsons, clock->Now());
//   if (d.Check(fhir::DataOwnerOf(json), reader) != Verdict::kShown) ...;
//
// Thread-safety: immutable once built.
#ifndef CAREHUB_SERVICES_FHIR_INTERNAL_DISCLOSURE_H_
#define CAREHUB_SERVICES_FHIR_INTERNAL_DISCLOSURE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"

namespace carehub::services::fhir_api {

enum class Verdict {
  kShown,
  kNoConsent,  // another owner's record and no active consent names the reader
  kBlocked,    // the patient has blocked the owner's record from the reader
};

class PatientDisclosure {
 public:
  // From the compact JSON of the patient's Consent resources; `complete` says that they are all
  // of them. One that cannot be read, or one left out, might be a block: then every other
  // owner's record is withheld (kBlocked), never shown by mistake.
  static PatientDisclosure FromConsents(const std::vector<std::string>& consents, absl::Time now,
                                        bool complete = true);

  // `owner` and `reader` are HSA-ids; an empty owner means a shared resource.
  Verdict Check(std::string_view owner, std::string_view reader) const;

 private:
  struct Block {
    std::string owner;
    std::vector<std::string> readers;  // empty: every organisation but the owner
  };
  absl::flat_hash_set<std::string> recipients_;  // of active consents
  std::vector<Block> blocks_;                    // active ones
  bool unreadable_ = false;  // a Consent could not be read, or not all were given
};

// Why a resource was withheld, for an OperationOutcome: names the owner and the reader (HSA-ids,
// never the patient).
std::string WithheldReason(Verdict verdict, std::string_view owner, std::string_view reader);

}  // namespace carehub::services::fhir_api

#endif  // CAREHUB_SERVICES_FHIR_INTERNAL_DISCLOSURE_H_
