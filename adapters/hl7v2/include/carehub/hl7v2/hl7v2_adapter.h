// Hl7v2Adapter: the hospital EHR's way in. An MLLP listener (TCP, Boost.Asio) that answers every
// HL7 v2 ADT message with an ACK after turning it into a command of the care service
// (carehub.care.v1.CareService), reached over gRPC.
//
//   ASSIGN_OR_RETURN(FacilityDirectory facilities, FacilityDirectory::Load(path));
//   ASSIGN_OR_RETURN(std::unique_ptr<Hl7v2Adapter> adapter,
//                    Hl7v2Adapter::Create(care_channel,
//                                         {.mllp_address = "127.0.0.1:2575",
//                                          .data_dir = "./var/carehub",
//                                          .facilities = std::move(facilities)}));
//   ASSIGN_OR_RETURN(int port, adapter->Start());
//   ...
//   adapter->Stop();  // also done by the destructor
//
// `care_channel` is any channel to a CareService: grpc::CreateChannel to a remote carehub-care
// or carehubd (the daemon carehub-hl7v2), or the in-process channel of the gRPC server that
// serves CareService (inside carehubd). The channel is the one place the adapter meets gRPC.
//
// Semantics (see message_handler.h and adt_mapping.h for the details):
//   - AA only after the care service answered OK, which it does after the events are durable;
//     a resent message (same MSH-10 from the same MSH-3/MSH-4) is answered AA from the original
//     result and appends nothing;
//   - AR for an empty, oversized, malformed or unsupported message (do not resend);
//   - AE for a processing error (unknown patient or stay, illegal transition, the care service
//     unavailable): the sender may resend;
//   - every AR/AE message is first kept in <data_dir>/hl7v2/dead-letters (DeadLetterStore).
// Messages on one connection are handled one at a time, in order (MLLP has no pipelining);
// connections are independent, so N senders keep N commands in flight and the event log's group
// commit batches their fsyncs. A connection closed mid-frame loses only that unacknowledged frame.
//
// Thread-safety: Start and Stop from one thread; the listener runs on its own threads.
#ifndef CAREHUB_HL7V2_HL7V2_ADAPTER_H_
#define CAREHUB_HL7V2_HL7V2_ADAPTER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/hl7v2/facility_config.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace carehub::hl7v2 {

struct Hl7v2AdapterOptions {
  // host:port to listen on; port 0 picks a free port (Start returns it).
  std::string mllp_address = "127.0.0.1:2575";
  // The hub's data directory; dead letters go to <data_dir>/hl7v2/dead-letters. Required.
  std::string data_dir;
  FacilityDirectory facilities;
  // Longest message accepted (bytes, without MLLP framing); longer ones get AR.
  size_t max_message_bytes = 4 << 20;
  // Threads running the listener's I/O (parsing and mapping run on them too).
  int io_threads = 2;
  // Connections beyond this are closed at once.
  int max_connections = 256;
  // How long one care-service call may take before the message gets AE.
  absl::Duration care_timeout = absl::Seconds(10);
  // For ACK and dead-letter times. Not owned; nullptr: the real clock.
  const Clock* clock = nullptr;
};

class Hl7v2Adapter {
 public:
  // InvalidArgument for bad options (no data_dir, no facility, a malformed address); Internal
  // if the dead-letter directory cannot be created. Listens only after Start.
  static absl::StatusOr<std::unique_ptr<Hl7v2Adapter>> Create(
      std::shared_ptr<grpc::Channel> care_channel, Hl7v2AdapterOptions options);
  virtual ~Hl7v2Adapter() = default;

  // Binds and starts accepting; returns the bound port. Unavailable if the address is taken.
  virtual absl::StatusOr<int> Start() = 0;
  // Stops accepting, closes every connection, waits for care-service calls in flight (each is
  // bounded by care_timeout) and joins the threads. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace carehub::hl7v2

#endif  // CAREHUB_HL7V2_HL7V2_ADAPTER_H_
