// EventStoreClientTest: a real event store in a temporary directory, served by EventStoreService
// on a real gRPC server on 127.0.0.1, and the client under test connected to it. The server can
// be stopped and started again on the same port over the same data, to test reconnection.
// Test-only.
#ifndef CAREHUB_SERVICES_EVENTSTORE_CLIENT_TESTING_CLIENT_FIXTURE_H_
#define CAREHUB_SERVICES_EVENTSTORE_CLIENT_TESTING_CLIENT_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/eventstore/v1/eventstore.grpc.pb.h"
#include "carehub/services/common/grpc_server.h"
#include "carehub/services/eventstore_client.h"
#include "carehub/services/eventstore_service.h"
#include "carehub/services/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace carehub::services::testing {

class EventStoreClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartServer());
    client_ = Connect(TestOptions());
    ASSERT_NE(client_, nullptr);
  }

  void TearDown() override {
    client_.reset();
    StopServer();
  }

  // Short timeouts so that failure paths finish quickly; generous enough for a sanitizer build.
  static ClientOptions TestOptions() {
    ClientOptions options;
    options.connect_timeout = absl::Seconds(2);
    options.reconnect_initial_backoff = absl::Milliseconds(20);
    options.reconnect_max_backoff = absl::Milliseconds(200);
    return options;
  }

  std::unique_ptr<eventstore::EventStore> Connect(const ClientOptions& options) {
    absl::StatusOr<std::unique_ptr<eventstore::EventStore>> client =
        ConnectEventStore(Target(), options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  // Starts store, service and server; on port_ once it is known, so that a restart keeps the
  // address the client was given.
  void StartServer(const EventStoreServiceOptions& service_options = {}) {
    eventstore::Options store_options;
    store_options.path = dir_.File("eventstore");
    absl::StatusOr<std::unique_ptr<eventstore::EventStore>> store =
        eventstore::EventStore::Open(store_options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    service_ = std::make_unique<EventStoreService>(store_.get(), service_options);
    server_ = std::make_unique<GrpcServer>(GrpcServerOptions{
        .address = absl::StrCat("127.0.0.1:", port_),
        .max_receive_message_bytes = EventStoreService::MaxRequestBytes(store_options.limits),
    });
    server_->AddService(service_.get(), eventstore::v1::EventStore::service_full_name(),
                        [service = service_.get()] { service->BeginShutdown(); });
    absl::StatusOr<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  // As main() does it: the server drains, then the service goes, then the store closes.
  void StopServer() {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(5));
    server_.reset();
    service_.reset();
    store_.reset();
  }

  std::string Target() const { return absl::StrCat("127.0.0.1:", port_); }

  static eventstore::ProposedEvent Event(std::string id, std::string type = "test.NoteAdded",
                                         std::string data = "{\"note\":\"test\"}") {
    return eventstore::ProposedEvent{
        .event_id = std::move(id), .type = std::move(type), .data = std::move(data)};
  }

  // Appends `count` single-event batches to `stream_id` through `store`; ids are unique per test.
  void AppendEvents(eventstore::EventStore& store, const std::string& stream_id, int count) {
    for (int i = 0; i < count; ++i) {
      absl::StatusOr<eventstore::AppendResult> result =
          store.Append(stream_id, eventstore::ExpectedVersion::Any(),
                       {Event(absl::StrCat(stream_id, "-", serial_++))});
      ASSERT_TRUE(result.ok()) << result.status();
    }
  }

  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<eventstore::EventStore> store_;  // the server's, for comparisons
  std::unique_ptr<EventStoreService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<eventstore::EventStore> client_;
  int serial_ = 0;
};

}  // namespace carehub::services::testing

#endif  // CAREHUB_SERVICES_EVENTSTORE_CLIENT_TESTING_CLIENT_FIXTURE_H_
