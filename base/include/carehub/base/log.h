// A small structured logging facade: one line per record, `key=value` pairs, to stderr.
//
//   LOG_INFO("eventstore.open").Kv("path", dir).Kv("head", head);
//   LOG_ERROR("append.failed").Kv("code", status.code()).Kv("stream", stream_id);
//
// Never log a personnummer, a name or a resource body: log internal ids, counts and codes only.
// Thread-safe: each record is written with a single write(2).
#ifndef CAREHUB_BASE_LOG_H_
#define CAREHUB_BASE_LOG_H_

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace carehub::log {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Records below `level` are dropped. Default kInfo; CAREHUB_LOG_LEVEL=debug|info|warning|error
// in the environment overrides it at start-up.
void SetMinLevel(Level level);
Level MinLevel();

// One log record; written when it goes out of scope.
class Record {
 public:
  Record(Level level, std::string_view event);
  Record(const Record&) = delete;
  Record& operator=(const Record&) = delete;
  ~Record();

  template <typename T>
  Record& Kv(std::string_view key, const T& value) {
    if (enabled_) AppendKv(key, absl::StrCat(value));
    return *this;
  }
  Record& Kv(std::string_view key, std::string_view value) {
    if (enabled_) AppendKv(key, value);
    return *this;
  }
  Record& Kv(std::string_view key, const std::string& value) {
    return Kv(key, std::string_view(value));
  }
  Record& Kv(std::string_view key, const char* value) { return Kv(key, std::string_view(value)); }

 private:
  void AppendKv(std::string_view key, std::string_view value);

  bool enabled_;
  std::string line_;
};

}  // namespace carehub::log

#define LOG_DEBUG(event) ::carehub::log::Record(::carehub::log::Level::kDebug, event)
#define LOG_INFO(event) ::carehub::log::Record(::carehub::log::Level::kInfo, event)
#define LOG_WARNING(event) ::carehub::log::Record(::carehub::log::Level::kWarning, event)
#define LOG_ERROR(event) ::carehub::log::Record(::carehub::log::Level::kError, event)

#endif  // CAREHUB_BASE_LOG_H_
