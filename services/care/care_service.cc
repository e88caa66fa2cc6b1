#include "carehub/services/care_service.h"

#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "carehub/base/log.h"
#include "carehub/services/common/executor.h"
#include "carehub/services/common/grpc_status.h"

namespace carehub::services {
namespace {

grpc::Status Finished(std::string_view rpc, const absl::Status& status) {
  return ToGrpcStatusLogged("care.rpc.failed", rpc, status);
}

}  // namespace

CareService::CareService(care::CareCommands* commands, CareServiceOptions options)
    : commands_(commands), executor_(std::make_unique<Executor>(options.worker_threads)) {}

CareService::~CareService() { executor_->Shutdown(); }

grpc::ServerUnaryReactor* CareService::Execute(grpc::CallbackServerContext* context,
                                               const care::v1::CommandRequest* request,
                                               care::v1::CommandResponse* response) {
  // The executor decides; the append's fsync is waited for by nobody: the event store's
  // completion finishes the call.
  return StartOnExecutor(*executor_, context, [this, request, response](auto finish) {
    commands_->ExecuteAsync(
        *request,
        [this](std::function<void()> task) { return executor_->Schedule(std::move(task)); },
        [response, finish](absl::StatusOr<care::v1::CommandResponse> result) {
          if (!result.ok()) return finish(Finished("Execute", result.status()));
          *response = *std::move(result);
          finish(grpc::Status::OK);
        });
  });
}

grpc::ServerUnaryReactor* CareService::ResolvePatient(
    grpc::CallbackServerContext* context, const care::v1::ResolvePatientRequest* request,
    care::v1::ResolvePatientResponse* response) {
  return FinishOnExecutor(*executor_, context, [this, request, response] {
    absl::StatusOr<care::v1::ResolvePatientResponse> result = commands_->ResolvePatient(*request);
    if (!result.ok()) return Finished("ResolvePatient", result.status());
    *response = *std::move(result);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* CareService::CheckDeadlines(
    grpc::CallbackServerContext* context, const care::v1::CheckDeadlinesRequest* request,
    care::v1::CheckDeadlinesResponse* response) {
  return FinishOnExecutor(*executor_, context, [this, request, response] {
    const absl::Time now =
        request->has_now() ? absl::FromUnixSeconds(request->now().seconds()) +
                                 absl::Nanoseconds(request->now().nanos())
                           : commands_->clock().Now();
    absl::StatusOr<care::v1::CheckDeadlinesResponse> result = commands_->CheckDeadlines(now);
    if (!result.ok()) return Finished("CheckDeadlines", result.status());
    *response = *std::move(result);
    return grpc::Status::OK;
  });
}

}  // namespace carehub::services
