// The MLLP listener on Boost.Asio: one strand per connection, reads fed to an MllpFramer, frames
// handed one at a time to the MessageHandler, ACKs written back in order.
#include "carehub/hl7v2/hl7v2_adapter.h"

#include <grpcpp/channel.h>

#include <array>
#include <boost/asio.hpp>
#include <deque>
#include <filesystem>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "adapters/hl7v2/internal/message_handler.h"
#include "carehub/base/log.h"
#include "carehub/base/status_macros.h"
#include "carehub/hl7v2/dead_letter_store.h"
#include "carehub/hl7v2/mllp_framer.h"

namespace carehub::hl7v2 {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr size_t kReadChunk = 64 << 10;

class Session;

// Connections by id, so that Stop can close them; each session removes itself when it ends.
class SessionRegistry {
 public:
  bool Add(uint64_t id, std::weak_ptr<Session> s, int limit) {
    absl::MutexLock lock(&mu_);
    if (static_cast<int>(sessions_.size()) >= limit) return false;
    sessions_.emplace(id, std::move(s));
    return true;
  }
  void Remove(uint64_t id) {
    absl::MutexLock lock(&mu_);
    sessions_.erase(id);
  }
  std::vector<std::shared_ptr<Session>> All() {
    absl::MutexLock lock(&mu_);
    std::vector<std::shared_ptr<Session>> all;
    for (auto& [id, weak] : sessions_) {
      if (auto s = weak.lock()) all.push_back(std::move(s));
    }
    return all;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::weak_ptr<Session>> sessions_ ABSL_GUARDED_BY(mu_);
};

// One MLLP connection. Every member is touched only on the strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, uint64_t id, size_t max_message_bytes,
          internal::MessageHandler* handler, SessionRegistry* registry)
      : socket_(std::move(socket)),
        id_(id),
        framer_({.max_message_bytes = max_message_bytes}),
        handler_(handler),
        registry_(registry) {
    boost::system::error_code ignored;
    const tcp::endpoint remote = socket_.remote_endpoint(ignored);
    peer_ = absl::StrCat(remote.address().to_string(), ":", remote.port());
    socket_.set_option(tcp::no_delay(true), ignored);
  }

  void Start() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  void Close() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->Shutdown(); });
  }

 private:
  void Read() {
    if (closed_) return;
    reading_ = true;
    socket_.async_read_some(
        asio::buffer(buffer_), [self = shared_from_this()](const boost::system::error_code& ec,
                                                           size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(const boost::system::error_code& ec, size_t n) {
    reading_ = false;
    if (ec) {
      if (framer_.pending()) {
        // The frame was never acknowledged, so the sender still holds it.
        LOG_WARNING("hl7v2.closed_mid_frame").Kv("peer", peer_);
      }
      Shutdown();
      return;
    }
    std::vector<MllpFrame> frames;
    framer_.Feed(std::string_view(buffer_.data(), n), &frames);
    for (MllpFrame& f : frames) pending_.push_back(std::move(f));
    Next();
    // Read on only when nothing waits: a sender that pipelines cannot make us buffer more than
    // one read's worth of frames.
    if (pending_.empty() && !reading_) Read();
  }

  void Next() {
    if (busy_ || pending_.empty() || closed_) return;
    busy_ = true;
    MllpFrame frame = std::move(pending_.front());
    pending_.pop_front();
    handler_->Handle(std::move(frame), peer_, [self = shared_from_this()](std::string ack) {
      asio::post(self->socket_.get_executor(),
                 [self, ack = std::move(ack)]() mutable { self->WriteAck(std::move(ack)); });
    });
  }

  void WriteAck(std::string ack) {
    if (closed_) return;
    out_ = MllpFramer::Frame(ack);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                        self->busy_ = false;
                        if (ec) return self->Shutdown();
                        self->Next();
                        if (self->pending_.empty() && !self->reading_) self->Read();
                      });
  }

  void Shutdown() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    registry_->Remove(id_);
  }

  tcp::socket socket_;
  const uint64_t id_;
  std::string peer_;
  MllpFramer framer_;
  internal::MessageHandler* const handler_;
  SessionRegistry* const registry_;
  std::array<char, kReadChunk> buffer_;
  std::deque<MllpFrame> pending_;
  std::string out_;
  bool busy_ = false;
  bool reading_ = false;
  bool closed_ = false;
};

class AsioHl7v2Adapter final : public Hl7v2Adapter {
 public:
  AsioHl7v2Adapter(Hl7v2AdapterOptions options, std::unique_ptr<DeadLetterStore> dead_letters,
                   std::shared_ptr<grpc::Channel> channel, tcp::endpoint endpoint)
      : options_(std::move(options)),
        dead_letters_(std::move(dead_letters)),
        handler_(care::v1::CareService::NewStub(channel), &options_.facilities,
                 dead_letters_.get(), options_.clock, options_.care_timeout),
        endpoint_(endpoint),
        acceptor_(asio::make_strand(io_)) {}

  ~AsioHl7v2Adapter() override { Stop(); }

  absl::StatusOr<int> Start() override {
    boost::system::error_code ec;
    acceptor_.open(endpoint_.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint_, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options_.mllp_address, ": ", ec.message()));
    }
    const int port = acceptor_.local_endpoint().port();
    Accept();
    for (int i = 0; i < options_.io_threads; ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
    started_ = true;
    LOG_INFO("hl7v2.listening").Kv("address", endpoint_.address().to_string()).Kv("port", port);
    return port;
  }

  void Stop() override {
    if (!started_ || stopped_) return;
    stopped_ = true;
    asio::post(acceptor_.get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    });
    for (const std::shared_ptr<Session>& s : registry_.All()) s->Close();
    handler_.WaitIdle();
    work_.reset();
    io_.stop();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    // A frame read just before its connection closed may have started a call after the first
    // wait; with the threads joined no more can start, so this wait is the last.
    handler_.WaitIdle();
    LOG_INFO("hl7v2.stopped");
  }

 private:
  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](const boost::system::error_code& ec,
                                                          tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        const uint64_t id = ++next_session_id_;
        auto session = std::make_shared<Session>(std::move(socket), id,
                                                 options_.max_message_bytes, &handler_,
                                                 &registry_);
        if (registry_.Add(id, session, options_.max_connections)) {
          session->Start();
        } else {
          LOG_WARNING("hl7v2.too_many_connections").Kv("limit", options_.max_connections);
          session->Close();
        }
      }
      Accept();
    });
  }

  Hl7v2AdapterOptions options_;
  std::unique_ptr<DeadLetterStore> dead_letters_;
  internal::MessageHandler handler_;
  const tcp::endpoint endpoint_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  tcp::acceptor acceptor_;
  SessionRegistry registry_;
  uint64_t next_session_id_ = 0;  // only on the acceptor's strand
  std::vector<std::thread> threads_;
  bool started_ = false;
  bool stopped_ = false;
};

absl::StatusOr<tcp::endpoint> ParseEndpoint(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("mllp_address: expected host:port"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const asio::ip::address ip = asio::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError("mllp_address: host must be an IP address");
  return tcp::endpoint(ip, static_cast<unsigned short>(port));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Hl7v2Adapter>> Hl7v2Adapter::Create(
    std::shared_ptr<grpc::Channel> care_channel, Hl7v2AdapterOptions options) {
  if (care_channel == nullptr) return absl::InvalidArgumentError("care channel: required");
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir: required");
  if (options.facilities.size() == 0) {
    return absl::InvalidArgumentError("facilities: at least one facility is required");
  }
  if (options.io_threads < 1) return absl::InvalidArgumentError("io_threads: at least 1");
  if (options.clock == nullptr) options.clock = Clock::Real();
  ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseEndpoint(options.mllp_address));
  ASSIGN_OR_RETURN(std::unique_ptr<DeadLetterStore> dead_letters,
                   DeadLetterStore::Open(
                       (std::filesystem::path(options.data_dir) / "hl7v2" / "dead-letters").string(),
                       options.clock));
  return std::unique_ptr<Hl7v2Adapter>(new AsioHl7v2Adapter(
      std::move(options), std::move(dead_letters), std::move(care_channel), endpoint));
}

}  // namespace carehub::hl7v2
