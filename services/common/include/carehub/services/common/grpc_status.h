// The one place where carehub's absl::Status meets grpc::Status. The canonical codes are the
// same set on both sides and map 1:1 (InvalidArgument <-> INVALID_ARGUMENT, ...), so a client
// sees exactly the code the library returned.
#ifndef CAREHUB_SERVICES_COMMON_GRPC_STATUS_H_
#define CAREHUB_SERVICES_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <string_view>

#include "absl/status/status.h"

namespace carehub::services {

// Same code, same message. Payloads are not carried; put what a client needs in trailing
// metadata at the call site.
grpc::Status ToGrpcStatus(const absl::Status& status);

// ToGrpcStatus for a service's answer to `rpc`. Failures that are the server's fault (Internal,
// DataLoss, Unknown) are logged as `event` with the code and message; the caller's own errors
// (a bad request, a refused command) are answers and are only returned. Messages name internal
// ids only, never a personnummer.
grpc::Status ToGrpcStatusLogged(std::string_view event, std::string_view rpc, const absl::Status& status);

// The inverse, for carehub code that calls other services over gRPC.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_COMMON_GRPC_STATUS_H_
