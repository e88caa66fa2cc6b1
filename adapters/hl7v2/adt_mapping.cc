#include "carehub/hl7v2/adt_mapping.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "carehub/hl7v2/timestamp.h"

namespace carehub::hl7v2 {
namespace {

namespace v1 = care::v1;

absl::Status Required(std::string_view field) {
  return absl::InvalidArgumentError(absl::StrCat(Sv(field), ": required"));
}

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  int64_t seconds = micros / 1000000;
  int64_t rest = micros % 1000000;
  if (rest < 0) {
    rest += 1000000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rest * 1000));
}

// Reads the whole context of one message once: the segments every trigger uses.
class AdtReader {
 public:
  AdtReader(const Hl7Message& msg, const FacilityConfig& facility)
      : msg_(msg), facility_(facility) {}

  // An optional timestamp; nullopt-like via `found`. InvalidArgument if present and malformed.
  absl::Status OptionalTime(std::string_view segment, int field, absl::Time* out,
                            bool* found) const {
    const std::string value = msg_.Get(segment, field, 1);
    *found = !value.empty();
    if (!*found) return absl::OkStatus();
    absl::StatusOr<absl::Time> t = ParseHl7Timestamp(value, facility_.time_zone);
    if (!t.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Sv(segment), "-", field, ": not an HL7 timestamp"));
    }
    *out = *t;
    return absl::OkStatus();
  }

  // The first of the given timestamps that is present.
  absl::StatusOr<absl::Time> FirstTime(
      std::initializer_list<std::pair<std::string_view, int>> fields) const {
    for (const auto& [segment, field] : fields) {
      absl::Time t;
      bool found;
      RETURN_IF_ERROR(OptionalTime(segment, field, &t, &found));
      if (found) return t;
    }
    return Required(absl::StrCat(Sv(fields.begin()->first), "-", fields.begin()->second));
  }

  absl::Status Patient(v1::PatientRef* out) const {
    const Hl7Segment* pid = msg_.Find("PID");
    if (pid == nullptr) return Required("PID");
    for (int rep = 0; rep < pid->RepetitionCount(3); ++rep) {
      const std::string value = pid->Get(3, 1, 1, rep);
      if (value.empty()) continue;
      const std::string authority_ns = pid->Get(3, 4, 1, rep);
      const std::string authority_oid = pid->Get(3, 4, 2, rep);
      auto matches = [&](const std::vector<std::string>& authorities) {
        for (const std::string& a : authorities) {
          if (a == authority_ns || a == authority_oid) return true;
        }
        return false;
      };
      v1::PatientIdentifierKind kind = v1::PATIENT_IDENTIFIER_KIND_UNSPECIFIED;
      if (matches(facility_.personnummer_authorities)) {
        kind = v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER;
      } else if (matches(facility_.samordningsnummer_authorities)) {
        kind = v1::PATIENT_IDENTIFIER_KIND_SAMORDNINGSNUMMER;
      }
      if (kind == v1::PATIENT_IDENTIFIER_KIND_UNSPECIFIED) continue;
      out->mutable_identifier()->set_kind(kind);
      out->mutable_identifier()->set_value(value);
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(
        "PID-3: no repetition from the facility's personnummer or samordningsnummer authority");
  }

  absl::Status Stay(v1::HospitalStay* stay) const {
    const Hl7Segment* pv1 = msg_.Find("PV1");
    if (pv1 == nullptr) return Required("PV1");
    stay->set_visit_number(pv1->Get(19, 1));
    if (stay->visit_number().empty()) return Required("PV1-19");
    std::string assigner = pv1->Get(19, 4, 1);
    if (assigner.empty()) assigner = pv1->Get(19, 4, 2);
    stay->set_visit_number_assigner(assigner);
    const std::string code = pv1->Get(2, 1);
    stay->set_patient_class_code(code);
    v1::PatientClass cls = v1::PATIENT_CLASS_OTHER;
    if (code.empty()) cls = v1::PATIENT_CLASS_UNSPECIFIED;
    if (code == "I") cls = v1::PATIENT_CLASS_INPATIENT;
    if (code == "O") cls = v1::PATIENT_CLASS_OUTPATIENT;
    if (code == "E") cls = v1::PATIENT_CLASS_EMERGENCY;
    if (code == "P") cls = v1::PATIENT_CLASS_PREADMIT;
    if (code == "R") cls = v1::PATIENT_CLASS_RECURRING;
    stay->set_patient_class(cls);
    return absl::OkStatus();
  }

  // A PL field (PV1-3, PV1-6): point of care ^ room ^ bed ^ facility ... ^ description (PL-9).
  bool Location(std::string_view segment, int field, v1::CareLocation* out) const {
    const Hl7Segment* s = msg_.Find(segment);
    if (s == nullptr || s->RawField(field).empty()) return false;
    out->set_point_of_care(s->Get(field, 1));
    out->set_room(s->Get(field, 2));
    out->set_bed(s->Get(field, 3));
    out->set_facility(s->Get(field, 4));
    out->set_unit_name(s->Get(field, 9));
    // A facility given as namespace^HSA-id (HD) names the unit by HSA-id in its second part.
    out->set_unit_hsa_id(s->Get(field, 4, 2));
    return true;
  }

  // An XCN (PV1-7, PV1-17, EVN-5): id ^ family ^ given.
  bool Person(std::string_view segment, int field, v1::Actor* out) const {
    const Hl7Segment* s = msg_.Find(segment);
    if (s == nullptr || s->RawField(field).empty()) return false;
    out->set_hsa_id(s->Get(field, 1));
    std::string name = s->Get(field, 3);
    const std::string family = s->Get(field, 2);
    if (!family.empty()) name = name.empty() ? family : absl::StrCat(name, " ", family);
    out->set_name(name);
    return true;
  }

  std::string Get(std::string_view segment, int field, int comp = 1, int sub = 1,
                  int rep = 0) const {
    return msg_.Get(segment, field, comp, sub, rep);
  }
  const Hl7Message& msg() const { return msg_; }

 private:
  const Hl7Message& msg_;
  const FacilityConfig& facility_;
};

// PV1-2 O (outpatient) or R (recurring patient): a visit without a bed. E (emergency) is not
// among them: some EHRs keep E on an inpatient stay that began in the emergency department.
bool OutpatientVisit(const AdtReader& r) {
  const std::string patient_class = r.Get("PV1", 2);
  return patient_class == "O" || patient_class == "R";
}

absl::Status MapAdmission(const AdtReader& r, v1::CommandRequest* c) {
  v1::InpatientAdmitted* a = c->mutable_inpatient_admitted();
  RETURN_IF_ERROR(r.Stay(a->mutable_stay()));
  r.Location("PV1", 3, a->mutable_location());
  ASSIGN_OR_RETURN(absl::Time admitted, r.FirstTime({{"PV1", 44}, {"EVN", 6}, {"MSH", 7}}));
  SetTime(admitted, a->mutable_admitted_at());
  SetTime(admitted, c->mutable_occurred_at());
  absl::Time expected;
  bool found;
  RETURN_IF_ERROR(r.OptionalTime("PV2", 9, &expected, &found));
  if (found) SetTime(expected, a->mutable_expected_discharge_at());
  if (!r.Person("PV1", 17, a->mutable_attending_physician())) {
    r.Person("PV1", 7, a->mutable_attending_physician());
  }
  a->set_admission_type(r.Get("PV1", 4));
  return absl::OkStatus();
}

absl::Status MapTransfer(const AdtReader& r, bool cancel, v1::CommandRequest* c) {
  v1::InpatientTransferred* t = c->mutable_inpatient_transferred();
  RETURN_IF_ERROR(r.Stay(t->mutable_stay()));
  // A02: PV1-6 prior -> PV1-3 new. A12: PV1-3 is where the patient was before the cancelled
  // transfer and PV1-6 the cancelled destination, so the compensating move is PV1-6 -> PV1-3.
  if (!r.Location("PV1", 3, t->mutable_to_location())) return Required("PV1-3");
  if (!r.Location("PV1", 6, t->mutable_from_location()) && cancel) return Required("PV1-6");
  ASSIGN_OR_RETURN(absl::Time at, r.FirstTime({{"EVN", 6}, {"MSH", 7}}));
  SetTime(at, t->mutable_transferred_at());
  SetTime(at, c->mutable_occurred_at());
  return absl::OkStatus();
}

absl::Status MapDischarge(const AdtReader& r, bool class_change, v1::CommandRequest* c) {
  v1::InpatientDischarged* d = c->mutable_inpatient_discharged();
  RETURN_IF_ERROR(r.Stay(d->mutable_stay()));
  r.Location("PV1", 3, d->mutable_location());
  absl::Time admitted;
  bool found;
  RETURN_IF_ERROR(r.OptionalTime("PV1", 44, &admitted, &found));
  if (found) SetTime(admitted, d->mutable_admitted_at());
  ASSIGN_OR_RETURN(absl::Time discharged, r.FirstTime({{"PV1", 45}, {"EVN", 6}, {"MSH", 7}}));
  SetTime(discharged, d->mutable_discharged_at());
  SetTime(discharged, c->mutable_occurred_at());
  if (const std::string code = r.Get("PV1", 36); !code.empty()) {
    d->mutable_disposition()->set_system("http://terminology.hl7.org/CodeSystem/v2-0112");
    d->mutable_disposition()->set_code(code);
  } else if (class_change) {
    // A07: the patient stays in care as an outpatient; the inpatient stay ends here.
    d->mutable_disposition()->set_system("http://terminology.hl7.org/CodeSystem/v2-0003");
    d->mutable_disposition()->set_code("A07");
    d->mutable_disposition()->set_display("Change an inpatient to an outpatient");
  }
  d->set_discharged_to_code(r.Get("PV1", 37));
  if (!d->discharged_to_code().empty()) {
    d->mutable_discharged_to()->set_name(r.Get("PV1", 37, 2));
  }
  return absl::OkStatus();
}

absl::Status MapCancel(const AdtReader& r, bool discharge, v1::CommandRequest* c) {
  ASSIGN_OR_RETURN(absl::Time at, r.FirstTime({{"EVN", 6}, {"MSH", 7}}));
  SetTime(at, c->mutable_occurred_at());
  const std::string reason = r.Get("EVN", 4);
  if (discharge) {
    v1::DischargeCancelled* d = c->mutable_discharge_cancelled();
    RETURN_IF_ERROR(r.Stay(d->mutable_stay()));
    r.Location("PV1", 3, d->mutable_location());
    d->set_reason(reason);
  } else {
    v1::AdmissionCancelled* a = c->mutable_admission_cancelled();
    RETURN_IF_ERROR(r.Stay(a->mutable_stay()));
    a->set_reason(reason);
  }
  return absl::OkStatus();
}

absl::Status MapPendingDischarge(const AdtReader& r, v1::CommandRequest* c) {
  v1::ExpectedDischargeChanged* e = c->mutable_expected_discharge_changed();
  RETURN_IF_ERROR(r.Stay(e->mutable_stay()));
  ASSIGN_OR_RETURN(absl::Time expected, r.FirstTime({{"PV2", 9}, {"EVN", 3}}));
  SetTime(expected, e->mutable_expected_discharge_at());
  ASSIGN_OR_RETURN(absl::Time at, r.FirstTime({{"EVN", 6}, {"MSH", 7}}));
  SetTime(at, c->mutable_occurred_at());
  e->set_reason("pending discharge (A16)");
  return absl::OkStatus();
}

absl::Status MapDemographics(const AdtReader& r, v1::CommandRequest* c) {
  v1::DemographicsUpdated* d = c->mutable_demographics_updated();
  ASSIGN_OR_RETURN(absl::Time at, r.FirstTime({{"EVN", 6}, {"MSH", 7}}));
  SetTime(at, c->mutable_occurred_at());
  const Hl7Segment* pid = r.msg().Find("PID");
  d->set_family_name(pid->Get(5, 1, 1));
  for (int comp : {2, 3}) {  // given name, then second and further given names
    if (std::string given = pid->Get(5, comp); !given.empty()) {
      d->add_given_names(std::move(given));
    }
  }
  if (!pid->RawField(11).empty()) {
    for (int comp : {1, 2}) {
      if (std::string line = pid->Get(11, comp); !line.empty()) {
        d->add_address_lines(std::move(line));
      }
    }
    d->set_city(pid->Get(11, 3));
    d->set_postal_code(pid->Get(11, 5));
    d->set_municipality_code(pid->Get(11, 9));
  }
  for (int rep = 0; rep < pid->RepetitionCount(13); ++rep) {
    std::string phone = pid->Get(13, 1, 1, rep);
    if (phone.empty()) phone = pid->Get(13, 12, 1, rep);  // XTN-12 unformatted number
    if (!phone.empty()) d->add_phone_numbers(std::move(phone));
  }
  d->set_preferred_language(pid->Get(15, 1));
  if (r.Get("PID", 30) == "Y") {
    absl::Time died;
    bool found;
    RETURN_IF_ERROR(r.OptionalTime("PID", 29, &died, &found));
    if (found) SetTime(died, d->mutable_deceased_at());
  }
  d->set_protected_identity(r.Get("PD1", 12) == "Y");
  return absl::OkStatus();
}

}  // namespace

std::string SourceSystem(const MessageHeader& header) {
  return absl::StrCat(header.sending_application, "^", header.sending_facility);
}

Hl7Error RejectionError(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kUnimplemented) {
    return absl::StartsWith(status.message(), "MSH-9.1") ? kUnsupportedMessageType
                                                         : kUnsupportedEventCode;
  }
  if (absl::EndsWith(status.message(), ": required")) return kRequiredFieldMissing;
  if (absl::StartsWith(status.message(), "segment")) return kSegmentSequenceError;
  return kDataTypeError;
}

absl::StatusOr<v1::CommandRequest> MapAdt(const Hl7Message& message,
                                          const FacilityConfig& facility) {
  const AdtReader r(message, facility);
  const std::string type = r.Get("MSH", 9, 1);
  if (type.empty()) return Required("MSH-9");
  if (type != "ADT") return absl::UnimplementedError("MSH-9.1: only ADT messages are accepted");
  const std::string trigger = r.Get("MSH", 9, 2);
  const std::string control_id = r.Get("MSH", 10);
  if (control_id.empty()) return Required("MSH-10");
  if (control_id.size() > 64) return absl::InvalidArgumentError("MSH-10: longer than 64 bytes");
  const MessageHeader header = MessageHeader::FromRaw(message.text());
  if (header.sending_application.empty() && header.sending_facility.empty()) {
    return Required("MSH-3");
  }

  v1::CommandRequest c;
  c.set_command_id(control_id);
  c.set_source_message_id(control_id);
  c.mutable_source()->set_system(SourceSystem(header));
  c.mutable_source()->set_organisation_hsa_id(facility.organisation_hsa_id);
  r.Person("EVN", 5, c.mutable_source()->mutable_author());
  c.mutable_data_owner()->set_kind(v1::DATA_OWNER_KIND_REGION);
  c.mutable_data_owner()->set_organisation_hsa_id(facility.owner_hsa_id);
  RETURN_IF_ERROR(r.Patient(c.mutable_patient()));

  absl::Status status;
  if (OutpatientVisit(r) && (trigger == "A02" || trigger == "A03" || trigger == "A11" ||
                             trigger == "A12" || trigger == "A13" || trigger == "A16")) {
    // A visit of an outpatient is no hospital stay in the hub (A04 registers the patient only,
    // and A07 ended the inpatient stay the visit continues): the patient is what it updates.
    // Mapped as a stay event, the care service would answer NOT_FOUND or FAILED_PRECONDITION
    // and the EHR would resend the message forever (AE) for something that is no error.
    status = MapDemographics(r, &c);
  } else if (trigger == "A01" || trigger == "A06") {
    status = MapAdmission(r, &c);
  } else if (trigger == "A02" || trigger == "A12") {
    status = MapTransfer(r, trigger == "A12", &c);
  } else if (trigger == "A03" || trigger == "A07") {
    status = MapDischarge(r, trigger == "A07", &c);
  } else if (trigger == "A11" || trigger == "A13") {
    status = MapCancel(r, trigger == "A13", &c);
  } else if (trigger == "A16") {
    status = MapPendingDischarge(r, &c);
  } else if (trigger == "A08" || trigger == "A04" || trigger == "A05") {
    status = MapDemographics(r, &c);
  } else {
    return absl::UnimplementedError("MSH-9.2: this ADT trigger event is not supported");
  }
  if (!status.ok()) return status;
  return c;
}

}  // namespace carehub::hl7v2
