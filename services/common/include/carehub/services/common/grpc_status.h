// The one place where carehub's absl::Status meets grpc::Status. The canonical codes are the
// same set on both sides and map 1:1 (InvalidArgument <-> INVALID_ARGUMENT, ...), so a client
// sees exactly the code the library returned.
#ifndef CAREHUB_SERVICES_COMMON_GRPC_STATUS_H_
#define CAREHUB_SERVICES_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace carehub::services {

// Same code, same message. Payloads are not carried; put what a client needs in trailing
// metadata at the call site.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The inverse, for carehub code that calls other services over gRPC.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_COMMON_GRPC_STATUS_H_
