// SubscriptionImpl: catch-up then live over the global log, by cursor.
//
// There is no separate "live mode": every Poll() asks for the events at and after the cursor,
// from the in-memory ring of recent events when the cursor is inside it, from RocksDB when it
// is not. Since both hold the same gapless positions, the switch from catch-up to live cannot
// skip or repeat an event, and a subscriber that falls behind the ring simply reads from disk.
#ifndef CAREHUB_EVENTSTORE_INTERNAL_SUBSCRIPTION_H_
#define CAREHUB_EVENTSTORE_INTERNAL_SUBSCRIPTION_H_

#include <atomic>
#include <functional>

#include "carehub/eventstore/event_store.h"
#include "eventstore/internal/event_store_impl.h"

namespace carehub::eventstore::internal {

class SubscriptionImpl : public Subscription {
 public:
  SubscriptionImpl(EventStoreImpl* store, const SubscribeOptions& options);
  ~SubscriptionImpl() override;

  absl::StatusOr<SubscriptionBatch> Poll() override;
  absl::StatusOr<SubscriptionBatch> Next(absl::Duration timeout) override;
  void NotifyWhenReady(std::function<void()> ready) override;
  void Cancel() override;
  uint64_t cursor() const override { return cursor_.load(); }

 private:
  EventStoreImpl* const store_;  // not owned; outlives this
  const EventFilter filter_;
  const size_t max_batch_;
  // A filtered catch-up returns after examining this many events, so that it reports progress
  // (a checkpoint) even when nothing matches.
  const size_t max_scan_;
  std::atomic<uint64_t> cursor_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace carehub::eventstore::internal

#endif  // CAREHUB_EVENTSTORE_INTERNAL_SUBSCRIPTION_H_
