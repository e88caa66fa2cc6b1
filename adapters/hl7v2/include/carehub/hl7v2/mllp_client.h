// MllpClient: a blocking MLLP sender, one message at a time, for the dead-letter CLI's re-submit,
// the tests and the benchmark.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<MllpClient> c, MllpClient::Connect("127.0.0.1:2575"));
//   ASSIGN_OR_RETURN(std::string ack, c->Send(message, absl::Seconds(30)));
//   RETURN_IF_ERROR(c->SendRaw(bytes));          // any bytes, e.g. a frame in pieces
//   ASSIGN_OR_RETURN(std::string ack, c->ReadAck(absl::Seconds(30)));
//
// Errors: Unavailable if the connection fails or closes; DeadlineExceeded if no ACK arrives in
// time; InvalidArgument for a malformed address.
// Thread-compatible: one thread per client.
#ifndef CAREHUB_HL7V2_MLLP_CLIENT_H_
#define CAREHUB_HL7V2_MLLP_CLIENT_H_

#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/hl7v2/mllp_framer.h"

namespace carehub::hl7v2 {

class MllpClient {
 public:
  // `address` is host:port with an IPv4 host (or "localhost").
  static absl::StatusOr<std::unique_ptr<MllpClient>> Connect(const std::string& address);
  ~MllpClient();

  // Frames `message`, sends it and waits for the next frame back (the ACK, unframed).
  absl::StatusOr<std::string> Send(std::string_view message, absl::Duration timeout);
  absl::Status SendRaw(std::string_view bytes);
  absl::StatusOr<std::string> ReadAck(absl::Duration timeout);
  // Half-closes or closes the connection.
  void Close();

 private:
  explicit MllpClient(int fd) : fd_(fd) {}
  int fd_;
  MllpFramer framer_;
  std::deque<MllpFrame> frames_;
};

}  // namespace carehub::hl7v2

#endif  // CAREHUB_HL7V2_MLLP_CLIENT_H_
