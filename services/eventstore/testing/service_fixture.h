// EventStoreServiceTest: a real event store in a temporary directory, served by
// EventStoreService on a real gRPC server on 127.0.0.1:0, and a client stub over a real
// channel. Test-only.
#ifndef CAREHUB_SERVICES_EVENTSTORE_TESTING_SERVICE_FIXTURE_H_
#define CAREHUB_SERVICES_EVENTSTORE_TESTING_SERVICE_FIXTURE_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/eventstore/v1/eventstore.grpc.pb.h"
#include "carehub/services/common/grpc_server.h"
#include "carehub/services/eventstore_service.h"
#include "carehub/services/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "services/eventstore/testing/event_builders.h"

namespace carehub::services::testing {

inline std::chrono::system_clock::time_point CallDeadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(30);
}

class EventStoreServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartServer(EventStoreServiceOptions())); }
  void TearDown() override { StopServer(); }

  // (Re)starts store, service and server; a test that needs other options calls this again.
  void StartServer(const EventStoreServiceOptions& options) {
    StopServer();
    eventstore::Options store_options;
    store_options.path = dir_.File("eventstore");
    absl::StatusOr<std::unique_ptr<eventstore::EventStore>> store =
        eventstore::EventStore::Open(store_options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    service_ = std::make_unique<EventStoreService>(store_.get(), options);
    server_ = std::make_unique<GrpcServer>(GrpcServerOptions{
        .address = "127.0.0.1:0",
        .max_receive_message_bytes = EventStoreService::MaxRequestBytes(store_options.limits),
    });
    server_->AddService(service_.get(), eventstore::v1::EventStore::service_full_name(),
                        [service = service_.get()] { service->BeginShutdown(); });
    absl::StatusOr<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(64 << 20);
    channel_ = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", *port),
                                         grpc::InsecureChannelCredentials(), arguments);
    stub_ = eventstore::v1::EventStore::NewStub(channel_);
  }

  // In the order main() uses: the server drains, then the service, then the store closes.
  void StopServer() {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(5));
    stub_.reset();
    channel_.reset();
    server_.reset();
    service_.reset();
    store_.reset();
  }

  grpc::Status Append(const eventstore::v1::AppendRequest& request,
                      eventstore::v1::AppendResponse* response = nullptr,
                      std::string* actual_version_trailer = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(CallDeadline());
    eventstore::v1::AppendResponse ignored;
    grpc::Status status = stub_->Append(&context, request, response ? response : &ignored);
    if (actual_version_trailer != nullptr) {
      auto trailers = context.GetServerTrailingMetadata();
      auto it = trailers.find(kActualVersionMetadataKey);
      *actual_version_trailer =
          it == trailers.end() ? "<absent>" : std::string(it->second.data(), it->second.size());
    }
    return status;
  }

  // Appends `count` events to `stream_id` one at a time; ids are "<stream_id>-<n>".
  void AppendEvents(const std::string& stream_id, int count, const std::string& data = "{}") {
    for (int i = 0; i < count; ++i) {
      grpc::Status status = Append(MakeAppend(
          stream_id, ExpectAny(),
          {TestEvent(absl::StrCat(stream_id, "-", NextSerial()), "test.NoteAdded", data)}));
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
  }

  eventstore::v1::LogHead Head() {
    grpc::ClientContext context;
    context.set_deadline(CallDeadline());
    eventstore::v1::HeadResponse response;
    grpc::Status status = stub_->Head(&context, eventstore::v1::HeadRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.head();
  }

  grpc::Status ReadStream(const eventstore::v1::ReadStreamRequest& request,
                          eventstore::v1::ReadStreamResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(CallDeadline());
    return stub_->ReadStream(&context, request, response);
  }

  grpc::Status ReadAll(const eventstore::v1::ReadAllRequest& request,
                       eventstore::v1::ReadAllResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(CallDeadline());
    return stub_->ReadAll(&context, request, response);
  }

  int NextSerial() { return serial_++; }

  TempDir dir_;
  std::unique_ptr<eventstore::EventStore> store_;
  std::unique_ptr<EventStoreService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<eventstore::v1::EventStore::Stub> stub_;
  int serial_ = 0;
};

}  // namespace carehub::services::testing

#endif  // CAREHUB_SERVICES_EVENTSTORE_TESTING_SERVICE_FIXTURE_H_
