// On Debian 12, Abseil is built without std::string_view aliasing, so absl::string_view is a
// type of its own. carehub APIs take std::string_view; convert at calls into Abseil with Sv().
//
//   absl::StrCat("stream ", Sv(stream_id), " has no events")
#ifndef CAREHUB_BASE_STRINGS_H_
#define CAREHUB_BASE_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace carehub {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace carehub

#endif  // CAREHUB_BASE_STRINGS_H_
