#include "carehub/services/eventstore_service.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/base/log.h"
#include "carehub/services/common/executor.h"
#include "carehub/services/common/grpc_status.h"
#include "services/eventstore/internal/proto_conversion.h"
#include "services/eventstore/internal/subscribe_reactor.h"

namespace carehub::services {
namespace {

namespace es = ::carehub::eventstore;
namespace pb = ::carehub::eventstore::v1;
using internal::FromProto;
using internal::ToProto;

grpc::Status InvalidArgument(std::string_view message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(message));
}

grpc::Status Failed(std::string_view rpc, const absl::Status& status) {
  return ToGrpcStatusLogged("eventstore.rpc.failed", rpc, status);
}

// The count of events from the front of `events` that fit in `max_bytes`; at least one.
size_t FittingPrefix(const std::vector<es::RecordedEvent>& events, size_t max_bytes) {
  size_t bytes = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    bytes += internal::EncodedSizeEstimate(events[i]);
    if (i > 0 && bytes > max_bytes) return i;
  }
  return events.size();
}

// Checks what the proto can express and the library's types cannot (an absent expected
// version); everything else (id syntax, sizes, counts) is the store's to judge.
grpc::Status ParseAppend(const pb::AppendRequest& request, es::ExpectedVersion* expected,
                         std::vector<es::ProposedEvent>* events) {
  if (request.stream_id().empty()) return InvalidArgument("stream_id is required");
  if (!request.has_expected_version()) {
    return InvalidArgument("expected_version is required: one of any, no_stream, stream_exists, exact");
  }
  absl::StatusOr<es::ExpectedVersion> parsed = FromProto(request.expected_version());
  if (!parsed.ok()) return ToGrpcStatus(parsed.status());
  if (request.events().empty()) return InvalidArgument("events must not be empty");
  *expected = *parsed;
  events->reserve(request.events_size());
  for (const pb::ProposedEvent& event : request.events()) events->push_back(FromProto(event));
  return grpc::Status::OK;
}

grpc::Status AppendOutcome(grpc::CallbackServerContext* context, const absl::StatusOr<es::AppendResult>& result,
                           pb::AppendResponse* response) {
  if (!result.ok()) {
    if (std::optional<std::optional<uint64_t>> conflict = es::AppendConflict(result.status())) {
      context->AddTrailingMetadata(kActualVersionMetadataKey,
                                   conflict->has_value() ? absl::StrCat(**conflict) : "none");
    }
    return Failed("Append", result.status());
  }
  response->set_first_position(result->first_position);
  response->set_last_position(result->last_position);
  response->set_first_version(result->first_version);
  response->set_last_version(result->last_version);
  response->set_idempotent_replay(result->idempotent_replay);
  return grpc::Status::OK;
}

grpc::Status DoReadStream(es::EventStore& store, size_t max_response_bytes,
                          const pb::ReadStreamRequest& request, pb::ReadStreamResponse* response) {
  if (request.stream_id().empty()) return InvalidArgument("stream_id is required");
  es::ReadStreamRequest read;
  read.stream_id = request.stream_id();
  if (request.has_from_version()) read.from_version = request.from_version();
  read.backwards = request.backwards();
  if (request.limit() > 0) read.limit = request.limit();

  absl::StatusOr<std::vector<es::RecordedEvent>> events = store.ReadStream(read);
  if (!events.ok()) return Failed("ReadStream", events.status());

  const size_t count = FittingPrefix(*events, max_response_bytes);
  std::optional<uint64_t> next_version;
  if (count < events->size()) {
    next_version = (*events)[count].version;
  } else if (!events->empty()) {
    // The store caps the limit without saying so; ask where the stream ends instead of
    // guessing from the page size.
    const uint64_t last = events->back().version;
    if (read.backwards) {
      if (last > 0) next_version = last - 1;
    } else {
      absl::StatusOr<uint64_t> stream_version = store.StreamVersion(read.stream_id);
      if (stream_version.ok() && *stream_version > last) next_version = last + 1;
    }
  }
  if (next_version.has_value()) response->set_next_version(*next_version);
  for (size_t i = 0; i < count; ++i) ToProto(std::move((*events)[i]), response->add_events());
  return grpc::Status::OK;
}

grpc::Status DoReadAll(es::EventStore& store, size_t max_response_bytes,
                       const pb::ReadAllRequest& request, pb::ReadAllResponse* response) {
  es::ReadAllRequest read;
  if (request.has_from_position()) read.from_position = request.from_position();
  read.backwards = request.backwards();
  if (request.limit() > 0) read.limit = request.limit();
  read.stream_prefix = request.stream_prefix();
  read.event_types.assign(request.event_types().begin(), request.event_types().end());
  read.max_scan = request.max_scan();

  absl::StatusOr<es::ReadAllResult> result = store.ReadAll(read);
  if (!result.ok()) return Failed("ReadAll", result.status());

  std::vector<es::RecordedEvent>& events = result->events;
  const size_t count = FittingPrefix(events, max_response_bytes);
  // Positions are an inclusive start in both directions, so a cut resumes at the first event
  // left out.
  std::optional<uint64_t> next_position =
      count < events.size() ? std::optional<uint64_t>(events[count].position) : result->next_position;
  if (next_position.has_value()) response->set_next_position(*next_position);
  for (size_t i = 0; i < count; ++i) ToProto(std::move(events[i]), response->add_events());
  return grpc::Status::OK;
}

}  // namespace

EventStoreService::EventStoreService(es::EventStore* store, EventStoreServiceOptions options)
    : store_(store),
      options_(options),
      executor_(std::make_shared<Executor>(options.worker_threads)),
      subscriptions_(std::make_unique<internal::SubscriptionRegistry>()) {}

EventStoreService::~EventStoreService() {
  subscriptions_->BeginShutdown();
  executor_->Shutdown();
}

int EventStoreService::MaxRequestBytes(const es::Limits& limits) {
  // Ids, types and protobuf framing come on top of the data + metadata bound.
  const size_t per_event = limits.max_event_id_bytes + limits.max_event_type_bytes + 32;
  const size_t bytes = limits.max_batch_bytes + limits.max_batch_events * per_event +
                       limits.max_stream_id_bytes + 1024;
  return static_cast<int>(std::min<size_t>(bytes, std::numeric_limits<int>::max()));
}

void EventStoreService::BeginShutdown() { subscriptions_->BeginShutdown(); }

size_t EventStoreService::ActiveSubscriptions() const { return subscriptions_->size(); }

bool EventStoreService::AwaitNoActiveSubscriptions(absl::Duration timeout) const {
  return subscriptions_->AwaitEmpty(timeout);
}

grpc::ServerUnaryReactor* EventStoreService::Append(grpc::CallbackServerContext* context,
                                                    const pb::AppendRequest* request,
                                                    pb::AppendResponse* response) {
  // No executor hop: the store queues the append and finishes the call from its completer
  // thread once the events are durable, so no thread waits per append.
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  es::ExpectedVersion expected = es::ExpectedVersion::Any();
  std::vector<es::ProposedEvent> events;
  if (grpc::Status parsed = ParseAppend(*request, &expected, &events); !parsed.ok()) {
    reactor->Finish(parsed);
    return reactor;
  }
  store_->AppendAsync(request->stream_id(), expected, std::move(events),
                      [context, reactor, response](absl::StatusOr<es::AppendResult> result) {
                        reactor->Finish(AppendOutcome(context, result, response));
                      });
  return reactor;
}

grpc::ServerUnaryReactor* EventStoreService::ReadStream(grpc::CallbackServerContext* context,
                                                        const pb::ReadStreamRequest* request,
                                                        pb::ReadStreamResponse* response) {
  return FinishOnExecutor(*executor_, context, [this, request, response] {
    return DoReadStream(*store_, options_.max_response_bytes, *request, response);
  });
}

grpc::ServerUnaryReactor* EventStoreService::ReadAll(grpc::CallbackServerContext* context,
                                                     const pb::ReadAllRequest* request,
                                                     pb::ReadAllResponse* response) {
  return FinishOnExecutor(*executor_, context, [this, request, response] {
    return DoReadAll(*store_, options_.max_response_bytes, *request, response);
  });
}

grpc::ServerWriteReactor<pb::SubscribeResponse>* EventStoreService::Subscribe(
    grpc::CallbackServerContext* context, const pb::SubscribeRequest* request) {
  es::SubscribeOptions options;
  options.from_position = request->from_position();
  options.stream_prefix = request->stream_prefix();
  options.event_types.assign(request->event_types().begin(), request->event_types().end());
  if (request->max_batch() > 0) options.max_batch = request->max_batch();
  // Creating a subscription only records its cursor; the reads happen in the reactor's polls.
  return internal::SubscribeReactor::Start(
      store_->Subscribe(options),
      {.max_response_bytes = options_.max_response_bytes,
       .checkpoint_interval = options_.checkpoint_interval},
      executor_, subscriptions_.get());
}

grpc::ServerUnaryReactor* EventStoreService::Head(grpc::CallbackServerContext* context,
                                                  const pb::HeadRequest* request,
                                                  pb::HeadResponse* response) {
  // The head is kept in memory: answer inline, without a thread hop.
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<eventstore::LogHead> head = store_->Head();
  if (head.ok()) ToProto(*head, response->mutable_head());
  reactor->Finish(head.ok() ? grpc::Status::OK : Failed("Head", head.status()));
  return reactor;
}

grpc::ServerUnaryReactor* EventStoreService::Verify(grpc::CallbackServerContext* context,
                                                    const pb::VerifyRequest* request,
                                                    pb::VerifyResponse* response) {
  return FinishOnExecutor(*executor_, context, [this, request, response] {
    return VerifyLog(*store_, *request, response);
  });
}

grpc::Status VerifyLog(es::EventStore& store, const pb::VerifyRequest& request, pb::VerifyResponse* response) {
  std::optional<es::LogHead> from;
  if (request.has_from()) {
    absl::StatusOr<es::LogHead> head = FromProto(request.from());
    if (!head.ok()) return ToGrpcStatus(head.status());
    from = *head;
  }
  absl::StatusOr<es::VerifyResult> result = store.Verify(from);
  if (!result.ok()) return Failed("Verify", result.status());
  if (!result->ok) {
    // Evidence of tampering or corruption: always worth an operator's attention.
    LOG_ERROR("eventstore.verify.mismatch")
        .Kv("first_bad_position", result->first_bad_position.value_or(0))
        .Kv("problem", result->problem);
  }
  ToProto(*result, response);
  return grpc::Status::OK;
}

}  // namespace carehub::services
