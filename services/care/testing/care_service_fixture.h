// CareServiceFixture: the care service on real gRPC (127.0.0.1:0) over an in-process event
// store in a temp dir, with a ManualClock and a seeded patient-id generator, so that tests that
// drive the CareService API are deterministic. Payment responsibility follows one regional
// agreement: 5 calendar days, cut-off 12:00.
//
//   class MyTest : public CareServiceFixture {
//    protected:
//     MyTest() : CareServiceFixture(start_time, /*seed=*/7) {}
//   };
//   // in a test: stub_->Execute(&context, request, &response);
#ifndef CAREHUB_SERVICES_CARE_TESTING_CARE_SERVICE_FIXTURE_H_
#define CAREHUB_SERVICES_CARE_TESTING_CARE_SERVICE_FIXTURE_H_

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cstdint>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/care/care_commands.h"
#include "carehub/care/hub_key.h"
#include "carehub/care/patient_id.h"
#include "carehub/care/payment_agreements.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/services/care_service.h"
#include "carehub/services/common/grpc_server.h"
#include "carehub/services/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace carehub::services::testing {

class CareServiceFixture : public ::testing::Test {
 protected:
  CareServiceFixture(absl::Time start, uint64_t seed) : clock_(start), gen_(seed) {}

  void SetUp() override {
    store_ = *eventstore::EventStore::Open({.path = dir_.File("log"), .clock = &clock_});
    ids_ = care::NewBitGenPatientIdGenerator(gen_);
    care::PaymentAgreement agreement{.agreement_id = "test-region-agreement",
                                     .version = "2026-1",
                                     .days = 5,
                                     .day_type = care::DayType::kCalendar,
                                     .cut_off_hour = 12,
                                     .daily_rate_ore = 850000};
    commands_ = *care::CareCommands::Create(
        store_.get(), {.clock = &clock_,
                       .ids = ids_.get(),
                       .hub_key = *care::LoadOrCreateHubKey(dir_.File("hub.key")),
                       .payment_agreements = {agreement}});
    service_ = std::make_unique<CareService>(commands_.get());
    server_ = std::make_unique<GrpcServer>(GrpcServerOptions{.address = "127.0.0.1:0"});
    server_->AddService(service_.get(), care::v1::CareService::service_full_name());
    absl::StatusOr<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    stub_ = care::v1::CareService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", *port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_) server_->Shutdown(absl::Seconds(5));
  }

  TempDir dir_;
  ManualClock clock_;
  std::mt19937_64 gen_;
  std::unique_ptr<eventstore::EventStore> store_;
  std::unique_ptr<care::PatientIdGenerator> ids_;
  std::unique_ptr<care::CareCommands> commands_;
  std::unique_ptr<CareService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<care::v1::CareService::Stub> stub_;
};

}  // namespace carehub::services::testing

#endif  // CAREHUB_SERVICES_CARE_TESTING_CARE_SERVICE_FIXTURE_H_
