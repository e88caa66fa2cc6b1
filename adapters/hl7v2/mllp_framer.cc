#include "carehub/hl7v2/mllp_framer.h"

#include <algorithm>
#include <utility>

namespace carehub::hl7v2 {

MllpFramer::MllpFramer(MllpFramerOptions options) : options_(options) {
  options_.max_prefix_bytes = std::min(options_.max_prefix_bytes, options_.max_message_bytes);
}

std::string MllpFramer::Frame(std::string_view message) {
  std::string framed;
  framed.reserve(message.size() + 3);
  framed.push_back(kMllpStart);
  framed.append(message);
  framed.push_back(kMllpEnd);
  framed.push_back(kMllpCr);
  return framed;
}

void MllpFramer::EndFrame(std::vector<MllpFrame>* frames) {
  MllpFrame frame;
  frame.size = size_;
  if (state_ == State::kSkipping) {
    frame.kind = MllpFrame::Kind::kOversized;
  } else if (size_ == 0) {
    frame.kind = MllpFrame::Kind::kEmpty;
  }
  frame.payload = std::move(buffer_);
  buffer_.clear();
  size_ = 0;
  frames->push_back(std::move(frame));
  state_ = State::kAfterEnd;
}

void MllpFramer::Feed(std::string_view bytes, std::vector<MllpFrame>* frames) {
  size_t i = 0;
  while (i < bytes.size()) {
    switch (state_) {
      case State::kAfterEnd:
        state_ = State::kIdle;
        if (bytes[i] == kMllpCr) ++i;  // the expected CR; its absence is tolerated
        break;
      case State::kIdle: {
        const size_t start = bytes.find(kMllpStart, i);
        if (start == std::string_view::npos) {
          stray_bytes_ += bytes.size() - i;
          return;
        }
        stray_bytes_ += start - i;
        i = start + 1;
        state_ = State::kInFrame;
        break;
      }
      case State::kInFrame:
      case State::kSkipping: {
        // Copy up to the next control byte in one go: this loop runs per chunk, not per byte.
        size_t end = i;
        while (end < bytes.size() && bytes[end] != kMllpEnd && bytes[end] != kMllpStart) ++end;
        const size_t n = end - i;
        if (state_ == State::kInFrame && size_ + n > options_.max_message_bytes) {
          state_ = State::kSkipping;
          if (buffer_.size() > options_.max_prefix_bytes) {
            buffer_.resize(options_.max_prefix_bytes);
            buffer_.shrink_to_fit();
          }
        }
        if (state_ == State::kInFrame) {
          buffer_.append(bytes.substr(i, n));
        } else if (buffer_.size() < options_.max_prefix_bytes) {
          buffer_.append(bytes.substr(i, std::min(n, options_.max_prefix_bytes - buffer_.size())));
        }
        size_ += n;
        i = end;
        if (i == bytes.size()) return;
        if (bytes[i] == kMllpEnd) {
          ++i;
          EndFrame(frames);
        } else {  // a new start byte: the sender gave up on this frame
          ++i;
          ++abandoned_frames_;
          buffer_.clear();
          size_ = 0;
          state_ = State::kInFrame;
        }
        break;
      }
    }
  }
}

}  // namespace carehub::hl7v2
