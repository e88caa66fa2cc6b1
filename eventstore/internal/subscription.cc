#include "eventstore/internal/subscription.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "carehub/base/status_macros.h"

namespace carehub::eventstore::internal {

SubscriptionImpl::SubscriptionImpl(EventStoreImpl* store, const SubscribeOptions& options)
    : store_(store),
      filter_{options.stream_prefix, options.event_types},
      max_batch_(std::clamp<size_t>(options.max_batch, 1, store->limits().max_read_events)),
      max_scan_(std::max<size_t>(16 * max_batch_, 4096)),
      cursor_(options.from_position) {}

SubscriptionImpl::~SubscriptionImpl() { store_->Unregister(this); }

absl::StatusOr<SubscriptionBatch> SubscriptionImpl::Poll() {
  if (cancelled_.load()) return absl::CancelledError("the subscription was cancelled");
  if (store_->closing()) return absl::UnavailableError("the event log is closing");
  SubscriptionBatch batch;
  uint64_t from = cursor_.load();
  uint64_t next = from;
  if (!store_->CopyRecent(from, filter_, max_batch_, &batch.events, &next)) {
    RETURN_IF_ERROR(store_->ScanForward(from, filter_, max_batch_, max_scan_, &batch.events, &next));
  }
  cursor_.store(next);
  batch.checkpoint = next;
  batch.caught_up = next >= store_->NextPosition();
  return batch;
}

absl::StatusOr<SubscriptionBatch> SubscriptionImpl::Next(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    ASSIGN_OR_RETURN(SubscriptionBatch batch, Poll());
    if (!batch.events.empty() || absl::Now() >= deadline) return batch;
    if (!batch.caught_up) continue;  // a filtered scan made progress but found nothing yet
    if (!store_->AwaitPast(cursor_.load(), cancelled_, deadline)) {
      return absl::UnavailableError("the event log is closing");
    }
    if (cancelled_.load()) return absl::CancelledError("the subscription was cancelled");
  }
}

void SubscriptionImpl::NotifyWhenReady(std::function<void()> ready) {
  if (cancelled_.load()) {
    ready();
    return;
  }
  store_->NotifyPast(this, cursor_.load(), cancelled_, std::move(ready));
}

void SubscriptionImpl::Cancel() {
  if (cancelled_.exchange(true)) return;
  std::function<void()> ready = store_->Unregister(this);
  if (ready) ready();
}

// --- The store's side of subscriptions. ---

uint64_t EventStoreImpl::NextPosition() {
  absl::MutexLock lock(&head_mu_);
  return published_next_;
}

bool EventStoreImpl::closing() {
  absl::MutexLock lock(&head_mu_);
  return closing_;
}

bool EventStoreImpl::CopyRecent(uint64_t from, const EventFilter& filter, size_t limit,
                                std::vector<RecordedEvent>* out, uint64_t* next) {
  std::vector<std::shared_ptr<const RecordedEvent>> picked;
  {
    absl::MutexLock lock(&head_mu_);
    uint64_t ring_start = published_next_ - recent_.size();
    if (from < ring_start) return false;
    uint64_t position = from;
    size_t bytes = 0;
    for (size_t i = from - ring_start; i < recent_.size() && picked.size() < limit; ++i, ++position) {
      if (!picked.empty() && bytes >= options_.limits.max_read_bytes) break;
      const RecordedEvent& event = *recent_[i];
      if (filter.Matches(event.stream_id, event.type)) {
        picked.push_back(recent_[i]);
        bytes += event.data.size() + event.metadata.size();
      }
    }
    *next = position;
  }
  // Copy outside the lock so that the writer's Publish() is never held up by a subscriber.
  out->reserve(out->size() + picked.size());
  for (const auto& event : picked) out->push_back(*event);
  return true;
}

bool EventStoreImpl::AwaitPast(uint64_t position, const std::atomic<bool>& cancelled, absl::Time deadline) {
  absl::MutexLock lock(&head_mu_);
  const uint64_t epoch = wake_epoch_;
  auto ready = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return published_next_ > position || closing_ || cancelled.load() || wake_epoch_ != epoch;
  };
  head_mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
  return !closing_;
}

void EventStoreImpl::NotifyPast(const SubscriptionImpl* key, uint64_t position, const std::atomic<bool>& cancelled,
                                std::function<void()> ready) {
  {
    absl::MutexLock lock(&head_mu_);
    // `cancelled` is read under head_mu_: Cancel() sets it before Unregister() takes head_mu_,
    // so either Unregister() finds this registration or this sees the flag.
    if (published_next_ <= position && !closing_ && !cancelled.load()) {
      waiters_[key] = std::move(ready);
      return;
    }
  }
  ready();
}

std::function<void()> EventStoreImpl::Unregister(const SubscriptionImpl* key) {
  absl::MutexLock lock(&head_mu_);
  ++wake_epoch_;
  auto it = waiters_.find(key);
  if (it == waiters_.end()) return nullptr;
  std::function<void()> ready = std::move(it->second);
  waiters_.erase(it);
  return ready;
}

}  // namespace carehub::eventstore::internal
