// The event store over gRPC: the EventStoreService in an in-process server on 127.0.0.1:0
// (LoopbackServer), called through a real channel. Appends are compared with the echo baseline
// (echo_baseline.h); the Subscribe catch-up with an absolute target.
#ifndef CAREHUB_SERVICES_EVENTSTORE_BENCH_SERVICE_BENCH_H_
#define CAREHUB_SERVICES_EVENTSTORE_BENCH_SERVICE_BENCH_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/eventstore/bench/closed_loop.h"
#include "services/eventstore/bench/loopback_server.h"

namespace carehub::bench {

struct WireSizes {
  size_t request_bytes = 0;
  size_t response_bytes = 0;
};

// The serialized sizes of a one-event AppendRequest and its AppendResponse as this benchmark
// sends them: what the echo baseline must carry to be comparable.
WireSizes OneEventAppendWireSizes(const std::string& run_nonce);

struct ServiceAppendSpec {
  LoadSpec load;  // load.workers concurrent clients, sharing one channel
  // Each client appends one event per call to its own stream "<stream_prefix>-<run_nonce>-<n>",
  // with an exact expected version (no_stream first).
  std::string stream_prefix;
  std::string run_nonce;
};

// `server` must host an EventStoreService. The result's ops are appends (one event each).
absl::StatusOr<LoadResult> RunServiceAppends(const LoopbackServer& server,
                                             const ServiceAppendSpec& spec);

// Subscribes from position 0 and reads until `events` events have arrived (gapless) or `limit`
// passes. The result's ops are responses, items are events.
absl::StatusOr<LoadResult> RunServiceSubscribeCatchUp(const LoopbackServer& server, uint64_t events,
                                                      uint32_t max_batch, absl::Duration limit);

}  // namespace carehub::bench

#endif  // CAREHUB_SERVICES_EVENTSTORE_BENCH_SERVICE_BENCH_H_
