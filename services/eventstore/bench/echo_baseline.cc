#include "services/eventstore/bench/echo_baseline.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "carehub/base/status_macros.h"
#include "carehub/bench/echo.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/server_callback.h"
#include "services/eventstore/bench/grpc_status.h"
#include "services/eventstore/bench/loopback_server.h"

namespace carehub::bench {
namespace {

// Answers at once, on the gRPC thread that received the call: the least a unary service can do.
class EchoService final : public Echo::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context, const EchoRequest* request,
                                 EchoResponse* response) override {
    response->mutable_payload()->assign(request->response_bytes(), 'e');
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

Operation MakeCaller(std::shared_ptr<Echo::Stub> stub, const EchoSpec& spec) {
  auto request = std::make_shared<EchoRequest>();
  request->set_payload(std::string(spec.request_bytes, 'p'));
  request->set_response_bytes(static_cast<uint32_t>(spec.response_bytes));
  return [stub, request]() -> absl::StatusOr<uint64_t> {
    grpc::ClientContext context;
    SetDeadline(context);
    EchoResponse response;
    RETURN_IF_ERROR(FromGrpc(stub->Echo(&context, *request, &response)));
    return 1;
  };
}

}  // namespace

absl::StatusOr<LoadResult> RunEchoBaseline(const EchoSpec& spec) {
  EchoService service;
  ASSIGN_OR_RETURN(std::unique_ptr<LoopbackServer> server, LoopbackServer::Start({&service}));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, server->NewChannel());
  std::shared_ptr<Echo::Stub> stub = Echo::NewStub(channel);
  return RunClosedLoop(spec.load, [&](int) { return MakeCaller(stub, spec); });
}

}  // namespace carehub::bench
