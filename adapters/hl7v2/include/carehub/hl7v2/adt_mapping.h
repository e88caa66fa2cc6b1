// The translation of one HL7 v2 ADT message into one care-service command.
//
//   ASSIGN_OR_RETURN(care::v1::CommandRequest command, MapAdt(message, facility_config));
//   stub->Execute(&context, command, &response);
//
// Triggers and what they become (every command's idempotency key is (MSH-3^MSH-4, MSH-10)):
//   A01 admit, A06 outpatient -> inpatient      InpatientAdmitted (PV1-44, else EVN-6, MSH-7)
//   A02 transfer                                InpatientTransferred PV1-6 -> PV1-3
//   A12 cancel transfer                         InpatientTransferred back: PV1-6 (the location
//                                               being cancelled) -> PV1-3 (the one before it); a
//                                               compensating move, the history keeps both
//   A03 discharge, A07 inpatient -> outpatient  InpatientDischarged (PV1-45, else EVN-6, MSH-7);
//                                               for A07 the disposition says why the stay ended
//   A11 cancel admit                            AdmissionCancelled (compensating)
//   A13 cancel discharge                        DischargeCancelled (compensating)
//   A16 pending discharge                       ExpectedDischargeChanged (PV2-9, else EVN-3)
//   A08 update, A04 register, A05 pre-admit     DemographicsUpdated: the Patient only, never a
//                                               care plan, team or encounter (an outpatient
//                                               visit or a planned admission is not a stay yet)
//   A02, A03, A11, A12, A13, A16 of an          DemographicsUpdated: the visit is no stay of
//   outpatient visit (PV1-2 O or R)             the hub's (e.g. the A03 that ends the
//                                               outpatient visit an A07 began)
// Why A04, A05 and A07 are mapped so: the hub's care events know one kind of visit, the inpatient
// stay (vårdtillfälle i slutenvård) that Lag (2017:612) is about; admitting it pauses the home
// activities and starts the discharge deadlines. An A04 emergency or outpatient registration and
// an A05 pre-admission are not such a stay (HL7 v2: "not assigned to a bed", "in preparation for
// a visit"), so they must not open one; an A07 ("an inpatient becomes an outpatient") is the end
// of the inpatient stay for the municipality and the deadlines, although the patient is still at
// the hospital as an outpatient.
// The patient is the PID-3 repetition whose assigning authority (CX-4.1 or CX-4.2) the facility
// configures for personnummer or samordningsnummer, wherever it stands among the repetitions.
// Timestamps without an offset are in the facility's time zone.
//
// Errors (the listener answers them with AR: resending the same message cannot help):
//   Unimplemented    MSH-9 is not ADT (message starts "MSH-9.1") or the trigger is not one above
//   InvalidArgument  a required field is missing (message ends ": required") or malformed
// Messages name the field, never its value.
//
// Thread-safety: pure function.
#ifndef CAREHUB_HL7V2_ADT_MAPPING_H_
#define CAREHUB_HL7V2_ADT_MAPPING_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "carehub/care/v1/care_service.pb.h"
#include "carehub/hl7v2/ack.h"
#include "carehub/hl7v2/facility_config.h"
#include "carehub/hl7v2/message.h"

namespace carehub::hl7v2 {

absl::StatusOr<care::v1::CommandRequest> MapAdt(const Hl7Message& message,
                                                const FacilityConfig& facility);

// The source system of a message: "MSH-3.1^MSH-4.1" (the idempotency scope of MSH-10).
std::string SourceSystem(const MessageHeader& header);

// The HL7 table 0357 code for a MapAdt or Hl7Message::Parse error.
Hl7Error RejectionError(const absl::Status& status);

}  // namespace carehub::hl7v2

#endif  // CAREHUB_HL7V2_ADT_MAPPING_H_
