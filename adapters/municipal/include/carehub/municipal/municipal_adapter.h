// MunicipalAdapter: the whole municipal adapter in one object — the drop directory and the HTTP
// endpoint, both feeding one Importer that talks gRPC to the care service. The standalone daemon
// (carehub-municipal) and carehubd both run it; only the channel differs.
//
//   MunicipalAdapter adapter(care_channel, {.root = data_dir + "/municipal",
//                                           .http_address = "127.0.0.1:8090",
//                                           .source_system = "lifecare-vasteras"});
//   RETURN_IF_ERROR(adapter.Start());   // creates inbox/ done/ failed/, binds HTTP, polls
//   int port = adapter.http_port();
//   ...
//   adapter.Stop();                     // also done by the destructor
//
// `care_channel` is any channel to carehub.care.v1.CareService: grpc::CreateChannel(address, ...)
// for a remote care service, or the in-process channel of carehubd's gRPC server
// (grpc::Server::InProcessChannel). The adapter keeps it for its lifetime.
//
// Errors: Start() returns InvalidArgument for an empty source_system or root, Internal if the
// directories cannot be created or the time zone cannot be loaded, Unavailable if the HTTP
// address cannot be bound, FailedPrecondition if already started.
//
// Thread-safety: Start and Stop from one thread. Stop() cancels imports in progress: lines not
// yet sent are not-processed, so their files stay in inbox/ and are imported at the next start.
#ifndef CAREHUB_MUNICIPAL_MUNICIPAL_ADAPTER_H_
#define CAREHUB_MUNICIPAL_MUNICIPAL_ADAPTER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/care/national_id.h"
#include "carehub/municipal/importer.h"
#include "grpcpp/channel.h"

namespace carehub::services {
class HttpServer;
}  // namespace carehub::services

namespace carehub::municipal {

class DropDirectory;
class ImportHttpHandler;

struct MunicipalAdapterOptions {
  // Holds inbox/, done/ and failed/; by convention <data_dir>/municipal.
  std::string root;
  // host:port of the HTTP endpoint; port 0 picks a free port; empty: no HTTP endpoint.
  std::string http_address = "127.0.0.1:8090";
  // The municipal system the records come from (source.system), unless a record names one.
  std::string source_system = "municipal";
  // HTTP server threads; each concurrent upload holds one while it is imported.
  int http_threads = 4;
  // Larger bodies get 413.
  size_t max_body_bytes = 64u << 20;
  // Drop directory.
  absl::Duration poll_interval = absl::Seconds(2);
  uint64_t max_file_bytes = 64ull << 20;
  ImporterOptions importer;
  // "Today" for 10-digit personnummer. Not owned; nullptr: the real clock.
  const Clock* clock = nullptr;
  // Accepted patient identifiers (add the region's reservnummer formats).
  care::NationalIdParser parser;
};

class MunicipalAdapter {
 public:
  MunicipalAdapter(std::shared_ptr<grpc::Channel> care_channel, MunicipalAdapterOptions options);
  MunicipalAdapter(const MunicipalAdapter&) = delete;
  MunicipalAdapter& operator=(const MunicipalAdapter&) = delete;
  ~MunicipalAdapter();

  absl::Status Start();
  // The bound HTTP port after Start(); 0 without an HTTP endpoint.
  int http_port() const { return http_port_; }
  // The importer, for callers that import bytes themselves; valid after Start().
  const Importer* importer() const { return importer_.get(); }
  void Stop();

 private:
  std::shared_ptr<grpc::Channel> care_channel_;
  MunicipalAdapterOptions options_;
  std::unique_ptr<Importer> importer_;
  std::unique_ptr<DropDirectory> drop_directory_;
  std::unique_ptr<ImportHttpHandler> http_handler_;
  std::unique_ptr<services::HttpServer> http_server_;
  int http_port_ = 0;
  bool started_ = false;
};

}  // namespace carehub::municipal

#endif  // CAREHUB_MUNICIPAL_MUNICIPAL_ADAPTER_H_
