#include "carehub/care/hub_key.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace carehub::care {
namespace {

absl::Status Errno(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::StatusOr<std::string> ReadKey(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  std::string key(kHubKeyBytes + 1, '\0');
  const ssize_t n = ::read(fd, key.data(), key.size());
  ::close(fd);
  if (n < 0) return Errno("cannot read", path);
  if (static_cast<size_t>(n) != kHubKeyBytes) {
    return absl::DataLossError(absl::StrCat("hub key ", path, " does not hold ", kHubKeyBytes,
                                            " bytes"));
  }
  key.resize(kHubKeyBytes);
  return key;
}

}  // namespace

absl::StatusOr<std::string> LoadOrCreateHubKey(const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0) return ReadKey(path);
  std::string key(kHubKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    return absl::UnavailableError("no randomness for the hub key");
  }
  // Write a temporary file, sync it, then link it into place: link() fails if another process
  // created the key first, and then theirs is the key.
  const std::string temp = absl::StrCat(path, ".tmp.", ::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", temp);
  const bool written = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) {
    ::unlink(temp.c_str());
    return Errno("cannot write", temp);
  }
  const int linked = ::link(temp.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(temp.c_str());
  if (linked != 0) {
    if (link_errno == EEXIST) return ReadKey(path);
    errno = link_errno;
    return Errno("cannot create", path);
  }
  return key;
}

}  // namespace carehub::care
