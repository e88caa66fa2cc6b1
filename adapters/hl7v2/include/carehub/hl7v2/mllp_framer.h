// MllpFramer: cuts a TCP byte stream into MLLP frames (0x0B message 0x1C 0x0D).
//
//   MllpFramer framer({.max_message_bytes = 1 << 20});
//   std::vector<MllpFrame> frames;
//   framer.Feed(bytes_from_socket, &frames);  // zero, one or several complete frames
//   for (MllpFrame& f : frames) { ... f.kind, f.payload ... }
//
// What real senders do, and what the framer does about it:
//   - a frame split over several reads, or several frames in one read: bytes are buffered until
//     the end byte 0x1C;
//   - stray bytes before 0x0B (keep-alives, a half-sent frame after a reconnect): skipped and
//     counted in stray_bytes();
//   - a missing 0x0D after 0x1C: the frame ends at 0x1C, so a sender that omits the CR and then
//     waits for its ACK is answered at once; a 0x0D that does follow is swallowed;
//   - 0x0B inside a frame: the sender restarted; the partial frame is dropped (counted in
//     abandoned_frames()) and a new one begins;
//   - an empty frame (0x0B 0x1C): reported as kEmpty so the listener can answer it;
//   - a message longer than max_message_bytes: only the first max_prefix_bytes are kept (enough
//     to read MSH for the ACK), the rest is skipped up to 0x1C, and the frame is reported as
//     kOversized. Memory stays bounded by max_message_bytes whatever the sender does.
// Bytes buffered when the connection closes are a frame never acknowledged: pending() says so.
//
// Not thread-safe: one framer per connection.
#ifndef CAREHUB_HL7V2_MLLP_FRAMER_H_
#define CAREHUB_HL7V2_MLLP_FRAMER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace carehub::hl7v2 {

inline constexpr char kMllpStart = 0x0B;
inline constexpr char kMllpEnd = 0x1C;
inline constexpr char kMllpCr = 0x0D;

struct MllpFrame {
  enum class Kind { kMessage, kEmpty, kOversized };
  Kind kind = Kind::kMessage;
  // The message (kMessage), nothing (kEmpty) or its first max_prefix_bytes (kOversized).
  std::string payload;
  // The message's full length in bytes (for kOversized: as far as it was counted).
  uint64_t size = 0;
};

struct MllpFramerOptions {
  // Longest message accepted, in bytes, without the framing bytes.
  size_t max_message_bytes = 4 << 20;
  // How much of an oversized message is kept, for the ACK and the dead letter.
  size_t max_prefix_bytes = 64 << 10;
};

class MllpFramer {
 public:
  explicit MllpFramer(MllpFramerOptions options = {});

  // Consumes `bytes`; appends every frame that ends within them to `frames`.
  void Feed(std::string_view bytes, std::vector<MllpFrame>* frames);

  // True if a frame has started and not ended (a close now loses it).
  bool pending() const { return state_ == State::kInFrame || state_ == State::kSkipping; }
  uint64_t stray_bytes() const { return stray_bytes_; }
  uint64_t abandoned_frames() const { return abandoned_frames_; }

  // Wraps a message in MLLP framing.
  static std::string Frame(std::string_view message);

 private:
  enum class State { kIdle, kInFrame, kSkipping, kAfterEnd };

  void EndFrame(std::vector<MllpFrame>* frames);

  MllpFramerOptions options_;
  State state_ = State::kIdle;
  std::string buffer_;
  uint64_t size_ = 0;
  uint64_t stray_bytes_ = 0;
  uint64_t abandoned_frames_ = 0;
};

}  // namespace carehub::hl7v2

#endif  // CAREHUB_HL7V2_MLLP_FRAMER_H_
