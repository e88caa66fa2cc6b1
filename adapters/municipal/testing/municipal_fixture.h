// MunicipalFixture: a real care service on gRPC (CareServiceFixture: 127.0.0.1:0, an event log in
// a temp dir, a ManualClock) plus an Importer over a real channel to it, and helpers to enrol
// the test patients and to read what their streams hold.
//
//   class MyTest : public MunicipalFixture {};
//   TEST_F(MyTest, X) {
//     const std::string tolvan = Enrol(kTolvan);
//     ImportReport r = importer_->Import(file, {.kind = FileKind::kJsonLines});
//     EXPECT_EQ(EventTypes(tolvan), ...);
//   }
#ifndef CAREHUB_ADAPTERS_MUNICIPAL_TESTING_MUNICIPAL_FIXTURE_H_
#define CAREHUB_ADAPTERS_MUNICIPAL_TESTING_MUNICIPAL_FIXTURE_H_

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "carehub/municipal/importer.h"
#include "carehub/municipal/record_mapping.h"
#include "services/care/testing/care_service_fixture.h"

namespace carehub::municipal::testing {

// Test identities (Skatteverket's published test personnummer).
inline constexpr char kTolvan[] = "19121212-1212";
inline constexpr char kTolvanNormalised[] = "191212121212";
inline constexpr char kSecond[] = "19000101-0008";  // a second test patient

class MunicipalFixture : public services::testing::CareServiceFixture {
 protected:
  MunicipalFixture()
      : CareServiceFixture(absl::FromCivil(absl::CivilSecond(2026, 11, 18, 6, 0, 0),
                                           absl::UTCTimeZone()),
                           /*seed=*/7) {}

  void SetUp() override {
    CareServiceFixture::SetUp();
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    importer_ = std::make_unique<Importer>(
        channel_, *RecordMapper::Create({.source_system = "lifecare-test", .clock = &clock_}),
        ImporterOptions{.max_in_flight = 16, .initial_backoff = absl::Milliseconds(10)});
  }

  // Enrols the patient (primary care, region), which opens a draft plan and a team; returns the
  // internal patient id.
  std::string Enrol(const std::string& personnummer) {
    care::v1::CommandRequest command;
    command.set_command_id(absl::StrCat("enrol-", enrolled_++));
    command.mutable_patient()->mutable_identifier()->set_kind(
        care::v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
    command.mutable_patient()->mutable_identifier()->set_value(personnummer);
    command.mutable_source()->set_system("vardcentral-test");
    command.mutable_data_owner()->set_kind(care::v1::DATA_OWNER_KIND_REGION);
    command.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(clock_.Now()));
    command.mutable_patient_enrolled()->set_target_group(care::v1::TARGET_GROUP_MOST_ILL);
    grpc::ClientContext context;
    care::v1::CommandResponse response;
    const grpc::Status status = stub_->Execute(&context, command, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.patient_id();
  }

  // The payload type names of the patient's events, in stream order
  // (e.g. "carehub.care.v1.ActivityPlanned").
  std::vector<std::string> EventTypes(const std::string& patient_id) {
    absl::StatusOr<std::vector<eventstore::RecordedEvent>> events =
        store_->ReadStream({.stream_id = "patient-" + patient_id, .limit = 10000});
    EXPECT_TRUE(events.ok()) << events.status();
    std::vector<std::string> types;
    if (events.ok()) {
      for (const eventstore::RecordedEvent& e : *events) types.push_back(e.type);
    }
    return types;
  }

  uint64_t LogSize() {
    absl::StatusOr<uint64_t> end = eventstore::LogEnd(*store_);
    EXPECT_TRUE(end.ok()) << end.status();
    return end.value_or(0);
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Importer> importer_;
  int enrolled_ = 0;
};

// The common fields of a JSON Lines record for `personnummer`, without the closing brace.
inline std::string JsonRecord(const std::string& type, const std::string& record_id,
                              const std::string& personnummer = kTolvan,
                              const std::string& owner = "SoL") {
  return absl::StrCat(R"({"format":"carehub-municipal/1","record_type":")", type,
                      R"(","record_id":")", record_id, R"(","personnummer":")", personnummer,
                      R"(","owner":")", owner, R"(","occurred_at":"2026-11-18 08:00")");
}

}  // namespace carehub::municipal::testing

#endif  // CAREHUB_ADAPTERS_MUNICIPAL_TESTING_MUNICIPAL_FIXTURE_H_
