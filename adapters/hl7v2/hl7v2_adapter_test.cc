// The adapter end to end in one process: a real MLLP socket, a real gRPC channel to a real care
// service over a real event log; the FHIR resources projected from that log at the end. One test
// per case of the HL7 v2 checklist in DOMAIN.md.
#include "carehub/hl7v2/hl7v2_adapter.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <google/protobuf/util/time_util.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "carehub/fhir/projection.h"
#include "carehub/fhir/read_model.h"
#include "carehub/hl7v2/dead_letter_store.h"
#include "carehub/hl7v2/message.h"
#include "carehub/hl7v2/mllp_client.h"
#include "fhir/testing/care_events.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/care/testing/care_service_fixture.h"

namespace carehub::hl7v2 {
namespace {

namespace v1 = care::v1;
using Json = nlohmann::json;

constexpr char kTolvan[] = "191212121212";
const absl::Duration kAckTimeout = absl::Seconds(30);

// A valid personnummer: birth date + three digits + the Luhn check digit.
std::string Personnummer(const std::string& yyyymmdd, const std::string& nnn) {
  const std::string ten = absl::StrCat(yyyymmdd.substr(2), nnn);
  int sum = 0;
  for (size_t i = 0; i < ten.size(); ++i) {
    int d = (ten[i] - '0') * (i % 2 == 0 ? 2 : 1);
    sum += d > 9 ? d - 9 : d;
  }
  return absl::StrCat(yyyymmdd, nnn, (10 - sum % 10) % 10);
}

struct Adt {
  std::string trigger = "A01";
  std::string control_id;
  std::string pnr = kTolvan;
  std::string visit = "V1";
  std::string pv1_3 = "MAVA3^12^2";
  std::string pv1_6;
  std::string admit = "20261125230000";
  std::string discharge;
  std::string evn6;
  std::string msh7 = "20261125233000";
  std::string charset;
  std::string name = "Tolvansson^Tolvan";
  std::string extra;
};

std::string Build(const Adt& a) {
  std::vector<std::string> pv1(46);
  pv1[0] = "PV1";
  pv1[1] = "1";
  pv1[2] = "I";
  pv1[3] = a.pv1_3;
  pv1[6] = a.pv1_6;
  pv1[19] = absl::StrCat(a.visit, "^^^COSMIC");
  pv1[44] = a.admit;
  pv1[45] = a.discharge;
  return absl::StrCat(
      "MSH|^~\\&|COSMIC|SE2321000131|CAREHUB|REGION|", a.msh7, "||ADT^", a.trigger, "|",
      a.control_id, "|P|2.5|||||SE|", a.charset, "\r", "EVN|", a.trigger, "|", a.msh7, "||||",
      a.evn6, "\r", "PID|1||555^^^HOSP^MR~", a.pnr, "^^^SKV&1.2.752.129.2.1.3.1&ISO^PN||", a.name,
      "||19121212|M\r", absl::StrJoin(pv1, "|"), "\r", a.extra);
}

class Hl7v2AdapterTest : public services::testing::CareServiceFixture {
 protected:
  Hl7v2AdapterTest()
      : CareServiceFixture(absl::FromCivil(absl::CivilSecond(2026, 11, 25, 22, 0, 0),
                                           absl::UTCTimeZone()),
                           /*seed=*/11) {}

  void SetUp() override {
    CareServiceFixture::SetUp();
    StartAdapter(4 << 20);
  }
  void TearDown() override {
    if (adapter_) adapter_->Stop();
    CareServiceFixture::TearDown();
  }

  void StartAdapter(size_t max_message_bytes, std::string care_address = "") {
    if (adapter_) adapter_->Stop();
    if (care_address.empty()) {
      care_address = absl::StrCat("127.0.0.1:", care_port());
    }
    absl::StatusOr<FacilityDirectory> facilities = FacilityDirectory::Parse(
        "facility=SE2321000131 owner_hsa_id=SE2321000131-E000000000001 "
        "time_zone=Europe/Stockholm\n");
    ASSERT_TRUE(facilities.ok());
    absl::StatusOr<std::unique_ptr<Hl7v2Adapter>> adapter = Hl7v2Adapter::Create(
        grpc::CreateChannel(care_address, grpc::InsecureChannelCredentials()),
        {.mllp_address = "127.0.0.1:0",
         .data_dir = dir_.path(),
         .facilities = *std::move(facilities),
         .max_message_bytes = max_message_bytes,
         .care_timeout = absl::Seconds(5),
         .clock = &clock_});
    ASSERT_TRUE(adapter.ok()) << adapter.status();
    adapter_ = *std::move(adapter);
    absl::StatusOr<int> port = adapter_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    address_ = absl::StrCat("127.0.0.1:", *port);
    client_ = *MllpClient::Connect(address_);
  }

  int care_port() { return server_->port(); }

  // Sends a message and returns MSA-1 ("AA", "AE", "AR"), or the error.
  std::string Send(const std::string& message, MllpClient* client = nullptr) {
    absl::StatusOr<std::string> ack = (client ? client : client_.get())->Send(message, kAckTimeout);
    if (!ack.ok()) return ack.status().ToString();
    return AckCode(*ack);
  }
  static std::string AckCode(const std::string& ack) {
    absl::StatusOr<Hl7Message> parsed = Hl7Message::Parse(ack);
    if (!parsed.ok()) return "unparseable ACK";
    last_err_ = parsed->Get("ERR", 8);
    return parsed->Get("MSA", 1);
  }

  std::string PatientId(const std::string& pnr) {
    grpc::ClientContext context;
    v1::ResolvePatientRequest request;
    request.mutable_identifier()->set_kind(v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
    request.mutable_identifier()->set_value(pnr);
    v1::ResolvePatientResponse response;
    grpc::Status status = stub_->ResolvePatient(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.patient_id();
  }

  std::vector<v1::CareEvent> Events(const std::string& pnr) {
    std::vector<v1::CareEvent> events;
    absl::StatusOr<std::vector<eventstore::RecordedEvent>> stream =
        store_->ReadStream({.stream_id = "patient-" + PatientId(pnr)});
    EXPECT_TRUE(stream.ok()) << stream.status();
    if (!stream.ok()) return events;
    for (const eventstore::RecordedEvent& r : *stream) events.emplace_back().ParseFromString(r.data);
    return events;
  }

  std::unique_ptr<fhir::ReadModel> Project() {
    auto model = fhir::ReadModel::Open({.path = dir_.File(absl::StrCat("fhir-", ++models_))});
    EXPECT_TRUE(model.ok()) << model.status();
    EXPECT_TRUE(fhir::testing::ProjectLog(*store_, **model).ok());
    return *std::move(model);
  }
  Json Encounter(const fhir::ReadModel& model, const std::string& pnr, const std::string& visit) {
    const std::string id =
        fhir::ResourceId("stay", absl::StrCat(PatientId(pnr), "|COSMIC|", visit));
    absl::StatusOr<std::string> json = model.Read("Encounter", id);
    EXPECT_TRUE(json.ok()) << json.status();
    return json.ok() ? Json::parse(*json) : Json::object();
  }
  std::vector<std::string> EncounterStatuses(const fhir::ReadModel& model, const std::string& pnr,
                                             const std::string& visit) {
    const std::string id =
        fhir::ResourceId("stay", absl::StrCat(PatientId(pnr), "|COSMIC|", visit));
    std::vector<std::string> statuses;
    absl::StatusOr<std::vector<std::string>> history = model.History("Encounter", id);
    EXPECT_TRUE(history.ok()) << history.status();
    if (!history.ok()) return statuses;
    for (auto it = history->rbegin(); it != history->rend(); ++it) {
      statuses.push_back(Json::parse(*it).value("status", ""));
    }
    return statuses;
  }

  std::vector<DeadLetter> DeadLetters() {
    auto store = DeadLetterStore::Open(dir_.File("hl7v2/dead-letters"), &clock_);
    return *(*store)->List();
  }

  static inline std::string last_err_;
  std::unique_ptr<Hl7v2Adapter> adapter_;
  std::string address_;
  std::unique_ptr<MllpClient> client_;
  int models_ = 0;
};

// --- framing --------------------------------------------------------------------------------

TEST_F(Hl7v2AdapterTest, OneFrameInSeveralTcpChunks) {
  const std::string framed = MllpFramer::Frame(Build({.control_id = "F1"}));
  for (size_t i = 0; i < framed.size(); i += 7) {
    ASSERT_TRUE(client_->SendRaw(framed.substr(i, 7)).ok());
  }
  EXPECT_EQ(AckCode(*client_->ReadAck(kAckTimeout)), "AA");
  EXPECT_EQ(Events(kTolvan).size(), 2u);  // the identity link and the admission
}

TEST_F(Hl7v2AdapterTest, TwoFramesInOneChunkGetTwoAcksInOrder) {
  ASSERT_TRUE(client_->SendRaw(MllpFramer::Frame(Build({.control_id = "F2a"})) +
                               MllpFramer::Frame(Build({.trigger = "A02", .control_id = "F2b",
                                                        .pv1_3 = "MAVA4", .pv1_6 = "MAVA3"})))
                  .ok());
  absl::StatusOr<std::string> first = client_->ReadAck(kAckTimeout);
  absl::StatusOr<std::string> second = client_->ReadAck(kAckTimeout);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(Hl7Message::Parse(*first)->Get("MSA", 2), "F2a");
  EXPECT_EQ(Hl7Message::Parse(*second)->Get("MSA", 2), "F2b");
  EXPECT_EQ(AckCode(*second), "AA");
}

TEST_F(Hl7v2AdapterTest, StrayBytesMissingCrAndEmptyFrame) {
  ASSERT_TRUE(client_->SendRaw("garbage\r\n" + MllpFramer::Frame(Build({.control_id = "F3"}))).ok());
  EXPECT_EQ(AckCode(*client_->ReadAck(kAckTimeout)), "AA");
  std::string no_cr = MllpFramer::Frame(Build({.trigger = "A08", .control_id = "F3b"}));
  no_cr.pop_back();
  ASSERT_TRUE(client_->SendRaw(no_cr).ok());
  EXPECT_EQ(AckCode(*client_->ReadAck(kAckTimeout)), "AA");
  ASSERT_TRUE(client_->SendRaw("\x0B\x1C\r").ok());
  EXPECT_EQ(AckCode(*client_->ReadAck(kAckTimeout)), "AR");
  EXPECT_EQ(DeadLetters().size(), 1u);
}

TEST_F(Hl7v2AdapterTest, OneMegabyteMessageIsAcceptedAndAnOversizedOneRejected) {
  const std::string big_note = absl::StrCat("NTE|1||", std::string(1 << 20, 'x'), "\r");
  EXPECT_EQ(Send(Build({.trigger = "A08", .control_id = "BIG1", .extra = big_note})), "AA");

  StartAdapter(/*max_message_bytes=*/64 << 10);
  EXPECT_EQ(Send(Build({.trigger = "A08", .control_id = "BIG2", .extra = big_note})), "AR");
  // The connection survives the oversized frame.
  EXPECT_EQ(Send(Build({.trigger = "A08", .control_id = "BIG3"})), "AA");
  std::vector<DeadLetter> letters = DeadLetters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_TRUE(letters[0].truncated);
  EXPECT_EQ(letters[0].control_id, "BIG2");
  EXPECT_GT(letters[0].size, 1u << 20);
}

TEST_F(Hl7v2AdapterTest, ConnectionClosedMidFrameRecordsNothing) {
  const std::string framed = MllpFramer::Frame(Build({.control_id = "HALF"}));
  ASSERT_TRUE(client_->SendRaw(framed.substr(0, framed.size() / 2)).ok());
  client_->Close();
  // A new connection works, and the half frame never became an event or a dead letter.
  client_ = *MllpClient::Connect(address_);
  EXPECT_EQ(Send(Build({.trigger = "A08", .control_id = "AFTER"})), "AA");
  for (const v1::CareEvent& e : Events(kTolvan)) EXPECT_NE(e.source_message_id(), "HALF");
  EXPECT_TRUE(DeadLetters().empty());
}

// --- parsing --------------------------------------------------------------------------------

TEST_F(Hl7v2AdapterTest, CustomEncodingCharactersAndEveryEscape) {
  std::string msg = Build({.trigger = "A08",
                           .control_id = "ESC1",
                           .name = "O\\F\\B\\S\\C\\T\\D\\R\\E\\E\\\\X41\\^Tolvan"});
  EXPECT_EQ(Send(msg), "AA") << last_err_;
  std::string custom = absl::StrReplaceAll(
      Build({.trigger = "A08", .control_id = "ESC2", .name = "Custom!F!x^Tolvan"}),
      {{"|", "#"}, {"^", "*"}, {"~", "@"}, {"\\", "!"}, {"&", "%"}});
  EXPECT_EQ(Send(custom), "AA") << last_err_;
  std::vector<v1::CareEvent> events = Events(kTolvan);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[events.size() - 2].demographics_updated().family_name(), "O|B^C&D~E\\A");
  EXPECT_EQ(events.back().demographics_updated().family_name(), "Custom#x");
  EXPECT_EQ(events.back().source().system(), "COSMIC^SE2321000131");
}

TEST_F(Hl7v2AdapterTest, SwedishLettersInLatin1AndUtf8AndLineEndings) {
  EXPECT_EQ(Send(Build({.trigger = "A08", .control_id = "L1", .charset = "8859/1",
                        .name = "\xD6" "berg^\xC5sa"})),
            "AA") << last_err_;
  EXPECT_EQ(Send(absl::StrReplaceAll(Build({.trigger = "A08", .control_id = "L2",
                                            .name = "\xC3\x96" "str\xC3\xB6m^\xC3\x85sa"}),
                                     {{"\r", "\n"}})),
            "AA") << last_err_;
  EXPECT_EQ(Send(absl::StrReplaceAll(Build({.trigger = "A08", .control_id = "L3",
                                            .charset = "UNICODE UTF-8", .name = "L\xC3\xA4rka"}),
                                     {{"\r", "\r\n"}})),
            "AA") << last_err_;
  // Latin-1 bytes in a message that says UTF-8: rejected, not stored as mojibake.
  EXPECT_EQ(Send(Build({.trigger = "A08", .control_id = "L4", .name = "\xD6" "berg"})), "AR");
  std::vector<v1::CareEvent> events = Events(kTolvan);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].demographics_updated().family_name(), "\xC3\x96" "berg");
  EXPECT_EQ(events[1].demographics_updated().given_names(0), "\xC3\x85sa");
  EXPECT_EQ(events[2].demographics_updated().family_name(), "\xC3\x96" "str\xC3\xB6m");
  EXPECT_EQ(events[3].demographics_updated().family_name(), "L\xC3\xA4rka");
}

TEST_F(Hl7v2AdapterTest, DischargeTimeFallsBackToEvn6ThenMsh7) {
  const std::string pnr = Personnummer("19340512", "982");
  EXPECT_EQ(Send(Build({.control_id = "T1", .pnr = pnr, .visit = "V7"})), "AA") << last_err_;
  EXPECT_EQ(Send(Build({.trigger = "A03", .control_id = "T2", .pnr = pnr, .visit = "V7",
                        .evn6 = "20261126101500+0100", .msh7 = "20261126110000"})),
            "AA") << last_err_;
  EXPECT_EQ(Send(Build({.trigger = "A13", .control_id = "T3", .pnr = pnr, .visit = "V7"})), "AA");
  EXPECT_EQ(Send(Build({.trigger = "A03", .control_id = "T4", .pnr = pnr, .visit = "V7",
                        .msh7 = "20261126120000"})),
            "AA") << last_err_;
  std::vector<v1::CareEvent> events = Events(pnr);
  std::vector<int64_t> discharges;
  for (const v1::CareEvent& e : events) {
    if (e.has_inpatient_discharged()) {
      discharges.push_back(e.inpatient_discharged().discharged_at().seconds());
    }
  }
  ASSERT_EQ(discharges.size(), 2u);
  auto utc = [](int h, int m) {
    return absl::ToUnixSeconds(
        absl::FromCivil(absl::CivilSecond(2026, 11, 26, h, m, 0), absl::UTCTimeZone()));
  };
  EXPECT_EQ(discharges[0], utc(9, 15));   // EVN-6, with its offset
  EXPECT_EQ(discharges[1], utc(11, 0));   // MSH-7, local time (CET)
}

// --- semantics ------------------------------------------------------------------------------

TEST_F(Hl7v2AdapterTest, AdmitTransferDischargeGivesEncounterInProgressThenFinished) {
  EXPECT_EQ(Send(Build({.control_id = "S1"})), "AA") << last_err_;
  EXPECT_EQ(Send(Build({.trigger = "A02", .control_id = "S2", .pv1_3 = "MAVA4^1^1",
                        .pv1_6 = "MAVA3^12^2", .evn6 = "20261126080000"})),
            "AA") << last_err_;
  EXPECT_EQ(Send(Build({.trigger = "A03", .control_id = "S3", .pv1_3 = "MAVA4^1^1",
                        .discharge = "20261127100000"})),
            "AA") << last_err_;
  auto model = Project();
  EXPECT_EQ(EncounterStatuses(*model, kTolvan, "V1"),
            (std::vector<std::string>{"in-progress", "in-progress", "finished"}));
  const Json enc = Encounter(*model, kTolvan, "V1");
  EXPECT_EQ(enc["class"]["code"], "IMP");
  EXPECT_EQ(enc["period"]["start"], "2026-11-25T22:00:00.000Z");
  EXPECT_EQ(enc["period"]["end"], "2026-11-27T09:00:00.000Z");
  EXPECT_GE(enc["location"].size(), 2u);
}

TEST_F(Hl7v2AdapterTest, CancelledAdmissionIsEnteredInErrorAndBreachesNoDeadline) {
  EXPECT_EQ(Send(Build({.control_id = "C1"})), "AA");
  EXPECT_EQ(Send(Build({.trigger = "A11", .control_id = "C2"})), "AA") << last_err_;
  clock_.Advance(absl::Hours(72));
  grpc::ClientContext context;
  v1::CheckDeadlinesResponse response;
  ASSERT_TRUE(stub_->CheckDeadlines(&context, {}, &response).ok());
  EXPECT_EQ(response.event_ids_size(), 0);
  auto model = Project();
  EXPECT_EQ(Encounter(*model, kTolvan, "V1")["status"], "entered-in-error");
  for (const v1::CareEvent& e : Events(kTolvan)) EXPECT_FALSE(e.has_deadline_breached());
}

TEST_F(Hl7v2AdapterTest, CancelledDischargeReopensTheStay) {
  EXPECT_EQ(Send(Build({.control_id = "R1"})), "AA");
  EXPECT_EQ(Send(Build({.trigger = "A03", .control_id = "R2", .discharge = "20261127100000"})),
            "AA");
  EXPECT_EQ(Send(Build({.trigger = "A13", .control_id = "R3"})), "AA") << last_err_;
  auto model = Project();
  EXPECT_EQ(EncounterStatuses(*model, kTolvan, "V1"),
            (std::vector<std::string>{"in-progress", "finished", "in-progress"}));
}

TEST_F(Hl7v2AdapterTest, DemographicsUpdateNeverChangesTheCarePlan) {
  // Enrol Tolvan (a draft plan), then A08: the CarePlan keeps its single version.
  grpc::ClientContext context;
  v1::CommandRequest enrol;
  enrol.set_command_id("enrol-1");
  enrol.mutable_patient()->mutable_identifier()->set_kind(v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
  enrol.mutable_patient()->mutable_identifier()->set_value(kTolvan);
  enrol.mutable_source()->set_system("vardcentral");
  enrol.mutable_data_owner()->set_kind(v1::DATA_OWNER_KIND_REGION);
  *enrol.mutable_occurred_at() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
      absl::ToUnixSeconds(clock_.Now()));
  enrol.mutable_patient_enrolled()->set_target_group(v1::TARGET_GROUP_MOST_ILL);
  enrol.mutable_patient_enrolled()->set_care_plan_id("plan-1");
  enrol.mutable_patient_enrolled()->set_care_team_id("team-1");
  v1::CommandResponse enrolled;
  ASSERT_TRUE(stub_->Execute(&context, enrol, &enrolled).ok());
  EXPECT_EQ(Send(Build({.trigger = "A08", .control_id = "D1", .name = "Nyman^Tolvan"})), "AA");
  EXPECT_EQ(Send(Build({.trigger = "A04", .control_id = "D2"})), "AA");
  auto model = Project();
  absl::StatusOr<std::vector<std::string>> plan =
      model->History("CarePlan", fhir::ResourceId("CarePlan", "plan-1"));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->size(), 1u);
  std::vector<v1::CareEvent> events = Events(kTolvan);
  EXPECT_TRUE(events.back().has_demographics_updated());
}

TEST_F(Hl7v2AdapterTest, SameControlIdTwiceGivesOneEventAndTwoAas) {
  const std::string msg = Build({.control_id = "DUP1"});
  EXPECT_EQ(Send(msg), "AA");
  EXPECT_EQ(Send(msg), "AA");
  // Also on another connection, as after a reconnect.
  auto other = *MllpClient::Connect(address_);
  EXPECT_EQ(Send(msg, other.get()), "AA");
  int admissions = 0;
  for (const v1::CareEvent& e : Events(kTolvan)) admissions += e.has_inpatient_admitted();
  EXPECT_EQ(admissions, 1);
}

TEST_F(Hl7v2AdapterTest, UnknownTriggerAndUnsupportedMessageGetArAndADeadLetter) {
  EXPECT_EQ(Send(Build({.trigger = "A99", .control_id = "U1"})), "AR");
  EXPECT_EQ(Send(absl::StrReplaceAll(Build({.control_id = "U2"}), {{"ADT^A01", "ORU^R01"}})),
            "AR");
  EXPECT_EQ(Send("this is not HL7"), "AR");
  std::vector<DeadLetter> letters = DeadLetters();
  ASSERT_EQ(letters.size(), 3u);
  EXPECT_EQ(letters[0].ack_code, "AR");
  EXPECT_EQ(letters[0].error_code, "201");
  EXPECT_EQ(letters[1].error_code, "200");
  auto full = (*DeadLetterStore::Open(dir_.File("hl7v2/dead-letters"), &clock_))->Get(letters[0].id);
  EXPECT_EQ(full->message, Build({.trigger = "A99", .control_id = "U1"}));
}

TEST_F(Hl7v2AdapterTest, ProcessingErrorsGetAeAndMayBeResent) {
  // A discharge of a stay the hub never saw: AE (the admission may still be on its way).
  EXPECT_EQ(Send(Build({.trigger = "A03", .control_id = "P1", .visit = "V404"})), "AE");
  EXPECT_EQ(Send(Build({.control_id = "P0", .visit = "V404"})), "AA");
  // The same message again, now that the admission is there: AA.
  EXPECT_EQ(Send(Build({.trigger = "A03", .control_id = "P1", .visit = "V404"})), "AA");
  std::vector<DeadLetter> letters = DeadLetters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].ack_code, "AE");
  EXPECT_EQ(letters[0].control_id, "P1");
}

TEST_F(Hl7v2AdapterTest, CareServiceUnavailableGetsAe) {
  StartAdapter(4 << 20, "127.0.0.1:1");  // nothing listens there
  EXPECT_EQ(Send(Build({.control_id = "UNAV"})), "AE");
  EXPECT_EQ(DeadLetters().size(), 1u);
}

// --- time -----------------------------------------------------------------------------------

TEST_F(Hl7v2AdapterTest, StayAcrossTheDstChangeKeepsItsTrueLength) {
  // 24 October 2026 22:00 CEST to 25 October 06:00 CET: nine hours, not eight.
  EXPECT_EQ(Send(Build({.control_id = "DST1", .admit = "20261024220000"})), "AA") << last_err_;
  EXPECT_EQ(Send(Build({.trigger = "A03", .control_id = "DST2", .discharge = "20261025060000"})),
            "AA") << last_err_;
  auto model = Project();
  const Json enc = Encounter(*model, kTolvan, "V1");
  EXPECT_EQ(enc["period"]["start"], "2026-10-24T20:00:00.000Z");
  EXPECT_EQ(enc["period"]["end"], "2026-10-25T05:00:00.000Z");
}

}  // namespace
}  // namespace carehub::hl7v2
