#include "carehub/municipal/municipal_adapter.h"

#include <utility>

#include "carehub/base/log.h"
#include "carehub/base/status_macros.h"
#include "carehub/municipal/drop_directory.h"
#include "carehub/municipal/import_http.h"
#include "carehub/municipal/record_mapping.h"
#include "carehub/services/http_server.h"

namespace carehub::municipal {

MunicipalAdapter::MunicipalAdapter(std::shared_ptr<grpc::Channel> care_channel,
                                   MunicipalAdapterOptions options)
    : care_channel_(std::move(care_channel)), options_(std::move(options)) {}

MunicipalAdapter::~MunicipalAdapter() { Stop(); }

absl::Status MunicipalAdapter::Start() {
  if (started_) return absl::FailedPreconditionError("the municipal adapter is already started");
  if (options_.root.empty()) return absl::InvalidArgumentError("root: required");
  ASSIGN_OR_RETURN(RecordMapper mapper,
                   RecordMapper::Create({.source_system = options_.source_system,
                                         .clock = options_.clock,
                                         .parser = options_.parser}));
  importer_ = std::make_unique<Importer>(care_channel_, std::move(mapper), options_.importer);
  drop_directory_ = std::make_unique<DropDirectory>(
      importer_.get(), DropDirectoryOptions{.root = options_.root,
                                            .poll_interval = options_.poll_interval,
                                            .max_file_bytes = options_.max_file_bytes});
  if (!options_.http_address.empty()) {
    http_handler_ = std::make_unique<ImportHttpHandler>(importer_.get());
    http_server_ = std::make_unique<services::HttpServer>(
        http_handler_.get(), services::HttpServerOptions{.address = options_.http_address,
                                                         .threads = options_.http_threads,
                                                         .max_body_bytes = options_.max_body_bytes,
                                                         .request_timeout = absl::Minutes(5),
                                                         .name = "municipal-http"});
    ASSIGN_OR_RETURN(http_port_, http_server_->Start());
  }
  if (absl::Status s = drop_directory_->Start(); !s.ok()) {
    if (http_server_) http_server_->Stop(absl::ZeroDuration());
    return s;
  }
  started_ = true;
  LOG_INFO("municipal.adapter.started")
      .Kv("root", options_.root)
      .Kv("http_port", http_port_)
      .Kv("source_system", options_.source_system);
  return absl::OkStatus();
}

void MunicipalAdapter::Stop() {
  if (!started_) return;
  started_ = false;
  importer_->Cancel();
  if (http_server_) http_server_->Stop(absl::Seconds(10));
  drop_directory_->Stop();
  LOG_INFO("municipal.adapter.stopped");
}

}  // namespace carehub::municipal
