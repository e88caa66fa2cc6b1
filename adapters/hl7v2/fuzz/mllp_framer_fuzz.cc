// libFuzzer target: the MLLP framer. Feeds the input in chunks whose sizes come from the input
// itself, and checks that framing does not depend on how reads split the stream and that no
// kept payload exceeds the limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "carehub/hl7v2/mllp_framer.h"

using carehub::hl7v2::MllpFrame;
using carehub::hl7v2::MllpFramer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 17;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  const carehub::hl7v2::MllpFramerOptions options{.max_message_bytes = 64,
                                                  .max_prefix_bytes = 16};
  MllpFramer whole(options), chunked(options);
  std::vector<MllpFrame> a, b;
  whole.Feed(stream, &a);
  for (size_t i = 0; i < stream.size(); i += step) chunked.Feed(stream.substr(i, step), &b);
  if (a.size() != b.size()) std::abort();
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].kind != b[i].kind || a[i].payload != b[i].payload || a[i].size != b[i].size) {
      std::abort();
    }
    if (a[i].payload.size() > options.max_message_bytes) std::abort();
    if (a[i].kind == MllpFrame::Kind::kOversized && a[i].payload.size() > 16) std::abort();
  }
  if (whole.pending() != chunked.pending()) std::abort();
  return 0;
}
