// SubscribeReactor: one Subscribe call, streaming batches from an eventstore::Subscription.
//
// Pull-driven, so that a slow client slows only itself: a batch is polled while at most one
// response waits for the transport (the one being written), so reading the next batch from the
// store overlaps writing this one, and a client that stops reading holds at most one batch
// beyond what the transport has taken. Polls run on the service's executor (a poll may read
// from disk while catching up); at the head, the reactor parks with
// Subscription::NotifyWhenReady, whose callback only schedules the next poll.
//
// Lifetime: owned by a shared_ptr the reactor holds on itself until gRPC calls OnDone(). Queued
// polls and the store's callback hold weak_ptrs, so whichever of them runs last frees the
// reactor on an executor or gRPC thread, never on the store's writer thread.
//
// Thread-safe: gRPC reactions, executor tasks and Stop() may run concurrently.
#ifndef CAREHUB_SERVICES_EVENTSTORE_INTERNAL_SUBSCRIBE_REACTOR_H_
#define CAREHUB_SERVICES_EVENTSTORE_INTERNAL_SUBSCRIBE_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/eventstore/v1/eventstore.grpc.pb.h"
#include "carehub/services/common/executor.h"

namespace carehub::services::internal {

class SubscribeReactor;

// The service's set of live subscription calls, so that shutdown can end them. Thread-safe.
class SubscriptionRegistry {
 public:
  // False once BeginShutdown() has run: the caller must refuse the subscription.
  bool Add(const std::shared_ptr<SubscribeReactor>& reactor);
  void Remove(const SubscribeReactor* reactor);
  // Refuses new subscriptions and stops every live one with UNAVAILABLE. Idempotent.
  void BeginShutdown();
  size_t size() const;
  bool AwaitEmpty(absl::Duration timeout) const;

 private:
  bool IsEmpty() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return live_.empty(); }

  mutable absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<const SubscribeReactor*, std::weak_ptr<SubscribeReactor>> live_
      ABSL_GUARDED_BY(mu_);
};

class SubscribeReactor final : public grpc::ServerWriteReactor<eventstore::v1::SubscribeResponse>,
                               public std::enable_shared_from_this<SubscribeReactor> {
 public:
  struct Options {
    size_t max_response_bytes = 3u << 20;
    uint64_t checkpoint_interval = 1024;
  };

  // Creates the reactor for one call and starts polling. `subscription` is owned; `executor` is
  // shared with the service; `registry` must outlive the call (until OnDone). The returned
  // pointer is gRPC's to hold until OnDone.
  static SubscribeReactor* Start(std::unique_ptr<eventstore::Subscription> subscription,
                                 const Options& options, std::shared_ptr<Executor> executor,
                                 SubscriptionRegistry* registry);

  // Use Start(). Public only for std::make_shared.
  SubscribeReactor(std::unique_ptr<eventstore::Subscription> subscription, const Options& options,
                   std::shared_ptr<Executor> executor, SubscriptionRegistry* registry);
  ~SubscribeReactor() override;

  // Ends the call with `status` once the write in flight, if any, completes. The first status
  // wins. Thread-safe.
  void Stop(grpc::Status status);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // What to do after a decision taken under mu_; done outside it, because gRPC and the store may
  // call back inline.
  struct Action {
    const eventstore::v1::SubscribeResponse* write = nullptr;
    bool poll = false;
    bool wait = false;
    std::optional<grpc::Status> finish;
  };

  void SchedulePoll();
  void Poll();
  void WaitForEvents();
  void Perform(Action action);
  // Turns a polled batch into responses in pending_, splitting it under max_response_bytes.
  void QueueBatchLocked(eventstore::SubscriptionBatch batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The front response, to be written now, marked in flight; null while one is in flight or none
  // is queued.
  const eventstore::v1::SubscribeResponse* NextWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether to poll (or park for events) now; if so, marks the poll outstanding.
  bool ShouldPollLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The status to finish with, once stopping and no write is in flight; at most once.
  std::optional<grpc::Status> TakeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::unique_ptr<eventstore::Subscription> subscription_;
  const Options options_;
  const std::shared_ptr<Executor> executor_;
  SubscriptionRegistry* const registry_;

  absl::Mutex mu_;
  std::shared_ptr<SubscribeReactor> self_ ABSL_GUARDED_BY(mu_);
  // Responses not yet written; the front one is in flight while write_in_flight_.
  std::deque<eventstore::v1::SubscribeResponse> pending_ ABSL_GUARDED_BY(mu_);
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  // A poll is scheduled, running, or parked until the store has events.
  bool polling_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> stop_status_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  // What the client was last told, to send progress-only responses sparingly.
  bool sent_caught_up_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t sent_checkpoint_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace carehub::services::internal

#endif  // CAREHUB_SERVICES_EVENTSTORE_INTERNAL_SUBSCRIBE_REACTOR_H_
