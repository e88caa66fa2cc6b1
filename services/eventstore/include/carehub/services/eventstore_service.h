// EventStoreService: the gRPC face of an eventstore::EventStore
// (carehub.eventstore.v1.EventStore; the contract is in
// proto/carehub/eventstore/v1/eventstore.proto).
//
//   std::unique_ptr<eventstore::EventStore> store = ...;
//   EventStoreService service(store.get());
//   GrpcServer server({.address = address,
//                      .max_receive_message_bytes = EventStoreService::MaxRequestBytes(limits)});
//   server.AddService(&service, eventstore::v1::EventStore::service_full_name(),
//                     [&service] { service.BeginShutdown(); });
//
// Uses gRPC's callback API, and its reactions never block: calls that wait on the store (an
// append waits for its group commit's fsync; reads and verification hit the disk) run on a small
// executor owned by the service, and subscriptions are pumped from it too (see
// internal/subscribe_reactor.h). Library errors map 1:1 onto gRPC codes; an expected-version
// conflict also carries the stream's actual version in the trailing metadata key
// `carehub-actual-version` ("none" or the decimal version).
//
// Thread-safe. Destroy only after the grpc::Server it is registered with has shut down, and
// before the store.
#ifndef CAREHUB_SERVICES_EVENTSTORE_SERVICE_H_
#define CAREHUB_SERVICES_EVENTSTORE_SERVICE_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/time/time.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/eventstore/v1/eventstore.grpc.pb.h"

namespace carehub::services {

class Executor;
namespace internal {
class SubscriptionRegistry;
}  // namespace internal

// Trailing metadata key of a FAILED_PRECONDITION from Append: the stream's actual version.
inline constexpr char kActualVersionMetadataKey[] = "carehub-actual-version";

struct EventStoreServiceOptions {
  // Threads running the store's blocking calls. Appends beyond this wait in a queue; more
  // threads let more concurrent appends share one fsync.
  size_t worker_threads = 16;
  // Soft bound on the events in one response message (ReadStream, ReadAll, each Subscribe
  // response); an event larger than it is still sent, alone. Keep it under what clients accept
  // (gRPC's default maximum receive size is 4 MiB).
  size_t max_response_bytes = 3u << 20;
  // A caught-up subscriber whose filter skips events is sent its advanced checkpoint at most
  // once per this many positions.
  uint64_t checkpoint_interval = 1024;
};

class EventStoreService final : public eventstore::v1::EventStore::CallbackService {
 public:
  // `store` is not owned and must outlive the service.
  explicit EventStoreService(eventstore::EventStore* store, EventStoreServiceOptions options = {});
  EventStoreService(const EventStoreService&) = delete;
  EventStoreService& operator=(const EventStoreService&) = delete;
  // Runs the work still queued, then joins the executor.
  ~EventStoreService() override;

  // The largest request the service must accept for a store with `limits`: a full batch plus
  // per-event framing. For GrpcServerOptions::max_receive_message_bytes.
  static int MaxRequestBytes(const eventstore::Limits& limits);

  // Ends every subscription with UNAVAILABLE and refuses new ones, so that a server drain does
  // not wait for subscribers until its deadline. Unary calls are unaffected. Idempotent.
  void BeginShutdown();

  // Subscribe calls not yet completed, and a wait for there to be none (true if none within
  // `timeout`).
  size_t ActiveSubscriptions() const;
  bool AwaitNoActiveSubscriptions(absl::Duration timeout) const;

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* context,
                                   const eventstore::v1::AppendRequest* request,
                                   eventstore::v1::AppendResponse* response) override;
  grpc::ServerUnaryReactor* ReadStream(grpc::CallbackServerContext* context,
                                       const eventstore::v1::ReadStreamRequest* request,
                                       eventstore::v1::ReadStreamResponse* response) override;
  grpc::ServerUnaryReactor* ReadAll(grpc::CallbackServerContext* context,
                                    const eventstore::v1::ReadAllRequest* request,
                                    eventstore::v1::ReadAllResponse* response) override;
  grpc::ServerWriteReactor<eventstore::v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context,
      const eventstore::v1::SubscribeRequest* request) override;
  grpc::ServerUnaryReactor* Head(grpc::CallbackServerContext* context,
                                 const eventstore::v1::HeadRequest* request,
                                 eventstore::v1::HeadResponse* response) override;
  grpc::ServerUnaryReactor* Verify(grpc::CallbackServerContext* context,
                                   const eventstore::v1::VerifyRequest* request,
                                   eventstore::v1::VerifyResponse* response) override;

 private:
  eventstore::EventStore* const store_;
  const EventStoreServiceOptions options_;
  // Shared with subscription callbacks that the store may still hold after a reactor is gone.
  const std::shared_ptr<Executor> executor_;
  const std::unique_ptr<internal::SubscriptionRegistry> subscriptions_;
};

// The work of EventStore.Verify on `store`, for every service that verifies a log it keeps (the
// care log here; the access log in carehub.audit.v1.AccessLog). Blocks for the whole chain: call
// it on an executor, not on a gRPC callback thread.
grpc::Status VerifyLog(eventstore::EventStore& store, const eventstore::v1::VerifyRequest& request,
                       eventstore::v1::VerifyResponse* response);

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_EVENTSTORE_SERVICE_H_
