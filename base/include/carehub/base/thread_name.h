// Names the calling thread, as top -H, perf and /proc/<pid>/task/*/comm show it.
//
//   std::thread writer([this] { NameThisThread("es-writer"); Loop(); });
#ifndef CAREHUB_BASE_THREAD_NAME_H_
#define CAREHUB_BASE_THREAD_NAME_H_

#include <string_view>

namespace carehub {

// Linux keeps 15 bytes of a thread name (and refuses a longer one): a longer `name` is cut.
void NameThisThread(std::string_view name);

}  // namespace carehub

#endif  // CAREHUB_BASE_THREAD_NAME_H_
