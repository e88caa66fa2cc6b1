// RemoteSubscription: an eventstore::Subscription fed by the server-streaming Subscribe RPC.
//
// A reader thread runs the stream and fills a bounded queue of batches; Poll()/Next() take from
// the queue. When the queue is full the reader stops reading, so gRPC's flow control holds the
// server's stream back for this subscriber alone, as the in-process store's pull model does.
//
// No gap, no duplicate: the reader remembers the checkpoint of the last batch it queued and,
// when a stream ends with a retryable error (the server restarted, the connection dropped), it
// re-subscribes from there after a backoff. Batches already queued are still delivered, and any
// event below that checkpoint in a later stream is dropped, so the consumer sees every matching
// position exactly once, in order. cursor() is the checkpoint of the last batch handed out.
//
// Ends on Cancel() (Cancelled), on Close() (the client is going away; Unavailable), or on a
// permanent error from the server (delivered after the batches queued before it).
//
// Thread-safe as event_store.h promises: Poll/Next from one thread at a time; Cancel(),
// NotifyWhenReady() and Close() from any.
#ifndef CAREHUB_SERVICES_EVENTSTORE_CLIENT_INTERNAL_REMOTE_SUBSCRIPTION_H_
#define CAREHUB_SERVICES_EVENTSTORE_CLIENT_INTERNAL_REMOTE_SUBSCRIPTION_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/eventstore/v1/eventstore.grpc.pb.h"

namespace carehub::services::eventstore_client_internal {

struct SubscriptionSettings {
  size_t buffer_batches = 8;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
};

// The state shared by a subscription handle, its reader thread and the client that keeps a
// weak reference to it so that it can end it on destruction.
class SubscriptionCore {
 public:
  SubscriptionCore(std::shared_ptr<eventstore::v1::EventStore::Stub> stub,
                   const eventstore::SubscribeOptions& options,
                   const SubscriptionSettings& settings);
  SubscriptionCore(const SubscriptionCore&) = delete;
  SubscriptionCore& operator=(const SubscriptionCore&) = delete;
  ~SubscriptionCore();

  // Starts the reader thread. Once.
  void Start();
  // Ends the subscription with `status` (Cancelled or Unavailable), drops what is queued, ends
  // the stream in flight and wakes every waiter. The first end wins, except that Cancelled
  // replaces a permanent error so that Next() after Cancel() always says Cancelled.
  void End(absl::Status status);
  // Waits for the reader thread to leave its loop (after End()), from any thread.
  void AwaitReaderDone();
  // Joins the reader thread; only the owning handle calls this, once.
  void JoinReader();

  absl::StatusOr<eventstore::SubscriptionBatch> Poll();
  absl::StatusOr<eventstore::SubscriptionBatch> Next(absl::Duration timeout);
  void NotifyWhenReady(std::function<void()> ready);
  uint64_t cursor() const { return cursor_.load(); }

 private:
  void ReadLoop();
  // Runs one Subscribe call until its stream ends; returns its final status. Sets `progressed`
  // when a response arrived.
  grpc::Status RunStream(bool* progressed);
  // Ends the subscription with a permanent error from the server, after what is queued.
  void Fail(absl::Status status);
  // Waits `backoff` before the next stream; false if the subscription ended meanwhile.
  bool AwaitBackoff(const grpc::Status& status, absl::Duration backoff);
  // Queues `batch` once there is room. False when the subscription ended meanwhile.
  bool Push(eventstore::SubscriptionBatch batch);
  // Takes the front batch; the cursor moves to its checkpoint.
  eventstore::SubscriptionBatch PopFront() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  eventstore::SubscriptionBatch EmptyBatch() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ReadyLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || !end_.ok();
  }

  const std::shared_ptr<eventstore::v1::EventStore::Stub> stub_;
  const eventstore::SubscribeOptions options_;
  const SubscriptionSettings settings_;
  std::atomic<uint64_t> cursor_;
  std::thread reader_;

  mutable absl::Mutex mu_;
  std::deque<eventstore::SubscriptionBatch> queue_ ABSL_GUARDED_BY(mu_);
  // Where the next stream starts: the checkpoint of the last batch queued.
  uint64_t resume_from_ ABSL_GUARDED_BY(mu_);
  // caught_up of the last batch handed out, for empty Poll()/Next() results.
  bool caught_up_ ABSL_GUARDED_BY(mu_) = false;
  // Not ok once the subscription has ended: what Poll()/Next() return when the queue is empty.
  absl::Status end_ ABSL_GUARDED_BY(mu_);
  // The call in flight, so that End() can cancel it; nullptr between calls.
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::function<void()> ready_ ABSL_GUARDED_BY(mu_);
  bool reader_done_ ABSL_GUARDED_BY(mu_) = false;
};

// The handle the caller owns. Destroying it cancels the subscription and joins the reader.
class RemoteSubscription final : public eventstore::Subscription {
 public:
  explicit RemoteSubscription(std::shared_ptr<SubscriptionCore> core) : core_(std::move(core)) {}
  ~RemoteSubscription() override;

  absl::StatusOr<eventstore::SubscriptionBatch> Poll() override { return core_->Poll(); }
  absl::StatusOr<eventstore::SubscriptionBatch> Next(absl::Duration timeout) override {
    return core_->Next(timeout);
  }
  void NotifyWhenReady(std::function<void()> ready) override {
    core_->NotifyWhenReady(std::move(ready));
  }
  void Cancel() override;
  uint64_t cursor() const override { return core_->cursor(); }

 private:
  const std::shared_ptr<SubscriptionCore> core_;
};

}  // namespace carehub::services::eventstore_client_internal

#endif  // CAREHUB_SERVICES_EVENTSTORE_CLIENT_INTERNAL_REMOTE_SUBSCRIPTION_H_
