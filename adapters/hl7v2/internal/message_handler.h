// MessageHandler: one MLLP frame in, one ACK out. Parses, maps to a care command, calls the care
// service, keeps rejected messages in the dead-letter store, and builds the ACK:
//   AA  the care service answered OK (its append is durable; a replay is answered the same);
//   AR  the frame is empty, oversized, unparseable, not a supported ADT trigger, from an
//       unconfigured facility, or the care service found a field malformed (INVALID_ARGUMENT);
//   AE  the care service answered anything else (NOT_FOUND, FAILED_PRECONDITION, UNAVAILABLE,
//       a deadline), or the dead-letter store could not keep the message.
// Every AR and AE is in the dead-letter store before its ACK is handed back.
//
// Thread-safe. `done` runs exactly once, on the calling thread (for rejections) or a gRPC thread.
#ifndef CAREHUB_ADAPTERS_HL7V2_INTERNAL_MESSAGE_HANDLER_H_
#define CAREHUB_ADAPTERS_HL7V2_INTERNAL_MESSAGE_HANDLER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/care/v1/care_service.grpc.pb.h"
#include "carehub/hl7v2/ack.h"
#include "carehub/hl7v2/dead_letter_store.h"
#include "carehub/hl7v2/facility_config.h"
#include "carehub/hl7v2/mllp_framer.h"

namespace carehub::hl7v2::internal {

class MessageHandler {
 public:
  // Nothing is owned but the stub; all must outlive the handler.
  MessageHandler(std::unique_ptr<care::v1::CareService::StubInterface> stub,
                 const FacilityDirectory* facilities, DeadLetterStore* dead_letters,
                 const Clock* clock, absl::Duration care_timeout);

  void Handle(MllpFrame frame, std::string peer, std::function<void(std::string ack)> done);

  // Blocks until no care-service call is in flight.
  void WaitIdle();

 private:
  struct Call;
  void Reject(const MllpFrame& frame, const MessageHeader& header, const std::string& peer,
              AckCode code, const Hl7Error& error, std::string reason,
              const std::function<void(std::string)>& done);
  void Finish(Call* call, const grpc::Status& status);
  std::string NextAckId();

  const std::unique_ptr<care::v1::CareService::StubInterface> stub_;
  const FacilityDirectory* const facilities_;
  DeadLetterStore* const dead_letters_;
  const Clock* const clock_;
  const absl::Duration care_timeout_;
  const std::string ack_prefix_;
  std::atomic<uint64_t> ack_sequence_{0};

  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace carehub::hl7v2::internal

#endif  // CAREHUB_ADAPTERS_HL7V2_INTERNAL_MESSAGE_HANDLER_H_
