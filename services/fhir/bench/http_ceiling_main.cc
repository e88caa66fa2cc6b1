// carehub-http-ceiling: HttpServer answering every request with a fixed FHIR JSON body of a
// given size, with the headers a read carries (ETag, Last-Modified). Nothing else: no read
// model, no routing. What the FHIR API's read throughput is measured against.
//
//   carehub-http-ceiling --http_address=127.0.0.1:0 --http_port_file=/tmp/p --body_bytes=1500
#include <csignal>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/log.h"
#include "carehub/services/http_server.h"

ABSL_FLAG(std::string, http_address, "127.0.0.1:0", "host:port to listen on.");
ABSL_FLAG(std::string, http_port_file, "", "Where to write the bound port.");
ABSL_FLAG(int, threads, 2, "Server threads.");
ABSL_FLAG(int, body_bytes, 1500, "Size of the response body.");
ABSL_FLAG(bool, access_log, true, "Log one http.access line per request, as the API does.");

namespace {

class FixedBodyHandler : public carehub::services::HttpHandler {
 public:
  explicit FixedBodyHandler(size_t bytes) {
    body_ = R"({"resourceType":"Basic","id":"ceiling","text":")";
    body_.append(bytes > body_.size() + 2 ? bytes - body_.size() - 2 : 0, 'x');
    body_.append("\"}");
  }
  void Handle(const carehub::services::HttpRequest&,
              carehub::services::HttpResponse* response) override {
    response->content_type = "application/fhir+json;charset=utf-8";
    response->body = body_;
    response->headers.emplace_back("ETag", "W/\"1\"");
    response->headers.emplace_back("Last-Modified", "Sun, 01 Mar 2026 02:10:00 GMT");
  }

 private:
  std::string body_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the server's threads start

  FixedBodyHandler handler(static_cast<size_t>(absl::GetFlag(FLAGS_body_bytes)));
  carehub::services::HttpServer server(&handler, {.address = absl::GetFlag(FLAGS_http_address),
                                                  .threads = absl::GetFlag(FLAGS_threads),
                                                  .access_log = absl::GetFlag(FLAGS_access_log),
                                                  .name = "ceiling"});
  absl::StatusOr<int> port = server.Start();
  if (!port.ok()) {
    LOG_ERROR("ceiling.failed").Kv("message", port.status().message());
    return 1;
  }
  if (!absl::GetFlag(FLAGS_http_port_file).empty()) {
    std::ofstream(absl::GetFlag(FLAGS_http_port_file)) << *port << "\n";
  }
  int signal = 0;
  sigwait(&signals, &signal);
  server.Stop(absl::Seconds(1));
  return 0;
}
