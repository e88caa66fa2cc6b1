// Executor: a small fixed pool of threads for work that may block (fsync waits, disk reads), so
// that gRPC's callback threads never do.
//
//   Executor executor(8);
//   executor.Schedule([reactor] { reactor->Finish(DoTheBlockingWork()); });
//
// Thread-safe. Tasks run in FIFO order of scheduling, on any of the pool's threads.
#ifndef CAREHUB_SERVICES_COMMON_EXECUTOR_H_
#define CAREHUB_SERVICES_COMMON_EXECUTOR_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace carehub::services {

class Executor {
 public:
  // Starts `threads` (at least one) worker threads.
  explicit Executor(size_t threads);
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;
  // Calls Shutdown().
  ~Executor();

  // Queues `task` and returns true; returns false, and destroys `task` without running it,
  // once Shutdown() has begun. Never blocks beyond a short lock, so it may be called from
  // threads that must not block (gRPC reactions, the event store's writer).
  bool Schedule(std::function<void()> task);

  // Stops accepting tasks, runs every task queued so far, and joins the workers. Idempotent.
  // Must not be called from a task.
  void Shutdown();

 private:
  void WorkerLoop();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;  // written only by the constructor and Shutdown()
  absl::Mutex join_mu_;               // serializes Shutdown()
};

}  // namespace carehub::services

namespace carehub::services {

// Starts `work(finish)` on `executor` for a unary callback call; `work` must call
// `finish(grpc::Status)` exactly once, from any thread, possibly after it has returned (when the
// result waits for an asynchronous append). Work that may block thus never runs on gRPC's
// callback threads. A call the client has already cancelled is finished as CANCELLED without
// running `work`: the client learns nothing from the result, and every carehub write is
// idempotent, so it may resend.
template <typename Work>
grpc::ServerUnaryReactor* StartOnExecutor(Executor& executor, grpc::CallbackServerContext* context,
                                          Work work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const bool queued = executor.Schedule([context, reactor, work = std::move(work)]() mutable {
    if (context->IsCancelled()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the call was cancelled"));
      return;
    }
    work([reactor](const grpc::Status& status) { reactor->Finish(status); });
  });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
  }
  return reactor;
}

// StartOnExecutor for work that computes its grpc::Status on the executor's thread.
template <typename Work>
grpc::ServerUnaryReactor* FinishOnExecutor(Executor& executor, grpc::CallbackServerContext* context,
                                           Work work) {
  return StartOnExecutor(executor, context,
                         [work = std::move(work)](auto finish) mutable { finish(work()); });
}

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_COMMON_EXECUTOR_H_
