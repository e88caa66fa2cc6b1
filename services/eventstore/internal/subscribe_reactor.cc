#include "services/eventstore/internal/subscribe_reactor.h"

#include <utility>
#include <vector>

#include "carehub/base/log.h"
#include "carehub/services/common/grpc_status.h"
#include "services/eventstore/internal/proto_conversion.h"

namespace carehub::services::internal {

namespace pb = ::carehub::eventstore::v1;

// --- SubscriptionRegistry ---

bool SubscriptionRegistry::Add(const std::shared_ptr<SubscribeReactor>& reactor) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return false;
  live_[reactor.get()] = reactor;
  return true;
}

void SubscriptionRegistry::Remove(const SubscribeReactor* reactor) {
  absl::MutexLock lock(&mu_);
  live_.erase(reactor);
}

void SubscriptionRegistry::BeginShutdown() {
  std::vector<std::shared_ptr<SubscribeReactor>> live;
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
    for (const auto& [key, weak] : live_) {
      if (std::shared_ptr<SubscribeReactor> reactor = weak.lock()) live.push_back(std::move(reactor));
    }
  }
  // Outside the lock: stopping may complete the call, and OnDone() calls Remove().
  for (const std::shared_ptr<SubscribeReactor>& reactor : live) {
    reactor->Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                               "the server is shutting down; resume from the last checkpoint"));
  }
}

size_t SubscriptionRegistry::size() const {
  absl::MutexLock lock(&mu_);
  return live_.size();
}

bool SubscriptionRegistry::AwaitEmpty(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(this, &SubscriptionRegistry::IsEmpty), timeout);
}

// --- SubscribeReactor ---

SubscribeReactor* SubscribeReactor::Start(std::unique_ptr<eventstore::Subscription> subscription,
                                          const Options& options,
                                          std::shared_ptr<Executor> executor,
                                          SubscriptionRegistry* registry) {
  auto reactor = std::make_shared<SubscribeReactor>(std::move(subscription), options,
                                                    std::move(executor), registry);
  {
    absl::MutexLock lock(&reactor->mu_);
    reactor->self_ = reactor;
    reactor->polling_ = true;  // the poll scheduled below, or none after a refusal
  }
  if (registry->Add(reactor)) {
    reactor->SchedulePoll();
  } else {
    reactor->Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
  }
  return reactor.get();
}

SubscribeReactor::SubscribeReactor(std::unique_ptr<eventstore::Subscription> subscription,
                                   const Options& options, std::shared_ptr<Executor> executor,
                                   SubscriptionRegistry* registry)
    : subscription_(std::move(subscription)),
      options_(options),
      executor_(std::move(executor)),
      registry_(registry) {
  absl::MutexLock lock(&mu_);
  sent_checkpoint_ = subscription_->cursor();
}

SubscribeReactor::~SubscribeReactor() { subscription_->Cancel(); }

void SubscribeReactor::Stop(grpc::Status status) {
  std::optional<grpc::Status> finish;
  {
    absl::MutexLock lock(&mu_);
    if (!stop_status_.has_value()) stop_status_ = std::move(status);
    finish = TakeFinishLocked();
  }
  // Wakes a parked wait (its poll then sees the stop) and ends a poll in progress early.
  subscription_->Cancel();
  if (finish.has_value()) Finish(*std::move(finish));
}

void SubscribeReactor::OnWriteDone(bool ok) {
  Action action;
  {
    absl::MutexLock lock(&mu_);
    write_in_flight_ = false;
    if (!pending_.empty()) pending_.pop_front();
    if (!ok && !stop_status_.has_value()) {
      stop_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "the subscriber went away");
    }
    if (!stop_status_.has_value()) {
      action.write = NextWriteLocked();
      action.poll = ShouldPollLocked();
    }
    action.finish = TakeFinishLocked();
  }
  Perform(std::move(action));
}

void SubscribeReactor::OnCancel() {
  Stop(grpc::Status(grpc::StatusCode::CANCELLED, "the subscriber cancelled the call"));
}

void SubscribeReactor::OnDone() {
  registry_->Remove(this);
  subscription_->Cancel();
  std::shared_ptr<SubscribeReactor> self;
  {
    absl::MutexLock lock(&mu_);
    self = std::move(self_);
  }
  // `self` may be the last owner: then the reactor is destroyed on return, which gRPC allows
  // once OnDone has been called. Otherwise a queued poll releases it.
}

void SubscribeReactor::SchedulePoll() {
  std::weak_ptr<SubscribeReactor> weak = weak_from_this();
  const bool queued = executor_->Schedule([weak] {
    if (std::shared_ptr<SubscribeReactor> self = weak.lock()) self->Poll();
  });
  if (!queued) {
    Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
  }
}

void SubscribeReactor::WaitForEvents() {
  // The callback runs on the store's writer thread (or inline, right here): it must not block or
  // read, so it only queues the next poll. It holds no strong reference, so the writer never
  // destroys a reactor.
  subscription_->NotifyWhenReady([weak = weak_from_this(), executor = executor_] {
    executor->Schedule([weak] {
      if (std::shared_ptr<SubscribeReactor> self = weak.lock()) self->Poll();
    });
  });
}

void SubscribeReactor::Poll() {
  {
    absl::MutexLock lock(&mu_);
    if (stop_status_.has_value()) return;
  }
  // Only one poll is ever outstanding (polling_), so the subscription is used by one thread at a
  // time, as it requires.
  absl::StatusOr<eventstore::SubscriptionBatch> batch = subscription_->Poll();
  Action action;
  {
    absl::MutexLock lock(&mu_);
    polling_ = false;
    if (!stop_status_.has_value()) {
      if (!batch.ok()) {
        if (batch.status().code() != absl::StatusCode::kUnavailable &&
            batch.status().code() != absl::StatusCode::kCancelled) {
          LOG_ERROR("eventstore.subscribe.failed")
              .Kv("code", absl::StatusCodeToString(batch.status().code()))
              .Kv("cursor", subscription_->cursor());
        }
        stop_status_ = ToGrpcStatus(batch.status());
      } else {
        const bool caught_up = batch->caught_up;
        QueueBatchLocked(*std::move(batch));
        action.write = NextWriteLocked();
        // At the head, the next poll waits for events; otherwise it reads the next batch while
        // this one is being written (ShouldPollLocked bounds how far ahead).
        if (ShouldPollLocked()) {
          action.wait = caught_up;
          action.poll = !caught_up;
        }
      }
    }
    action.finish = TakeFinishLocked();
  }
  Perform(std::move(action));
}

void SubscribeReactor::Perform(Action action) {
  if (action.write != nullptr) StartWrite(action.write);
  if (action.poll) SchedulePoll();
  if (action.wait) WaitForEvents();
  if (action.finish.has_value()) Finish(*std::move(action.finish));
}

void SubscribeReactor::QueueBatchLocked(eventstore::SubscriptionBatch batch) {
  if (batch.events.empty()) {
    // Progress-only responses: when the subscriber (re)reaches the head, so it knows it is live,
    // and every checkpoint_interval positions that the filter skipped, so its checkpoint does
    // not fall far behind. Not for every empty poll, which would be chatter.
    const bool newly_caught_up = batch.caught_up && !sent_caught_up_;
    const bool far_ahead = batch.checkpoint >= sent_checkpoint_ + options_.checkpoint_interval;
    if (!newly_caught_up && !far_ahead) return;
  }
  pb::SubscribeResponse* response = &pending_.emplace_back();
  size_t bytes = 0;
  for (eventstore::RecordedEvent& event : batch.events) {
    const size_t size = EncodedSizeEstimate(event);
    if (response->events_size() > 0 && bytes + size > options_.max_response_bytes) {
      // Every position up to the last event sent has been examined, so it is a valid checkpoint.
      response->set_checkpoint(response->events(response->events_size() - 1).position() + 1);
      response->set_caught_up(false);
      response = &pending_.emplace_back();  // deque: earlier elements stay where they are
      bytes = 0;
    }
    bytes += size;
    ToProto(std::move(event), response->add_events());
  }
  response->set_checkpoint(batch.checkpoint);
  response->set_caught_up(batch.caught_up);
  sent_checkpoint_ = batch.checkpoint;
  sent_caught_up_ = batch.caught_up;
}

const pb::SubscribeResponse* SubscribeReactor::NextWriteLocked() {
  if (write_in_flight_ || pending_.empty()) return nullptr;
  write_in_flight_ = true;
  return &pending_.front();
}

bool SubscribeReactor::ShouldPollLocked() {
  // One batch ahead of the transport at most: a poll while the written response is the only one
  // queued, none while a poll is outstanding (a subscription is used by one thread at a time).
  if (polling_ || stop_status_.has_value()) return false;
  if (pending_.size() > (write_in_flight_ ? 1u : 0u)) return false;
  polling_ = true;
  return true;
}

std::optional<grpc::Status> SubscribeReactor::TakeFinishLocked() {
  if (!stop_status_.has_value() || finished_ || write_in_flight_) return std::nullopt;
  finished_ = true;
  pending_.clear();
  return *stop_status_;
}

}  // namespace carehub::services::internal
