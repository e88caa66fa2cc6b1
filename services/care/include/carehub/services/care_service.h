// CareService: the gRPC face of care::CareCommands (carehub.care.v1.CareService; the contract is
// in proto/carehub/care/v1/care_service.proto).
//
//   std::unique_ptr<care::CareCommands> commands = ...;
//   CareService service(commands.get());
//   server.AddService(&service, care::v1::CareService::service_full_name());
//
// Callback API; reactions never block: every call runs on a small executor owned by the service
// (deciding reads the patient's stream). An Execute waits for no fsync on that executor either:
// its append completes on the event store's thread, which finishes the call, so the executor's
// threads go on deciding other patients' commands and one group commit takes them all. An
// ExecuteBatch schedules each of its commands as a task of its own and finishes when the last one
// has its result. Library errors map 1:1 onto gRPC codes (services/common/grpc_status.h).
//
// Thread-safe. Destroy only after the grpc::Server it is registered with has shut down.
#ifndef CAREHUB_SERVICES_CARE_SERVICE_H_
#define CAREHUB_SERVICES_CARE_SERVICE_H_

#include <cstddef>
#include <memory>

#include "carehub/care/care_commands.h"
#include "carehub/care/v1/care_service.grpc.pb.h"

namespace carehub::services {

class Executor;

struct CareServiceOptions {
  size_t worker_threads = 8;
};

class CareService final : public care::v1::CareService::CallbackService {
 public:
  // `commands` is not owned and must outlive the service.
  explicit CareService(care::CareCommands* commands, CareServiceOptions options = {});
  CareService(const CareService&) = delete;
  CareService& operator=(const CareService&) = delete;
  ~CareService() override;

  grpc::ServerUnaryReactor* Execute(grpc::CallbackServerContext* context,
                                    const care::v1::CommandRequest* request,
                                    care::v1::CommandResponse* response) override;
  grpc::ServerUnaryReactor* ExecuteBatch(grpc::CallbackServerContext* context,
                                         const care::v1::ExecuteBatchRequest* request,
                                         care::v1::ExecuteBatchResponse* response) override;
  grpc::ServerUnaryReactor* ResolvePatient(grpc::CallbackServerContext* context,
                                           const care::v1::ResolvePatientRequest* request,
                                           care::v1::ResolvePatientResponse* response) override;
  grpc::ServerUnaryReactor* CheckDeadlines(grpc::CallbackServerContext* context,
                                           const care::v1::CheckDeadlinesRequest* request,
                                           care::v1::CheckDeadlinesResponse* response) override;

 private:
  care::CareCommands* commands_;
  std::unique_ptr<Executor> executor_;
};

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_CARE_SERVICE_H_
