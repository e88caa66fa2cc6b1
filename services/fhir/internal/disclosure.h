// Disclosure: whether one data owner's record may be shown to another organisation, by the
// patient's consents and blocks (Patientdatalagen: sammanhållen journalföring). The hub is not
// one shared journal but a set of consented disclosures between separate data owners (the
// region, each municipality's HSL and SoL units); every read is checked here.
//
// The rules, for a resource owned by O and kept by its care unit U (fhir::DataOwnerOf; U may be
// absent), asked for by organisation R from care unit V:
//   - a resource without an owner (the shared plan, team, workflow tasks, the patient's consents)
//     is shown;
//   - an active block (spärr) of U's record (inre spärr) withholds it from every other care
//     unit, or only from those it names (by the unit's or its organisation's HSA-id);
//   - an active block of O's record (yttre spärr) withholds it from every other organisation, or
//     only from those it names, whatever the consents;
//   - otherwise O's own units see it, and another organisation sees it while an active consent
//     names R as a recipient (any scope: the SIP consent or an opt-in); without one, it is
//     withheld.
// A consent or block is active while its status is "active" and `now` is within
// provision.period.
//
// The consents and blocks are the patient's Consent resources as the projection writes them
// (fhir/internal/patient_projection.cc): recipients and blocked readers in provision.actor, the
// blocked owner in Consent.organization, each as a reference with the organisation's HSA-id.
//
//   PatientDisclosure d = PatientDisclosure::FromConsents(consent_jsons, clock->Now());
//   if (d.Check(fhir::DataOwnerOf(json), {.organization = org, .unit = unit}) != Verdict::kShown)
//
// Thread-safety: immutable once built.
#ifndef CAREHUB_SERVICES_FHIR_INTERNAL_DISCLOSURE_H_
#define CAREHUB_SERVICES_FHIR_INTERNAL_DISCLOSURE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "carehub/fhir/resource_facts.h"

namespace carehub::services::fhir_api {

enum class Verdict {
  kShown,
  kNoConsent,  // another owner's record and no active consent names the reader
  kBlocked,    // the patient has blocked the owner's (or the unit's) record from the reader
};

// Who asks: HSA-ids of the organisation and the care unit ("" when not named).
struct Reader {
  std::string_view organization;
  std::string_view unit;
};

class PatientDisclosure {
 public:
  // From the compact JSON of the patient's Consent resources; `complete` says that they are all
  // of them. One that cannot be read, or one left out, might be a block: then every other
  // owner's record is withheld (kBlocked), never shown by mistake.
  static PatientDisclosure FromConsents(const std::vector<std::string>& consents, absl::Time now,
                                        bool complete = true);

  // An owner without an organisation is a shared resource.
  Verdict Check(const fhir::DataOwner& owner, const Reader& reader) const;

 private:
  struct Block {
    std::string owner;                 // an organisation's or a care unit's HSA-id
    std::vector<std::string> readers;  // organisations or units; empty: all but the owner
  };
  absl::flat_hash_set<std::string> recipients_;  // of active consents
  std::vector<Block> blocks_;                    // active ones
  bool unreadable_ = false;  // a Consent could not be read, or not all were given
};

// Whether `reader` is the unit that keeps the record or, for a record no unit keeps, its owner:
// then it is shown whatever the patient's consents and blocks (which need not be read).
bool KeepsRecord(const Reader& reader, const fhir::DataOwner& owner);

// Why a resource was withheld, for an OperationOutcome: names the owner and the reader (HSA-ids,
// never the patient).
std::string WithheldReason(Verdict verdict, const fhir::DataOwner& owner, const Reader& reader);

}  // namespace carehub::services::fhir_api

#endif  // CAREHUB_SERVICES_FHIR_INTERNAL_DISCLOSURE_H_
