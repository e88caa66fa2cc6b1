#include "eventstore/internal/zero_filled_wal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "carehub/base/log.h"
#include "rocksdb/file_system.h"

namespace carehub::eventstore::internal {
namespace {

// Zeros are written once fewer than kLowWater bytes of them are left ahead of the log, up to
// kAhead bytes past its end: about 1 MiB at a time, whose write-back the next sync may wait for
// (once per MiB of log, not once per append).
constexpr uint64_t kLowWater = uint64_t{1} << 20;
constexpr uint64_t kAhead = uint64_t{2} << 20;
constexpr size_t kZeroBufferBytes = size_t{1} << 20;

class ZeroFilledWal : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  ZeroFilledWal(std::unique_ptr<rocksdb::FSWritableFile> file, int fd)
      : FSWritableFileOwnerWrapper(std::move(file)), fd_(fd) {}

  ~ZeroFilledWal() override { TrimAndClose(); }

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = FSWritableFileOwnerWrapper::Append(data, options, dbg);
    if (s.ok()) Appended(data.size());
    return s;
  }

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& verification,
                           rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = FSWritableFileOwnerWrapper::Append(data, options, verification, dbg);
    if (s.ok()) Appended(data.size());
    return s;
  }

  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = FSWritableFileOwnerWrapper::Truncate(size, options, dbg);
    // Whatever the outcome, zeros past `size` are no longer certain to be there.
    appended_ = size;
    zeroed_ = std::min(zeroed_, size);
    return s;
  }

  rocksdb::IOStatus Close(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = FSWritableFileOwnerWrapper::Close(options, dbg);
    TrimAndClose();
    return s;
  }

 private:
  void Appended(size_t bytes) {
    appended_ += bytes;
    if (fd_ < 0 || zeroed_ >= appended_ + kLowWater) return;
    // Never below what was appended: that is the log.
    const uint64_t from = std::max(zeroed_, appended_);
    const uint64_t to = appended_ + kAhead;
    static const std::string* const kZeros = new std::string(kZeroBufferBytes, '\0');
    for (uint64_t at = from; at < to;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(to - at, kZeros->size()));
      const ssize_t written = ::pwrite(fd_, kZeros->data(), n, static_cast<off_t>(at));
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        LOG_WARNING("eventstore.wal_zero_fill_failed").Kv("error", std::strerror(errno));
        TrimAndClose();  // the rest of this log grows as RocksDB writes it
        return;
      }
      at += static_cast<uint64_t>(written);
      zeroed_ = at;
    }
    // Start writing the zeros now, so that the syncs of the appends that follow find little of
    // them still to write.
    ::sync_file_range(fd_, static_cast<off_t>(from), static_cast<off_t>(to - from),
                       SYNC_FILE_RANGE_WRITE);
  }

  // Cuts the zeros past the log (a log closed cleanly ends where its records end) and stops
  // zero-filling.
  void TrimAndClose() {
    if (fd_ < 0) return;
    if (zeroed_ > appended_) {
      // Best effort: a zero tail left behind reads as the log's end.
      (void)::ftruncate(fd_, static_cast<off_t>(appended_));
    }
    ::close(fd_);
    fd_ = -1;
  }

  int fd_;  // a second descriptor of the log, for the zeros; -1 once closed
  uint64_t appended_ = 0;  // the log's size as RocksDB wrote it
  uint64_t zeroed_ = 0;    // the file holds zeros (or the log) below this offset
};

class ZeroFilledWalFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit ZeroFilledWalFileSystem(std::shared_ptr<rocksdb::FileSystem> base)
      : FileSystemWrapper(std::move(base)) {}

  const char* Name() const override { return "carehub.ZeroFilledWalFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = FileSystemWrapper::NewWritableFile(name, options, result, dbg);
    if (!s.ok() || !name.ends_with(".log") || (*result)->use_direct_io()) return s;
    const int fd = ::open(name.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return s;  // the log works without zeros ahead
    *result = std::make_unique<ZeroFilledWal>(std::move(*result), fd);
    return s;
  }
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewZeroFilledWalEnv(rocksdb::Env* base) {
  if (base == nullptr) base = rocksdb::Env::Default();
  return rocksdb::NewCompositeEnv(
      std::make_shared<ZeroFilledWalFileSystem>(base->GetFileSystem()));
}

}  // namespace carehub::eventstore::internal
