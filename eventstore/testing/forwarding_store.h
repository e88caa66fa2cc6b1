// ForwardingStore: an EventStore that passes every call to another one, for tests that
// override the few calls they need to hold, fail or watch.
//
//   class UnreachableHead : public eventstore::testing::ForwardingStore {
//    public:
//     using ForwardingStore::ForwardingStore;
//     absl::StatusOr<LogHead> Head() override { return absl::UnavailableError("..."); }
//   };
//
// Thread-safety: as the store it forwards to.
#ifndef CAREHUB_EVENTSTORE_TESTING_FORWARDING_STORE_H_
#define CAREHUB_EVENTSTORE_TESTING_FORWARDING_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "carehub/eventstore/event_store.h"

namespace carehub::eventstore::testing {

class ForwardingStore : public EventStore {
 public:
  // `inner` is not owned and must outlive this store.
  explicit ForwardingStore(EventStore* inner) : inner_(inner) {}

  absl::StatusOr<AppendResult> Append(std::string_view stream_id, ExpectedVersion expected,
                                      std::vector<ProposedEvent> events) override {
    return inner_->Append(stream_id, expected, std::move(events));
  }
  void AppendAsync(std::string_view stream_id, ExpectedVersion expected,
                   std::vector<ProposedEvent> events, AppendCallback done) override {
    inner_->AppendAsync(stream_id, expected, std::move(events), std::move(done));
  }
  absl::StatusOr<std::vector<RecordedEvent>> ReadStream(const ReadStreamRequest& request) override {
    return inner_->ReadStream(request);
  }
  absl::StatusOr<ReadAllResult> ReadAll(const ReadAllRequest& request) override {
    return inner_->ReadAll(request);
  }
  absl::StatusOr<ReadAllResult> ReadIndex(const ReadIndexRequest& request) override {
    return inner_->ReadIndex(request);
  }
  absl::StatusOr<uint64_t> StreamVersion(std::string_view stream_id) override {
    return inner_->StreamVersion(stream_id);
  }
  absl::StatusOr<LogHead> Head() override { return inner_->Head(); }
  absl::StatusOr<VerifyResult> Verify(std::optional<LogHead> from) override {
    return inner_->Verify(from);
  }
  std::unique_ptr<Subscription> Subscribe(const SubscribeOptions& options) override {
    return inner_->Subscribe(options);
  }

 protected:
  EventStore* inner() const { return inner_; }

 private:
  EventStore* const inner_;
};

}  // namespace carehub::eventstore::testing

#endif  // CAREHUB_EVENTSTORE_TESTING_FORWARDING_STORE_H_
