// The Beast side of HttpServer. One Session per connection, on its own strand, runs the loop
//   read header -> (check bounds, 100 Continue) -> read body -> handler -> write -> repeat
// so pipelined requests are answered in order. The handler may finish asynchronously
// (HandleAsync's `done`); the session reads nothing more until the response is written. Every
// read carries the request timeout; a parse error or an exceeded bound gets one error response
// and the connection is closed, after a short linger that drains what the client still sends.
#include "carehub/services/http_server.h"

#include <algorithm>
#include <cctype>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "carehub/base/log.h"
#include "carehub/base/strings.h"
#include "services/fhir/internal/gzip.h"

namespace carehub::services {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

void HttpHandler::HandleAsync(const HttpRequest& request, HttpResponse* response,
                              std::function<void()> done) {
  try {
    Handle(request, response);
  } catch (const std::exception& e) {
    LOG_ERROR("http.handler.threw").Kv("what", e.what());
    *response = HttpResponse();
    RenderServerError(500, "internal error", response);
  }
  done();
}

void HttpHandler::RenderServerError(int status, std::string_view diagnostic,
                                    HttpResponse* response) {
  response->status = status;
  response->content_type = "text/plain; charset=utf-8";
  response->body = absl::StrCat(Sv(diagnostic), "\n");
}

std::pair<std::string, std::string> RedactTargetForLog(std::string_view target) {
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string redacted_path;
  redacted_path.reserve(path.size());
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    int run = 0, longest = 0;
    for (char c : segment) {
      run = (c >= '0' && c <= '9') ? run + 1 : 0;
      longest = std::max(longest, run);
    }
    // '%' could spell digits in an escape; such a segment is never one of our ids.
    const bool sensitive = longest >= 6 || segment.find('%') != std::string_view::npos;
    redacted_path.append(sensitive ? std::string_view("{redacted}") : segment);
    if (end == path.size()) break;
    redacted_path.push_back('/');
    start = end + 1;
  }
  std::string names;
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    size_t pos = 0;
    while (pos <= query.size()) {
      size_t amp = query.find('&', pos);
      if (amp == std::string_view::npos) amp = query.size();
      std::string_view pair = query.substr(pos, amp - pos);
      std::string_view name = pair.substr(0, pair.find('='));
      if (!name.empty()) {
        if (!names.empty()) names.push_back(',');
        // A name is ours to log only if it is plain: modifiers and chains, not values.
        bool plain = name.size() <= 64 &&
                     std::all_of(name.begin(), name.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                              c == '-' || c == ':' || c == '.' || c == '$';
                     });
        names.append(plain ? name : std::string_view("{redacted}"));
      }
      if (amp == query.size()) break;
      pos = amp + 1;
    }
  }
  return {std::move(redacted_path), std::move(names)};
}

namespace {

// The Date header, formatted once per second per thread.
const std::string& HttpDateNow() {
  thread_local int64_t cached_second = -1;
  thread_local std::string cached;
  const absl::Time now = absl::Now();
  const int64_t second = absl::ToUnixSeconds(now);
  if (second != cached_second) {
    cached = absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", now, absl::UTCTimeZone());
    cached_second = second;
  }
  return cached;
}

class BeastRequest : public HttpRequest {
 public:
  explicit BeastRequest(const http::request<http::string_body>& request) : request_(request) {}
  std::string_view method() const override {
    if (request_.method() == http::verb::head) return "GET";
    auto m = request_.method_string();
    return {m.data(), m.size()};
  }
  std::string_view target() const override {
    auto t = request_.target();
    return {t.data(), t.size()};
  }
  std::string_view header(std::string_view name) const override {
    auto it = request_.find(beast::string_view(name.data(), name.size()));
    if (it == request_.end()) return {};
    auto v = it->value();
    return {v.data(), v.size()};
  }
  std::string_view body() const override { return request_.body(); }

 private:
  const http::request<http::string_body>& request_;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpHandler* handler, HttpServerOptions options)
      : handler_(handler), options_(std::move(options)) {}

  absl::StatusOr<int> Start();
  void Stop(absl::Duration grace);

  HttpHandler* const handler_;
  const HttpServerOptions options_;
  std::atomic<size_t> connections_{0};
  std::atomic<bool> stopping_{false};
  absl::Mutex mu_;
  size_t requests_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  // Handlers called whose `done` has not run yet; their `done` posts into the io_context, so
  // Stop() keeps it alive until this is zero.
  size_t handlers_running_ ABSL_GUARDED_BY(mu_) = 0;
  int port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
  // Declared last so that they are destroyed first, while what sessions refer to still exists.
  std::vector<std::thread> threads_;
  std::unique_ptr<asio::io_context> ioc_;
  std::unique_ptr<tcp::acceptor> acceptor_;

 private:
  void Accept();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {}

  ~Session() { server_->connections_.fetch_sub(1); }

  void Begin() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::ReadHeader, shared_from_this()));
  }

 private:
  const HttpServerOptions& options() const { return server_->options_; }

  void ReadHeader() {
    parser_.emplace();
    // The request line counts toward Beast's header limit, so it gets room for both bounds;
    // which one was exceeded is told apart afterwards.
    parser_->header_limit(
        static_cast<uint32_t>(options().max_target_bytes + options().max_header_bytes + 64));
    parser_->body_limit(options().max_body_bytes);
    stream_.expires_after(std::chrono::microseconds(
        absl::ToInt64Microseconds(options().request_timeout)));
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    started_ = absl::Now();
    if (ec) return OnReadError(ec);
    const auto& request = parser_->get();
    if (request.target().size() > options().max_target_bytes) {
      return WriteServerError(414, absl::StrCat("the request-target is longer than ",
                                                options().max_target_bytes, " bytes"));
    }
    size_t header_bytes = 0;
    for (const auto& field : request) header_bytes += field.name_string().size() + field.value().size() + 4;
    if (header_bytes > options().max_header_bytes) {
      return WriteServerError(431, absl::StrCat("the header fields are larger than ",
                                                options().max_header_bytes, " bytes"));
    }
    auto expect = request.find(http::field::expect);
    if (expect != request.end() && beast::iequals(expect->value(), "100-continue")) {
      continue_.emplace(http::status::continue_, request.version());
      return http::async_write(stream_, *continue_,
                               beast::bind_front_handler(&Session::ReadBody, shared_from_this()));
    }
    ReadBody({}, 0);
  }

  void ReadBody(beast::error_code ec, size_t) {
    if (ec) return Close();
    if (parser_->is_done()) return OnRequest({}, 0);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRequest, shared_from_this()));
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return Close();
    }
    if (ec == http::error::header_limit) {
      // No line end within the target bound: the request line itself is too long.
      std::string_view head(static_cast<const char*>(buffer_.data().data()), buffer_.size());
      const size_t line_end = head.find("\r\n");
      if (line_end == std::string_view::npos || line_end > options().max_target_bytes + 16) {
        return WriteServerError(414, absl::StrCat("the request-target is longer than ",
                                                  options().max_target_bytes, " bytes"));
      }
      return WriteServerError(431, absl::StrCat("the header fields are larger than ",
                                                options().max_header_bytes, " bytes"));
    }
    if (ec == http::error::body_limit) {
      return WriteServerError(413, absl::StrCat("the request body is larger than ",
                                                options().max_body_bytes, " bytes"));
    }
    WriteServerError(400, absl::StrCat("malformed HTTP request: ", ec.message()));
  }

  void OnRequest(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    ++requests_;
    {
      absl::MutexLock lock(&server_->mu_);
      ++server_->requests_in_flight_;
      ++server_->handlers_running_;
    }
    request_view_.emplace(parser_->get());
    handler_response_ = HttpResponse();
    handler_state_.store(kHandling);
    auto done_once = std::make_shared<std::atomic<bool>>(false);
    std::function<void()> done = [self = shared_from_this(), done_once]() mutable {
      if (done_once->exchange(true)) return;  // a broken handler calling twice
      std::shared_ptr<Session> session = std::move(self);
      Session* s = session.get();
      HttpServer::Impl* server = s->server_;  // the session may be gone once posted
      int handling = kHandling;
      if (!s->handler_state_.compare_exchange_strong(handling, kDoneInHandler)) {
        // HandleAsync has returned: continue on the session's strand. The posted handler takes
        // the only reference this callback holds, so nothing of the session outlives the
        // io_context through it.
        asio::post(s->stream_.get_executor(),
                   [session = std::move(session)] { session->OnHandled(); });
      }
      absl::MutexLock lock(&server->mu_);
      --server->handlers_running_;
    };
    try {
      server_->handler_->HandleAsync(*request_view_, &handler_response_, done);
    } catch (const std::exception& e) {
      // The handler promises not to throw; should it, the client still gets an answer.
      LOG_ERROR("http.handler.threw").Kv("what", e.what());
      if (!done_once->load()) {
        handler_response_ = HttpResponse();
        server_->handler_->RenderServerError(500, "internal error", &handler_response_);
        done();
      }
    }
    int handling = kHandling;
    if (!handler_state_.compare_exchange_strong(handling, kReturned)) OnHandled();
  }

  // The handler has completed the response: write it.
  void OnHandled() {
    const http::request<http::string_body>& request = parser_->get();
    request_view_.reset();
    HttpResponse response = std::move(handler_response_);
    const bool keep_alive = request.keep_alive() && !server_->stopping_.load() &&
                            requests_ < options().max_requests_per_connection;
    auto accept_encoding = request[http::field::accept_encoding];
    const bool gzip = response.compressible && response.body.size() >= options().gzip_min_bytes &&
                      http_internal::AcceptsGzip({accept_encoding.data(), accept_encoding.size()});
    Respond(std::move(response), request.version(), keep_alive,
            request.method() == http::verb::head, gzip,
            {request.method_string().data(), request.method_string().size()},
            {request.target().data(), request.target().size()});
    {
      absl::MutexLock lock(&server_->mu_);
      --server_->requests_in_flight_;
    }
  }

  void WriteServerError(int status, std::string_view diagnostic) {
    HttpResponse response;
    server_->handler_->RenderServerError(status, diagnostic, &response);
    const auto& request = parser_->get();
    std::string target(request.target().substr(0, options().max_target_bytes));
    Respond(std::move(response), 11, false, false, false,
            {request.method_string().data(), request.method_string().size()}, target);
  }

  void Respond(HttpResponse response, unsigned version, bool keep_alive, bool head, bool gzip,
               std::string_view method, std::string_view target) {
    response_.emplace();
    http::response<http::string_body>& res = *response_;
    res.result(static_cast<unsigned>(response.status));
    res.version(version);
    res.set(http::field::date, HttpDateNow());
    if (!response.content_type.empty()) res.set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) res.set(name, value);
    if (gzip) {
      absl::StatusOr<std::string> zipped = http_internal::Gzip(response.body);
      if (zipped.ok()) {
        response.body = *std::move(zipped);
        res.set(http::field::content_encoding, "gzip");
      }
    }
    if (response.compressible && response.body.size() >= options().gzip_min_bytes) {
      res.set(http::field::vary, "Accept, Accept-Encoding");
    }
    const size_t body_bytes = response.body.size();
    res.keep_alive(keep_alive);
    if (head) {
      res.content_length(body_bytes);  // what a GET would carry; no body follows
    } else {
      res.body() = std::move(response.body);
      res.prepare_payload();
    }
    if (options().access_log && log::MinLevel() <= log::Level::kInfo) {
      auto [path, params] = RedactTargetForLog(target);
      LOG_INFO("http.access")
          .Kv("server", options().name)
          .Kv("method", method)
          .Kv("path", path)
          .Kv("params", params)
          .Kv("status", response.status)
          .Kv("bytes", body_bytes)
          .Kv("us", absl::ToInt64Microseconds(absl::Now() - started_));
    }
    http::async_write(stream_, res,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this(), keep_alive));
  }

  void OnWrite(bool keep_alive, beast::error_code ec, size_t) {
    response_.reset();
    if (ec) return Close();
    if (!keep_alive) return CloseLingering();
    ReadHeader();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  // After the last response: stop sending, then read and drop what the client still sends
  // before closing. A socket closed with unread input sends a reset, which can destroy the
  // response before the client reads it: a client still writing an oversized body would see a
  // broken pipe instead of the 413. Bounded in time and bytes, as a client may never stop.
  void CloseLingering() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    buffer_.clear();
    Drain({}, 0);
  }
  void Drain(beast::error_code ec, size_t bytes) {
    drained_ += bytes;
    if (ec || drained_ > kLingerBytes) return stream_.close();
    stream_.async_read_some(buffer_.prepare(16 << 10),
                            beast::bind_front_handler(&Session::Drain, shared_from_this()));
  }
  static constexpr std::chrono::seconds kLingerTime{2};
  static constexpr size_t kLingerBytes = 4u << 20;

  beast::tcp_stream stream_;
  HttpServer::Impl* const server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<http::response<http::string_body>> response_;
  // The request being handled and the response its handler fills, until the handler is done.
  std::optional<BeastRequest> request_view_;
  HttpResponse handler_response_;
  // Whether the handler's `done` came before HandleAsync returned (then OnRequest continues
  // at once) or after (then `done` posts the continuation onto the strand).
  static constexpr int kHandling = 0, kDoneInHandler = 1, kReturned = 2;
  std::atomic<int> handler_state_{kReturned};
  size_t requests_ = 0;
  size_t drained_ = 0;  // bytes dropped while lingering
  absl::Time started_;
};

}  // namespace

absl::StatusOr<int> HttpServer::Impl::Start() {
  if (started_) return absl::FailedPreconditionError("the HTTP server was started before");
  const std::string& address = options_.address;
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("not a host:port address: ", address));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  beast::error_code ec;
  const asio::ip::address ip = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("not an IP address: ", host));

  ioc_ = std::make_unique<asio::io_context>(options_.threads);
  acceptor_ = std::make_unique<tcp::acceptor>(asio::make_strand(*ioc_));
  const tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address, ": ", ec.message()));
  }
  port_ = acceptor_->local_endpoint().port();
  started_ = true;
  Accept();
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] { ioc_->run(); });
  }
  LOG_INFO("http.listening").Kv("server", options_.name).Kv("port", port_)
      .Kv("threads", options_.threads);
  return port_;
}

void HttpServer::Impl::Accept() {
  acceptor_->async_accept(asio::make_strand(*ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
    if (!ec) {
      if (connections_.fetch_add(1) >= options_.max_connections) {
        connections_.fetch_sub(1);
        LOG_WARNING("http.connection.refused").Kv("server", options_.name)
            .Kv("max_connections", options_.max_connections);
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Session>(std::move(socket), this)->Begin();
      }
    }
    Accept();
  });
}

void HttpServer::Impl::Stop(absl::Duration grace) {
  if (!started_ || stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  asio::post(acceptor_->get_executor(), [this] {
    beast::error_code ignored;
    acceptor_->close(ignored);
  });
  {
    absl::MutexLock lock(&mu_);
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return requests_in_flight_ == 0; };
    mu_.AwaitWithTimeout(absl::Condition(&idle), grace);
  }
  ioc_->stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  {
    // A handler still working will call `done`, which posts into the io_context (a stopped one
    // only queues the continuation; it is destroyed with the context below).
    absl::MutexLock lock(&mu_);
    auto finished = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return handlers_running_ == 0; };
    mu_.Await(absl::Condition(&finished));
  }
  // Sessions still waiting for a request are destroyed with the io_context's pending handlers,
  // which closes their sockets.
  acceptor_.reset();
  ioc_.reset();
  LOG_INFO("http.stopped").Kv("server", options_.name);
}

HttpServer::HttpServer(HttpHandler* handler, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(handler, std::move(options))) {}

HttpServer::~HttpServer() { Stop(absl::ZeroDuration()); }

absl::StatusOr<int> HttpServer::Start() { return impl_->Start(); }

int HttpServer::port() const { return impl_->port_; }

void HttpServer::Stop(absl::Duration grace) { impl_->Stop(grace); }

}  // namespace carehub::services
