#include "carehub/services/care_service.h"

#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "carehub/base/log.h"
#include "carehub/services/common/executor.h"
#include "carehub/services/common/grpc_status.h"

namespace carehub::services {
namespace {

// Server faults are logged; the caller's own errors (a refused command) are not: they are answers.
grpc::Status Finished(std::string_view rpc, const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnknown:
      LOG_ERROR("care.rpc.failed")
          .Kv("rpc", rpc)
          .Kv("code", absl::StatusCodeToString(status.code()))
          .Kv("message", status.message());
      break;
    default:
      break;
  }
  return ToGrpcStatus(status);
}

template <typename Work>
grpc::ServerUnaryReactor* RunOnExecutor(Executor& executor, grpc::CallbackServerContext* context,
                                        Work work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const bool queued = executor.Schedule([context, reactor, work = std::move(work)]() mutable {
    // Skipping a cancelled call is safe: commands are idempotent, so the caller may resend.
    if (context->IsCancelled()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the call was cancelled"));
      return;
    }
    reactor->Finish(work());
  });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
  }
  return reactor;
}

}  // namespace

CareService::CareService(care::CareCommands* commands, CareServiceOptions options)
    : commands_(commands), executor_(std::make_unique<Executor>(options.worker_threads)) {}

CareService::~CareService() { executor_->Shutdown(); }

grpc::ServerUnaryReactor* CareService::Execute(grpc::CallbackServerContext* context,
                                               const care::v1::CommandRequest* request,
                                               care::v1::CommandResponse* response) {
  return RunOnExecutor(*executor_, context, [this, request, response] {
    absl::StatusOr<care::v1::CommandResponse> result = commands_->Execute(*request);
    if (!result.ok()) return Finished("Execute", result.status());
    *response = *std::move(result);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* CareService::ResolvePatient(
    grpc::CallbackServerContext* context, const care::v1::ResolvePatientRequest* request,
    care::v1::ResolvePatientResponse* response) {
  return RunOnExecutor(*executor_, context, [this, request, response] {
    absl::StatusOr<care::v1::ResolvePatientResponse> result = commands_->ResolvePatient(*request);
    if (!result.ok()) return Finished("ResolvePatient", result.status());
    *response = *std::move(result);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* CareService::CheckDeadlines(
    grpc::CallbackServerContext* context, const care::v1::CheckDeadlinesRequest* request,
    care::v1::CheckDeadlinesResponse* response) {
  return RunOnExecutor(*executor_, context, [this, request, response] {
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
