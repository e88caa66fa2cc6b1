#include "services/eventstore/bench/service_bench.h"

#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "carehub/eventstore/v1/eventstore.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "services/eventstore/bench/catch_up.h"
#include "services/eventstore/bench/event_factory.h"
#include "services/eventstore/bench/grpc_status.h"

namespace carehub::bench {
namespace {

namespace v1 = ::carehub::eventstore::v1;

void ToProto(const eventstore::ProposedEvent& event, v1::ProposedEvent& proto) {
  proto.set_event_id(event.event_id);
  proto.set_type(event.type);
  proto.set_data(event.data);
  proto.set_metadata(event.metadata);
}

// One client's next append: its stream, the version it last wrote, a fresh event.
v1::AppendRequest NextAppend(const std::string& stream_id, std::optional<uint64_t> version,
                             EventFactory& events) {
  v1::AppendRequest request;
  request.set_stream_id(stream_id);
  if (version.has_value()) {
    request.mutable_expected_version()->set_exact(*version);
  } else {
    request.mutable_expected_version()->mutable_no_stream();
  }
  ToProto(events.Next(), *request.add_events());
  return request;
}

struct ClientState {
  ClientState(const ServiceAppendSpec& spec, int worker)
      : events(spec.run_nonce, worker),
        stream_id(absl::StrCat(spec.stream_prefix, "-", spec.run_nonce, "-", worker)) {}

  EventFactory events;
  std::string stream_id;
  std::optional<uint64_t> version;
};

Operation MakeAppendCaller(std::shared_ptr<v1::EventStore::Stub> stub,
                           const ServiceAppendSpec& spec, int worker) {
  auto state = std::make_shared<ClientState>(spec, worker);
  return [stub, state]() -> absl::StatusOr<uint64_t> {
    const v1::AppendRequest request = NextAppend(state->stream_id, state->version, state->events);
    grpc::ClientContext context;
    SetDeadline(context);
    v1::AppendResponse response;
    RETURN_IF_ERROR(FromGrpc(stub->Append(&context, request, &response)));
    state->version = response.last_version();
    return 1;
  };
}

// One open Subscribe call and the check on what it delivers.
struct SubscribeCall {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader;
  GaplessCheck check;
  bool finished = false;  // Finish() was called; it must not be called twice
};

absl::StatusOr<uint64_t> ReadOneResponse(SubscribeCall& call) {
  v1::SubscribeResponse response;
  if (!call.reader->Read(&response)) {
    call.finished = true;
    RETURN_IF_ERROR(FromGrpc(call.reader->Finish()));
    return absl::UnavailableError("Subscribe stream ended");
  }
  for (const v1::RecordedEvent& event : response.events()) {
    RETURN_IF_ERROR(call.check.Expect(event.position()));
  }
  return response.events_size();
}

}  // namespace

WireSizes OneEventAppendWireSizes(const std::string& run_nonce) {
  EventFactory events(run_nonce, 0);
  v1::AppendResponse response;
  // Positions and versions of a store some way into its life.
  response.set_first_position(1'234'567);
  response.set_last_position(1'234'567);
  response.set_first_version(42);
  response.set_last_version(42);
  return {.request_bytes = NextAppend("bench.grpc-sizing-0", 41, events).ByteSizeLong(),
          .response_bytes = response.ByteSizeLong()};
}

absl::StatusOr<LoadResult> RunServiceAppends(const LoopbackServer& server,
                                             const ServiceAppendSpec& spec) {
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, server.NewChannel());
  std::shared_ptr<v1::EventStore::Stub> stub = v1::EventStore::NewStub(channel);
  return RunClosedLoop(spec.load, [&](int worker) { return MakeAppendCaller(stub, spec, worker); });
}

absl::StatusOr<LoadResult> RunServiceSubscribeCatchUp(const LoopbackServer& server, uint64_t events,
                                                      uint32_t max_batch, absl::Duration limit) {
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, server.NewChannel());
  std::unique_ptr<v1::EventStore::Stub> stub = v1::EventStore::NewStub(channel);
  SubscribeCall call;
  v1::SubscribeRequest request;
  request.set_from_position(0);
  request.set_max_batch(max_batch);
  // The call is opened before the clock starts, so the server may have sent its first responses
  // by then: a head start of at most the transport's flow-control window.
  SetDeadline(call.context, absl::ToChronoSeconds(limit) + kCallDeadline);
  call.reader = stub->Subscribe(&call.context, request);
  LoadResult result =
      RunClosedLoop({.workers = 1, .duration = limit, .max_items_per_worker = events},
                    [&](int) -> Operation { return [&call] { return ReadOneResponse(call); }; });
  if (!call.finished) {
    call.context.TryCancel();
    call.reader->Finish();  // CANCELLED, as asked
  }
  return result;
}

}  // namespace carehub::bench
