// HttpServer: an asynchronous HTTP/1.1 server (Boost.Beast) with keep-alive, run by a small fixed
// pool of threads, that hands each request to an HttpHandler. It owns everything an operator
// expects of an HTTP edge and nothing of FHIR: request size bounds (414 for a long target, 431
// for large header fields, 413 for a large body), a read timeout, a bound on requests per
// connection and on open connections, gzip when the client accepts it, `100 Continue`, HEAD, and
// one access line per request that never carries a query value (a search such as
// `Patient?identifier=...|19121212-1212` is logged as `params=identifier`) nor a path segment
// that looks like a national identifier.
//
//   FhirApi api(...);                       // any HttpHandler
//   HttpServer server(&api, {.address = "127.0.0.1:0", .threads = 2});
//   ASSIGN_OR_RETURN(int port, server.Start());
//   ...
//   server.Stop(absl::Seconds(5));  // also done by the destructor
//
// Errors: Start() returns Unavailable if the address cannot be bound, InvalidArgument if it
// cannot be parsed, FailedPrecondition if already started. A request the server cannot parse gets
// a 400 (and the connection is closed); the handler never sees it.
//
// A handler that must wait for something before the response may go out (the FHIR API waits
// for its access-log entry to be durable) overrides HandleAsync instead of Handle and calls
// `done` when the response is complete, from any thread; the session writes it on its own strand
// and no I/O thread is parked meanwhile:
//
//   void HandleAsync(const HttpRequest& request, HttpResponse* response,
//                    std::function<void()> done) override {
//     Build(request, response);
//     log_->AppendAsync(..., [response, done](auto result) {
//       if (!result.ok()) *response = Unavailable();
//       done();  // the response is written only now
//     });
//   }
//
// Thread-safety: Start and Stop from one thread. The handler is called concurrently from the pool
// threads and must be thread-safe; it runs on the I/O thread, so it must not block for long.
#ifndef CAREHUB_SERVICES_HTTP_SERVER_H_
#define CAREHUB_SERVICES_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace carehub::services {

// One parsed request, valid for the duration of HttpHandler::Handle, or until HandleAsync's
// `done` is called.
class HttpRequest {
 public:
  virtual ~HttpRequest() = default;
  virtual std::string_view method() const = 0;  // "GET"; a HEAD request is handed over as GET
  virtual std::string_view target() const = 0;  // the request-target as sent: "/fhir/Patient?x=1"
  // The value of a header field (case-insensitive name); "" when absent.
  virtual std::string_view header(std::string_view name) const = 0;
  virtual std::string_view body() const = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type/-Length
  // False when the body must not be gzipped (already compressed, or tiny).
  bool compressible = true;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Fills `response`. Called on a pool thread; must not throw.
  virtual void Handle(const HttpRequest& request, HttpResponse* response) = 0;
  // The server calls this one. Fills `response` and then calls `done` exactly once, from any
  // thread, possibly before returning; `request` and `response` stay valid until then, and the
  // response is written only after `done`. Requests of one connection are answered in order: the
  // next pipelined request is read after this one's response. Must not throw, and must call
  // `done` within bounded time: Stop() waits for every started handler to finish. The default
  // calls Handle() and then `done`.
  virtual void HandleAsync(const HttpRequest& request, HttpResponse* response,
                           std::function<void()> done);
  // The body of an error the server produces itself (400, 413, 414, 431), so that a FHIR
  // server can answer with an OperationOutcome. The default is text/plain.
  virtual void RenderServerError(int status, std::string_view diagnostic, HttpResponse* response);
};

struct HttpServerOptions {
  // host:port; port 0 picks a free port (Start() returns it).
  std::string address = "127.0.0.1:8080";
  // Threads that run the I/O and the handler.
  int threads = 2;
  // Bounds on one request. A longer request-target answers 414, larger header fields 431, a
  // larger body 413; each closes the connection.
  size_t max_target_bytes = 8 * 1024;
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  // A connection that does not deliver a complete request within this time is closed; this is
  // also how long an idle keep-alive connection stays open.
  absl::Duration request_timeout = absl::Seconds(30);
  // After this many requests a connection is answered with `Connection: close`.
  size_t max_requests_per_connection = 10000;
  // Connections beyond this many are closed at once.
  size_t max_connections = 1024;
  // Responses smaller than this are not gzipped even when the client accepts gzip.
  size_t gzip_min_bytes = 1024;
  // One `http.access` info line per request.
  bool access_log = true;
  // Names the server in log lines.
  std::string name = "http";
};

class HttpServer {
 public:
  // `handler` is not owned and must outlive the server.
  HttpServer(HttpHandler* handler, HttpServerOptions options);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  // Binds, listens and starts the threads; returns the bound port.
  absl::StatusOr<int> Start();
  int port() const;

  // Stops accepting, lets requests being handled finish for up to `grace`, then closes every
  // connection and joins the threads. Idempotent. A handler that has not called its `done` by
  // then is still waited for (without grace), because `done` reaches into the server.
  void Stop(absl::Duration grace);

  // The Beast side, defined in http_server.cc (public only so that its sessions can name it).
  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The access-log form of a request-target: the path with any segment holding six or more
// consecutive digits (a personnummer, a phone number) replaced by "{redacted}", and the names of
// the query parameters without their values. Exposed for tests.
std::pair<std::string, std::string> RedactTargetForLog(std::string_view target);

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_HTTP_SERVER_H_
