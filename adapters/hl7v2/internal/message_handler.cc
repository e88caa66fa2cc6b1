#include "adapters/hl7v2/internal/message_handler.h"

#include <grpcpp/client_context.h>

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "carehub/base/log.h"
#include "carehub/hl7v2/adt_mapping.h"
#include "carehub/hl7v2/message.h"

namespace carehub::hl7v2::internal {

struct MessageHandler::Call {
  grpc::ClientContext context;
  care::v1::CommandRequest request;
  care::v1::CommandResponse response;
  MllpFrame frame;
  MessageHeader header;
  std::string peer;
  std::function<void(std::string)> done;
};

MessageHandler::MessageHandler(std::unique_ptr<care::v1::CareService::StubInterface> stub,
                               const FacilityDirectory* facilities,
                               DeadLetterStore* dead_letters, const Clock* clock,
                               absl::Duration care_timeout)
    : stub_(std::move(stub)),
      facilities_(facilities),
      dead_letters_(dead_letters),
      clock_(clock),
      care_timeout_(care_timeout),
      // ACK control ids: this process's start second, then a counter (MSH-10 allows 20 bytes
      // in v2.5; this stays within it for a thousand years of ACKs).
      ack_prefix_(absl::StrFormat("%x", absl::ToUnixSeconds(clock->Now()))) {}

std::string MessageHandler::NextAckId() {
  return absl::StrCat(ack_prefix_, "-", ack_sequence_.fetch_add(1) + 1);
}

void MessageHandler::Reject(const MllpFrame& frame, const MessageHeader& header,
                            const std::string& peer, AckCode code, const Hl7Error& error,
                            std::string reason, const std::function<void(std::string)>& done) {
  DeadLetter letter{.ack_code = std::string(AckCodeName(code)),
                    .error_code = error.code,
                    .reason = reason,
                    .control_id = header.control_id,
                    .source_system = SourceSystem(header),
                    .message_type = absl::StrCat(header.message_type, "^", header.trigger_event),
                    .peer = peer,
                    .truncated = frame.kind == MllpFrame::Kind::kOversized,
                    .size = frame.size,
                    .message = frame.payload};
  absl::StatusOr<std::string> id = dead_letters_->Put(std::move(letter));
  AckContent content{.code = code, .error = error, .text = std::move(reason)};
  if (!id.ok()) {
    // Not kept, so the sender must keep it: AE asks for a resend.
    LOG_ERROR("hl7v2.dead_letter_failed").Kv("status", id.status().ToString());
    content = {.code = AckCode::kApplicationError,
               .error = kApplicationInternalError,
               .text = "the message could not be stored; resend it"};
  }
  LOG_WARNING("hl7v2.rejected")
      .Kv("ack", AckCodeName(content.code))
      .Kv("error", content.error.code)
      .Kv("control_id", header.control_id)
      .Kv("type", absl::StrCat(header.message_type, "^", header.trigger_event))
      .Kv("facility", header.sending_facility)
      .Kv("dead_letter", id.ok() ? *id : std::string());
  done(BuildAck(header, content, clock_->Now(), NextAckId()));
}

void MessageHandler::Handle(MllpFrame frame, std::string peer,
                            std::function<void(std::string)> done) {
  const MessageHeader header = MessageHeader::FromRaw(frame.payload);
  if (frame.kind == MllpFrame::Kind::kEmpty) {
    return Reject(frame, header, peer, AckCode::kApplicationReject, kSegmentSequenceError,
                  "empty message", done);
  }
  if (frame.kind == MllpFrame::Kind::kOversized) {
    return Reject(frame, header, peer, AckCode::kApplicationReject, kApplicationInternalError,
                  absl::StrCat("message of ", frame.size, " bytes exceeds the limit"), done);
  }
  const FacilityConfig* facility = facilities_->Find(header.sending_facility);
  if (facility == nullptr) {
    return Reject(frame, header, peer, AckCode::kApplicationReject, kUnknownKeyIdentifier,
                  "MSH-4: no configuration for this sending facility", done);
  }
  absl::StatusOr<Hl7Message> message =
      Hl7Message::Parse(frame.payload, {.default_charset = facility->default_charset});
  if (!message.ok()) {
    return Reject(frame, header, peer, AckCode::kApplicationReject,
                  RejectionError(message.status()), std::string(message.status().message()),
                  done);
  }
  absl::StatusOr<care::v1::CommandRequest> command = MapAdt(*message, *facility);
  if (!command.ok()) {
    return Reject(frame, header, peer, AckCode::kApplicationReject,
                  RejectionError(command.status()), std::string(command.status().message()),
                  done);
  }

  auto* call = new Call;
  call->request = *std::move(command);
  call->frame = std::move(frame);
  call->header = header;
  call->peer = std::move(peer);
  call->done = std::move(done);
  // A transport deadline is real time, whatever clock stamps ACKs and dead letters.
  call->context.set_deadline(std::chrono::system_clock::now() +
                             absl::ToChronoNanoseconds(care_timeout_));
  {
    absl::MutexLock lock(&mu_);
    ++in_flight_;
  }
  stub_->async()->Execute(&call->context, &call->request, &call->response,
                          [this, call](grpc::Status status) { Finish(call, status); });
}

void MessageHandler::Finish(Call* call, const grpc::Status& status) {
  std::unique_ptr<Call> owned(call);
  if (status.ok()) {
    LOG_DEBUG("hl7v2.accepted")
        .Kv("control_id", call->header.control_id)
        .Kv("trigger", call->header.trigger_event)
        .Kv("replayed", call->response.replayed());
    call->done(BuildAck(call->header, {}, clock_->Now(), NextAckId()));
  } else {
    AckCode code = AckCode::kApplicationError;
    Hl7Error error = kApplicationInternalError;
    switch (status.error_code()) {
      case grpc::StatusCode::INVALID_ARGUMENT:
        code = AckCode::kApplicationReject;
        error = kDataTypeError;
        break;
      case grpc::StatusCode::NOT_FOUND:
        error = kUnknownKeyIdentifier;
        break;
      case grpc::StatusCode::ALREADY_EXISTS:
        error = kDuplicateKeyIdentifier;
        break;
      default:
        break;
    }
    // The care service's messages name fields and rules, never values.
    Reject(call->frame, call->header, call->peer, code, error,
           absl::StrCat("care service: ", status.error_message()), call->done);
  }
  // The call's callback holds the connection; it must be gone before WaitIdle can return, or
  // the connection's socket would outlive the adapter's io_context.
  owned.reset();
  absl::MutexLock lock(&mu_);
  --in_flight_;
}

void MessageHandler::WaitIdle() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* n) { return *n == 0; }, &in_flight_));
}

}  // namespace carehub::hl7v2::internal
