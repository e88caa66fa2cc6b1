// The access log over gRPC (carehub.audit.v1.AccessLog, proto/carehub/audit/v1/access_log.proto):
// AccessLogService serves a hub's access log to auditors' tools, and ConnectAccessLog reads it
// from another process, so that `carehub-audit --hub=HOST:PORT access-log` and
// `verify --log=access` work on a running hub as they do on a stopped hub's data directory.
//
//   AccessLogService service(access_log.get());
//   server.AddService(&service, audit::v1::AccessLog::service_full_name());
//   ...
//   ASSIGN_OR_RETURN(std::unique_ptr<AccessLogReader> log, ConnectAccessLog("127.0.0.1:50051"));
//   ASSIGN_OR_RETURN(AccessPage page, log->Find({.patient = "3f2a..."}));
//
// Errors: the service answers INVALID_ARGUMENT for a malformed query and the log's own errors as
// their gRPC codes; the reader returns them as absl statuses, and Unavailable when the hub cannot
// be reached or does not serve an access log (it runs with --access_log=false).
//
// Thread-safety: both thread-safe. The service runs Find and Verify on its own worker threads.
#ifndef CAREHUB_AUDIT_ACCESS_LOG_SERVICE_H_
#define CAREHUB_AUDIT_ACCESS_LOG_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "carehub/audit/access_log.h"
#include "carehub/audit/v1/access_log.grpc.pb.h"

namespace carehub::services {
class Executor;
}  // namespace carehub::services

namespace carehub::audit {

// Entries per Find page the service answers at most.
inline constexpr size_t kMaxAccessPage = 1000;

class AccessLogService final : public v1::AccessLog::CallbackService {
 public:
  // `log` is not owned and must outlive the service.
  explicit AccessLogService(AccessLog* log);
  ~AccessLogService() override;  // runs the calls still queued
  AccessLogService(const AccessLogService&) = delete;
  AccessLogService& operator=(const AccessLogService&) = delete;

  grpc::ServerUnaryReactor* Find(grpc::CallbackServerContext* context, const v1::FindAccessRequest* request,
                                 v1::FindAccessResponse* response) override;
  grpc::ServerUnaryReactor* Verify(grpc::CallbackServerContext* context,
                                   const eventstore::v1::VerifyRequest* request,
                                   eventstore::v1::VerifyResponse* response) override;

 private:
  AccessLog* log_;
  // Find and Verify read RocksDB (Verify the whole log): never on gRPC's callback threads.
  std::unique_ptr<services::Executor> executor_;
};

// A running hub's access log at `target` (host:port).
absl::StatusOr<std::unique_ptr<AccessLogReader>> ConnectAccessLog(const std::string& target);

}  // namespace carehub::audit

#endif  // CAREHUB_AUDIT_ACCESS_LOG_SERVICE_H_
