#include "carehub/hl7v2/mllp_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace carehub::hl7v2 {

absl::StatusOr<std::unique_ptr<MllpClient>> MllpClient::Connect(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port <= 0 || port > 65535) {
    return absl::InvalidArgumentError("address: expected host:port");
  }
  std::string host = address.substr(0, colon);
  if (host == "localhost" || host.empty()) host = "127.0.0.1";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError("address: host must be an IPv4 address");
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int e = errno;
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("connect ", address, ": ", std::strerror(e)));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return std::unique_ptr<MllpClient>(new MllpClient(fd));
}

MllpClient::~MllpClient() { Close(); }

void MllpClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

absl::Status MllpClient::SendRaw(std::string_view bytes) {
  if (fd_ < 0) return absl::UnavailableError("closed");
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MllpClient::ReadAck(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::vector<char> buffer(64 << 10);
  while (frames_.empty()) {
    if (fd_ < 0) return absl::UnavailableError("closed");
    const int wait_ms = static_cast<int>(
        std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now())));
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    const int ready = ::poll(&p, 1, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return absl::DeadlineExceededError("no ACK in time");
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError("the connection closed before an ACK");
    std::vector<MllpFrame> frames;
    framer_.Feed(std::string_view(buffer.data(), static_cast<size_t>(n)), &frames);
    for (MllpFrame& f : frames) frames_.push_back(std::move(f));
  }
  std::string ack = std::move(frames_.front().payload);
  frames_.pop_front();
  return ack;
}

absl::StatusOr<std::string> MllpClient::Send(std::string_view message, absl::Duration timeout) {
  if (absl::Status s = SendRaw(MllpFramer::Frame(message)); !s.ok()) return s;
  return ReadAck(timeout);
}

}  // namespace carehub::hl7v2
