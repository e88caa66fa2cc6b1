// gRPC client helpers of the benchmark: status conversion and call deadlines.
#ifndef CAREHUB_SERVICES_EVENTSTORE_BENCH_GRPC_STATUS_H_
#define CAREHUB_SERVICES_EVENTSTORE_BENCH_GRPC_STATUS_H_

#include <chrono>

#include "absl/status/status.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace carehub::bench {

// Every benchmark call carries a deadline, so a stalled server fails the figure instead of hanging
// the run.
inline constexpr std::chrono::seconds kCallDeadline{30};

inline void SetDeadline(grpc::ClientContext& context, std::chrono::seconds after = kCallDeadline) {
  context.set_deadline(std::chrono::system_clock::now() + after);
}

// Converts a gRPC status to absl::Status, code for code (the two code sets are numerically
// identical by design).
inline absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace carehub::bench

#endif  // CAREHUB_SERVICES_EVENTSTORE_BENCH_GRPC_STATUS_H_
