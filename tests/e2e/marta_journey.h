// Märta's journey (DOMAIN.md, "Scenarios to test against") as the source systems' commands to a
// running care service over gRPC: primary care enrols her and agrees a SIP plan with the
// municipality; she is admitted at night (A01), the admission notice goes out, she is transferred
// (A02), declared ready for discharge, invited to SIP, discharged (A03) with information the same
// day, and the SIP meeting is held. Times are Swedish local time in November 2026.
//
//   MartaJourney marta(&care);
//   uint64_t agreed = marta.EnrolAndAgreePlan();   // the log position of its last event
//
// Each step reports a rejected command as a test failure and returns the position of the last
// event appended so far, so that a test can wait for the projection of exactly that much.
//
// Thread-compatible.
#ifndef CAREHUB_TESTS_E2E_MARTA_JOURNEY_H_
#define CAREHUB_TESTS_E2E_MARTA_JOURNEY_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "carehub/care/v1/care_service.pb.h"
#include "tests/e2e/hub_processes.h"

namespace carehub::e2e {

inline constexpr char kVardcentral[] = "SE2321000131-E000000000001";  // Vårdcentralen Bäckby
inline constexpr char kHospital[] = "SE2321000131-E000000000010";     // the hospital
inline constexpr char kKommunHsl[] = "SE2120000829-E000000000002";    // hemsjukvård
inline constexpr char kKommunSol[] = "SE2120000829-E000000000003";    // hemtjänst
inline constexpr char kFastVardkontakt[] = "SE2321000131-P000000000013";
inline constexpr char kVisit[] = "VT-1001";
// A payment-responsibility agreement: 3 calendar days after ready-for-discharge.
inline constexpr char kPaymentAgreement[] =
    "test-region-agreement 2026-1 2026-01-01 3 calendar 12 9135.00\n";

class MartaJourney {
 public:
  explicit MartaJourney(CareClient* care);

  const std::string& personnummer() const { return personnummer_; }

  // 2 November: enrolment ("mest sjuka"), SIP consent, fast vårdkontakt, a nurse (kommun HSL) and
  // a needs assessor (kommun SoL) on the team, two goals, three activities (medication review by
  // the region; weekly home nursing, HSL; home help morning and evening, SoL), the plan agreed
  // with primary care holding the overall responsibility, the activities started.
  uint64_t EnrolAndAgreePlan();
  // Monday 16 November 02:30 admitted (A01); 08:00 her needs after discharge assessed.
  uint64_t AdmitAtNight();
  // 10:00 admission notice sent and acknowledged; 14:00 transferred (A02) to the geriatric ward;
  // Tuesday 17 November 11:00 ready for discharge.
  uint64_t NoticeTransferAndReady();
  // Wednesday 18 November 10:00 invited to SIP; Thursday 19 13:00 discharged home (A03), 16:00
  // discharge information; Friday 20 10:00 the SIP meeting held.
  uint64_t InviteDischargeAndMeet();

  static absl::Time Admitted() { return Stockholm(2026, 11, 16, 2, 30); }
  static absl::Time NeedsAssessed() { return Stockholm(2026, 11, 16, 8); }
  static absl::Time NoticeSent() { return Stockholm(2026, 11, 16, 10); }
  static absl::Time Transferred() { return Stockholm(2026, 11, 16, 14); }
  static absl::Time ReadyForDischarge() { return Stockholm(2026, 11, 17, 11); }
  static absl::Time SipInvited() { return Stockholm(2026, 11, 18, 10); }
  static absl::Time Discharged() { return Stockholm(2026, 11, 19, 13); }
  static absl::Time InformationSent() { return Stockholm(2026, 11, 19, 16); }
  static absl::Time SipHeld() { return Stockholm(2026, 11, 20, 10); }

 private:
  care::v1::CommandRequest Command(const std::string& id, const std::string& system,
                                   care::v1::DataOwnerKind owner, const std::string& hsa,
                                   absl::Time at);
  care::v1::CommandRequest Primary(const std::string& id, absl::Time at);
  care::v1::CommandRequest Hospital(const std::string& id, absl::Time at);
  void Execute(const care::v1::CommandRequest& command);

  CareClient* care_;
  std::string personnummer_;
  std::string patient_id_;
  uint64_t last_position_ = 0;
};

}  // namespace carehub::e2e

#endif  // CAREHUB_TESTS_E2E_MARTA_JOURNEY_H_
