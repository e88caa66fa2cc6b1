#include "carehub/base/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "carehub/base/strings.h"

namespace carehub::log {
namespace {

Level LevelFromEnvironment() {
  const char* env = std::getenv("CAREHUB_LOG_LEVEL");
  if (env == nullptr) return Level::kInfo;
  std::string value = absl::AsciiStrToLower(env);
  if (value == "debug") return Level::kDebug;
  if (value == "warning" || value == "warn") return Level::kWarning;
  if (value == "error") return Level::kError;
  return Level::kInfo;
}

std::atomic<Level>& MinLevelRef() {
  static std::atomic<Level> level{LevelFromEnvironment()};
  return level;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarning: return "warning";
    case Level::kError: return "error";
  }
  return "info";
}

// Values with spaces, quotes or '=' are quoted so that each line stays machine-parseable.
bool NeedsQuoting(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t' || c == '\\') return true;
  }
  return false;
}

}  // namespace

void SetMinLevel(Level level) { MinLevelRef().store(level); }
Level MinLevel() { return MinLevelRef().load(); }

Record::Record(Level level, std::string_view event) : enabled_(level >= MinLevel()) {
  if (!enabled_) return;
  line_ = absl::StrCat("ts=", absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone()),
                       " level=", Sv(LevelName(level)), " event=", Sv(event));
}

void Record::AppendKv(std::string_view key, std::string_view value) {
  absl::StrAppend(&line_, " ", Sv(key), "=");
  if (!NeedsQuoting(value)) {
    line_.append(value);
    return;
  }
  line_.push_back('"');
  for (char c : value) {
    switch (c) {
      case '"': line_.append("\\\""); break;
      case '\\': line_.append("\\\\"); break;
      case '\n': line_.append("\\n"); break;
      case '\t': line_.append("\\t"); break;
      default: line_.push_back(c);
    }
  }
  line_.push_back('"');
}

Record::~Record() {
  if (!enabled_) return;
  line_.push_back('\n');
  // One write per record keeps lines from interleaving between threads.
  ssize_t ignored = ::write(STDERR_FILENO, line_.data(), line_.size());
  (void)ignored;
}

}  // namespace carehub::log
