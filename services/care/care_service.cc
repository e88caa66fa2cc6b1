#include "carehub/services/care_service.h"

#include <atomic>
#include <memory>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/log.h"
#include "carehub/services/common/executor.h"
#include "carehub/services/common/grpc_status.h"

namespace carehub::services {
namespace {

grpc::Status Finished(std::string_view rpc, const absl::Status& status) {
  return ToGrpcStatusLogged("care.rpc.failed", rpc, status);
}

// Commands one ExecuteBatch call may carry (care_service.proto).
constexpr int kMaxBatchCommands = 1024;

void SetResult(const grpc::Status& status, care::v1::CommandResult* result) {
  result->set_code(static_cast<int>(status.error_code()));
  result->set_message(status.error_message());
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

grpc::ServerUnaryReactor* CareService::ExecuteBatch(grpc::CallbackServerContext* context,
                                                    const care::v1::ExecuteBatchRequest* request,
                                                    care::v1::ExecuteBatchResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const int n = request->commands_size();
  if (n > kMaxBatchCommands) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 absl::StrCat("commands: ", n, " commands; at most ",
                                              kMaxBatchCommands, " per call")));
    return reactor;
  }
  if (n == 0) {
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  // Every result exists before any command runs, so that each command writes only its own.
  for (int i = 0; i < n; ++i) response->add_results();
  // The last command to finish finishes the call; the counter's acq_rel orders every result's
  // writes before the response is sent.
  auto remaining = std::make_shared<std::atomic<int>>(n);
  auto finish_one = [reactor, remaining] {
    if (remaining->fetch_sub(1, std::memory_order_acq_rel) == 1) reactor->Finish(grpc::Status::OK);
  };
  for (int i = 0; i < n; ++i) {
    const care::v1::CommandRequest* command = &request->commands(i);
    care::v1::CommandResult* result = response->mutable_results(i);
    // One task per command: the executor's workers share the batch's deciding.
    const bool queued = executor_->Schedule([this, context, command, result, finish_one] {
      if (context->IsCancelled()) {
        SetResult(grpc::Status(grpc::StatusCode::CANCELLED, "the call was cancelled"), result);
        return finish_one();
      }
      commands_->ExecuteAsync(
          *command,
          [this](std::function<void()> task) { return executor_->Schedule(std::move(task)); },
          [result, finish_one](absl::StatusOr<care::v1::CommandResponse> executed) {
            if (executed.ok()) {
              *result->mutable_response() = *std::move(executed);
            } else {
              SetResult(Finished("ExecuteBatch", executed.status()), result);
            }
            finish_one();
          });
    });
    if (!queued) {
      SetResult(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"), result);
      finish_one();
    }
  }
  return reactor;
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
