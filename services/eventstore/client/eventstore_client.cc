// RemoteEventStore: eventstore::EventStore over a gRPC channel. See eventstore_client.h.
#include "carehub/services/eventstore_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "carehub/base/strings.h"
#include "carehub/eventstore/v1/eventstore.grpc.pb.h"
#include "carehub/services/common/grpc_status.h"
#include "services/eventstore/client/internal/proto_mapping.h"
#include "services/eventstore/client/internal/remote_subscription.h"

namespace carehub::services {
namespace {

namespace es = ::carehub::eventstore;
namespace pb = ::carehub::eventstore::v1;
using eventstore_client_internal::FromProto;
using eventstore_client_internal::RemoteSubscription;
using eventstore_client_internal::SubscriptionCore;
using eventstore_client_internal::SubscriptionSettings;
using eventstore_client_internal::ToProto;

// Trailing metadata of a FAILED_PRECONDITION from Append, as eventstore.proto documents it: the
// stream's actual version, decimal, or "none" when the stream does not exist.
constexpr char kActualVersionTrailer[] = "carehub-actual-version";

// The library's default payload bound for one read (Limits::max_read_bytes): ReadStream pages
// through the server's smaller responses up to this, so a caller gets what the library gives.
constexpr size_t kReadStreamBytes = es::Limits().max_read_bytes;

// Rebuilds the library's conflict status from the trailer, so that AppendConflict() reads the
// client's status as it reads the store's. A missing or malformed trailer leaves a plain
// FailedPrecondition (the message still names the version).
absl::Status ConflictFromTrailers(absl::Status status, const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find(kActualVersionTrailer);
  if (it == trailers.end()) return status;
  const std::string text(it->second.data(), it->second.size());
  if (text == "none") return es::WithActualVersion(std::move(status), std::nullopt);
  uint64_t version = 0;
  if (!absl::SimpleAtoi(text, &version)) return status;
  return es::WithActualVersion(std::move(status), version);
}

size_t PayloadBytes(const std::vector<es::RecordedEvent>& events) {
  size_t bytes = 0;
  for (const es::RecordedEvent& event : events) bytes += event.data.size() + event.metadata.size();
  return bytes;
}

pb::AppendRequest AppendRequest(std::string_view stream_id, es::ExpectedVersion expected,
                                const std::vector<es::ProposedEvent>& events) {
  pb::AppendRequest request;
  request.set_stream_id(std::string(stream_id));
  ToProto(expected, request.mutable_expected_version());
  for (const es::ProposedEvent& event : events) ToProto(event, request.add_events());
  return request;
}

absl::StatusOr<es::AppendResult> AppendOutcome(const grpc::Status& status,
                                               const grpc::ClientContext& context,
                                               const pb::AppendResponse& response) {
  if (!status.ok()) {
    absl::Status error = FromGrpcStatus(status);
    if (error.code() == absl::StatusCode::kFailedPrecondition) {
      return ConflictFromTrailers(std::move(error), context);
    }
    return error;
  }
  es::AppendResult result;
  result.first_position = response.first_position();
  result.last_position = response.last_position();
  result.first_version = response.first_version();
  result.last_version = response.last_version();
  result.idempotent_replay = response.idempotent_replay();
  return result;
}

class RemoteEventStore final : public es::EventStore {
 public:
  RemoteEventStore(std::string target, std::shared_ptr<grpc::Channel> channel,
                   const ClientOptions& options)
      : target_(std::move(target)),
        options_(options),
        channel_(std::move(channel)),
        stub_(pb::EventStore::NewStub(channel_)) {}

  // Ends every subscription still open (their Next() returns Unavailable) and waits for their
  // streams to close, so that no thread of ours outlives the client.
  ~RemoteEventStore() override {
    std::vector<std::shared_ptr<SubscriptionCore>> live;
    {
      absl::MutexLock lock(&mu_);
      for (const std::weak_ptr<SubscriptionCore>& weak : subscriptions_) {
        if (std::shared_ptr<SubscriptionCore> core = weak.lock()) live.push_back(std::move(core));
      }
      subscriptions_.clear();
    }
    for (const auto& core : live)
      core->End(absl::UnavailableError("the event store client was closed"));
    for (const auto& core : live) core->AwaitReaderDone();
  }

  absl::StatusOr<es::AppendResult> Append(std::string_view stream_id, es::ExpectedVersion expected,
                                          std::vector<es::ProposedEvent> events) override {
    const pb::AppendRequest request = AppendRequest(stream_id, expected, events);
    grpc::ClientContext context;
    if (absl::Status ready = Prepare(&context, options_.append_timeout); !ready.ok()) return ready;
    pb::AppendResponse response;
    const grpc::Status status = stub_->Append(&context, request, &response);
    return AppendOutcome(status, context, response);
  }

  // An asynchronous call: no thread of the caller's waits for the server's fsync. `done` runs on
  // a gRPC thread, or on this one if the channel does not connect (Prepare may wait for it).
  void AppendAsync(std::string_view stream_id, es::ExpectedVersion expected,
                   std::vector<es::ProposedEvent> events, AppendCallback done) override {
    struct Call {
      pb::AppendRequest request;
      pb::AppendResponse response;
      grpc::ClientContext context;
      AppendCallback done;
    };
    auto call = std::make_shared<Call>();
    call->request = AppendRequest(stream_id, expected, events);
    call->done = std::move(done);
    if (absl::Status ready = Prepare(&call->context, options_.append_timeout); !ready.ok()) {
      return call->done(ready);
    }
    stub_->async()->Append(&call->context, &call->request, &call->response,
                           [call](grpc::Status status) {
                             call->done(AppendOutcome(status, call->context, call->response));
                           });
  }

  // Pages through the server's responses (bounded by its message size) up to the request's
  // limit or the library's byte bound, whichever comes first, as the in-process read would.
  absl::StatusOr<std::vector<es::RecordedEvent>> ReadStream(
      const es::ReadStreamRequest& request) override {
    std::vector<es::RecordedEvent> events;
    std::optional<uint64_t> from = request.from_version;
    const absl::Time deadline = absl::Now() + options_.read_timeout;
    for (;;) {
      pb::ReadStreamRequest page;
      page.set_stream_id(request.stream_id);
      if (from.has_value()) page.set_from_version(*from);
      page.set_backwards(request.backwards);
      if (request.limit > 0) {
        const size_t wanted = request.limit - std::min(request.limit, events.size());
        page.set_limit(static_cast<uint32_t>(std::min<size_t>(wanted, UINT32_MAX)));
      }
      grpc::ClientContext context;
      if (absl::Status ready = PrepareUntil(&context, deadline); !ready.ok()) return ready;
      pb::ReadStreamResponse response;
      grpc::Status status = stub_->ReadStream(&context, page, &response);
      if (!status.ok()) return FromGrpcStatus(status);
      for (pb::RecordedEvent& proto : *response.mutable_events()) {
        absl::StatusOr<es::RecordedEvent> event = FromProto(std::move(proto));
        if (!event.ok()) return event.status();
        events.push_back(*std::move(event));
      }
      if (!response.has_next_version() || response.events_size() == 0) break;
      // A limit of 0 leaves the page size to the server; one page is the answer.
      if (request.limit == 0 || events.size() >= request.limit) break;
      if (PayloadBytes(events) >= kReadStreamBytes) break;
      from = response.next_version();
    }
    return events;
  }

  absl::StatusOr<es::ReadAllResult> ReadAll(const es::ReadAllRequest& request) override {
    pb::ReadAllRequest proto;
    if (request.from_position.has_value()) proto.set_from_position(*request.from_position);
    proto.set_backwards(request.backwards);
    proto.set_limit(static_cast<uint32_t>(std::min<size_t>(request.limit, UINT32_MAX)));
    proto.set_stream_prefix(request.stream_prefix);
    for (const std::string& type : request.event_types) proto.add_event_types(type);
    proto.set_max_scan(request.max_scan);
    grpc::ClientContext context;
    if (absl::Status ready = Prepare(&context, options_.read_timeout); !ready.ok()) return ready;
    pb::ReadAllResponse response;
    grpc::Status status = stub_->ReadAll(&context, proto, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    es::ReadAllResult result;
    result.events.reserve(response.events_size());
    for (pb::RecordedEvent& event_proto : *response.mutable_events()) {
      absl::StatusOr<es::RecordedEvent> event = FromProto(std::move(event_proto));
      if (!event.ok()) return event.status();
      result.events.push_back(*std::move(event));
    }
    if (response.has_next_position()) result.next_position = response.next_position();
    return result;
  }

  // The contract has no StreamVersion RPC: the last event of a backwards read of one event
  // carries the version. Same errors as the library (InvalidArgument for a bad id, NotFound).
  absl::StatusOr<uint64_t> StreamVersion(std::string_view stream_id) override {
    es::ReadStreamRequest request;
    request.stream_id = std::string(stream_id);
    request.backwards = true;
    request.limit = 1;
    absl::StatusOr<std::vector<es::RecordedEvent>> events = ReadStream(request);
    if (!events.ok()) return events.status();
    if (events->empty())
      return absl::NotFoundError(absl::StrCat("stream ", Sv(stream_id), " has no events"));
    return events->front().version;
  }

  absl::StatusOr<es::LogHead> Head() override {
    grpc::ClientContext context;
    absl::Status status = Prepare(&context, options_.read_timeout);
    pb::HeadResponse response;
    if (status.ok()) status = FromGrpcStatus(stub_->Head(&context, pb::HeadRequest(), &response));
    if (!status.ok()) return status;
    return FromProto(response.head());
  }

  absl::StatusOr<es::VerifyResult> Verify(std::optional<es::LogHead> from) override {
    pb::VerifyRequest request;
    if (from.has_value()) ToProto(*from, request.mutable_from());
    grpc::ClientContext context;
    if (absl::Status ready = Prepare(&context, options_.verify_timeout); !ready.ok()) return ready;
    pb::VerifyResponse response;
    grpc::Status status = stub_->Verify(&context, request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return FromProto(response);
  }

  std::unique_ptr<es::Subscription> Subscribe(const es::SubscribeOptions& options) override {
    SubscriptionSettings settings;
    settings.buffer_batches = options_.subscription_buffer_batches;
    settings.initial_backoff = options_.reconnect_initial_backoff;
    settings.max_backoff = options_.reconnect_max_backoff;
    auto core = std::make_shared<SubscriptionCore>(stub_, options, settings);
    {
      absl::MutexLock lock(&mu_);
      std::erase_if(subscriptions_,
                    [](const std::weak_ptr<SubscriptionCore>& weak) { return weak.expired(); });
      subscriptions_.push_back(core);
    }
    core->Start();
    return std::make_unique<RemoteSubscription>(std::move(core));
  }

 private:
  absl::Status Prepare(grpc::ClientContext* context, absl::Duration timeout) {
    return PrepareUntil(context, absl::Now() + timeout);
  }

  // Sets the deadline and, with wait_for_ready, waits (up to connect_timeout, never past the
  // deadline) for the channel to be connected: Unavailable if it does not get there.
  absl::Status PrepareUntil(grpc::ClientContext* context, absl::Time deadline) {
    context->set_deadline(absl::ToChronoTime(deadline));
    if (!options_.wait_for_ready) return absl::OkStatus();
    if (channel_->GetState(/*try_to_connect=*/true) != GRPC_CHANNEL_READY) {
      const absl::Time connect_by = std::min(deadline, absl::Now() + options_.connect_timeout);
      if (!channel_->WaitForConnected(absl::ToChronoTime(connect_by))) {
        return absl::UnavailableError(absl::StrCat("the event store at ", target_,
                                                   " is not reachable within ",
                                                   absl::FormatDuration(options_.connect_timeout)));
      }
    }
    // Carries the call over a reconnect that happens between the check and the call.
    context->set_wait_for_ready(true);
    return absl::OkStatus();
  }

  const std::string target_;
  const ClientOptions options_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::shared_ptr<pb::EventStore::Stub> stub_;

  absl::Mutex mu_;
  std::vector<std::weak_ptr<SubscriptionCore>> subscriptions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<es::EventStore>> ConnectEventStore(const std::string& target,
                                                                  const ClientOptions& options) {
  if (target.empty()) return absl::InvalidArgumentError("the event store target is empty");
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  // The default reconnect backoff grows to two minutes; a hub wants its log back sooner.
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
                   static_cast<int>(absl::ToInt64Milliseconds(options.reconnect_initial_backoff)));
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
                   static_cast<int>(absl::ToInt64Milliseconds(options.reconnect_initial_backoff)));
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                   static_cast<int>(absl::ToInt64Milliseconds(options.reconnect_max_backoff)));
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), arguments);
  if (options.connect_eagerly &&
      !channel->WaitForConnected(absl::ToChronoTime(absl::Now() + options.connect_timeout))) {
    return absl::UnavailableError(absl::StrCat("the event store at ", target,
                                               " is not reachable within ",
                                               absl::FormatDuration(options.connect_timeout)));
  }
  return std::make_unique<RemoteEventStore>(target, std::move(channel), options);
}

}  // namespace carehub::services
