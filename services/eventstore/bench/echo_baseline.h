// The gRPC baseline: a callback-API unary service that does no work, called by N concurrent
// clients over loopback.
//
// Why it is the fair comparison for the event store's Append over gRPC: same server set-up
// (LoopbackServer), same callback API, same client threads and channel, and the same bytes on
// the wire each way (the caller passes the serialized sizes of an Append request and response).
// What remains is the cost of the store and of the service's own code, which is what the target
// ">= 0.7× echo" bounds.
#ifndef CAREHUB_SERVICES_EVENTSTORE_BENCH_ECHO_BASELINE_H_
#define CAREHUB_SERVICES_EVENTSTORE_BENCH_ECHO_BASELINE_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "services/eventstore/bench/closed_loop.h"

namespace carehub::bench {

struct EchoSpec {
  LoadSpec load;  // load.workers concurrent callers
  size_t request_bytes = 512;
  size_t response_bytes = 32;
};

absl::StatusOr<LoadResult> RunEchoBaseline(const EchoSpec& spec);

}  // namespace carehub::bench

#endif  // CAREHUB_SERVICES_EVENTSTORE_BENCH_ECHO_BASELINE_H_
