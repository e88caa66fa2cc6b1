// Tests of the care event vocabulary (carehub/care/v1/events.proto).
//
// The round-trip suite is driven by reflection over CareEvent's `payload` oneof, so a payload added
// later gets a test case of its own without anyone writing one: each case fills every field of the
// payload (recursively, with non-default values), serializes, parses and compares.
#include <string>
#include <vector>

#include "carehub/care/v1/events.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace carehub::care::v1 {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::Message;
using google::protobuf::OneofDescriptor;
using google::protobuf::Reflection;
using google::protobuf::util::MessageDifferencer;

constexpr int kFirstPayloadFieldNumber = 100;
constexpr int kMaxFillDepth = 6;

const OneofDescriptor& PayloadOneof() {
  const OneofDescriptor* oneof = CareEvent::descriptor()->FindOneofByName("payload");
  EXPECT_NE(oneof, nullptr);
  return *oneof;
}

std::vector<std::string> PayloadFieldNames() {
  std::vector<std::string> names;
  const OneofDescriptor& oneof = PayloadOneof();
  for (int i = 0; i < oneof.field_count(); ++i) names.push_back(oneof.field(i)->name());
  return names;
}

// "InpatientAdmitted" -> "inpatient_admitted".
std::string SnakeCase(const std::string& camel) {
  std::string out;
  for (char c : camel) {
    if (c >= 'A' && c <= 'Z') {
      if (!out.empty()) out += '_';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

void FillMessage(Message* message, int depth);

// Sets (or, for a repeated field, adds) a non-default value derived from the field and `k`, so
// that values differ between fields and between elements of a repeated field.
void FillField(Message* message, const FieldDescriptor* field, int depth, int k) {
  const Reflection* r = message->GetReflection();
  const int n = field->number() * 10 + k + 1;
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      repeated ? r->AddInt32(message, field, n) : r->SetInt32(message, field, n);
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      repeated ? r->AddInt64(message, field, n) : r->SetInt64(message, field, n);
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      repeated ? r->AddUInt32(message, field, n) : r->SetUInt32(message, field, n);
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      repeated ? r->AddUInt64(message, field, n) : r->SetUInt64(message, field, n);
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      repeated ? r->AddDouble(message, field, n + 0.5) : r->SetDouble(message, field, n + 0.5);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      repeated ? r->AddFloat(message, field, n + 0.5f) : r->SetFloat(message, field, n + 0.5f);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      repeated ? r->AddBool(message, field, true) : r->SetBool(message, field, true);
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const EnumDescriptor* type = field->enum_type();
      const int value = type->value(type->value_count() - 1)->number();
      repeated ? r->AddEnumValue(message, field, value) : r->SetEnumValue(message, field, value);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      // Non-ASCII on purpose: Swedish letters must survive (proto3 strings are UTF-8).
      const std::string value = field->name() + "-" + std::to_string(k) + "-åäö";
      repeated ? r->AddString(message, field, value) : r->SetString(message, field, value);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (depth >= kMaxFillDepth) break;
      FillMessage(repeated ? r->AddMessage(message, field) : r->MutableMessage(message, field),
                  depth + 1);
      break;
  }
}

// Fills every field; of each real oneof, only its first member.
void FillMessage(Message* message, int depth) {
  const Descriptor* d = message->GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* field = d->field(i);
    if (field->real_containing_oneof() != nullptr && field->index_in_oneof() != 0) continue;
    const int elements = field->is_repeated() ? 2 : 1;
    for (int k = 0; k < elements; ++k) FillField(message, field, depth, k);
  }
}

// Fills the envelope's own fields, leaving the payload unset.
CareEvent Envelope() {
  CareEvent event;
  const Descriptor* d = CareEvent::descriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* field = d->field(i);
    if (field->real_containing_oneof() == nullptr) FillField(&event, field, 0, 0);
  }
  return event;
}

class PayloadRoundTripTest : public testing::TestWithParam<std::string> {};

TEST_P(PayloadRoundTripTest, SerializesAndParsesWithItsOneofCase) {
  const FieldDescriptor* field = CareEvent::descriptor()->FindFieldByName(GetParam());
  ASSERT_NE(field, nullptr);
  ASSERT_EQ(field->cpp_type(), FieldDescriptor::CPPTYPE_MESSAGE) << "payloads are messages";

  CareEvent event = Envelope();
  Message* payload = event.GetReflection()->MutableMessage(&event, field);
  FillMessage(payload, 1);
  ASSERT_GT(payload->ByteSizeLong(), 0u) << "the payload has no fields to fill";
  ASSERT_EQ(static_cast<int>(event.payload_case()), field->number());

  std::string bytes;
  ASSERT_TRUE(event.SerializeToString(&bytes));
  CareEvent parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));

  EXPECT_EQ(static_cast<int>(parsed.payload_case()), field->number());
  EXPECT_EQ(parsed.GetReflection()->GetOneofFieldDescriptor(parsed, &PayloadOneof()), field);
  EXPECT_TRUE(parsed.GetReflection()->GetUnknownFields(parsed).empty());
  std::string diff;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(event, parsed)) << diff;
  EXPECT_EQ(parsed.event_id(), event.event_id());
  EXPECT_EQ(parsed.occurred_at().seconds(), event.occurred_at().seconds());
}

INSTANTIATE_TEST_SUITE_P(EveryPayload, PayloadRoundTripTest, testing::ValuesIn(PayloadFieldNames()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// The names the event store records as event types follow from the payload's message name, and
// projections dispatch on the oneof case: both depend on these conventions.
TEST(CareEventSchemaTest, PayloadsFollowTheNamingAndNumberingConventions) {
  const OneofDescriptor& oneof = PayloadOneof();
  ASSERT_GT(oneof.field_count(), 0);
  std::vector<const Descriptor*> seen;
  for (int i = 0; i < oneof.field_count(); ++i) {
    const FieldDescriptor* field = oneof.field(i);
    SCOPED_TRACE(field->name());
    ASSERT_NE(field->message_type(), nullptr);
    EXPECT_EQ(field->message_type()->file()->package(), "carehub.care.v1");
    EXPECT_EQ(field->name(), SnakeCase(field->message_type()->name()));
    EXPECT_GE(field->number(), kFirstPayloadFieldNumber);
    for (const Descriptor* other : seen) EXPECT_NE(other, field->message_type());
    seen.push_back(field->message_type());
  }
  const Descriptor* envelope = CareEvent::descriptor();
  for (int i = 0; i < envelope->field_count(); ++i) {
    const FieldDescriptor* field = envelope->field(i);
    if (field->real_containing_oneof() == nullptr) {
      EXPECT_LT(field->number(), kFirstPayloadFieldNumber) << field->name();
    }
  }
}

// Removing or renaming an event breaks stored logs; this list may only grow. (Adding a payload
// does not fail here: the round-trip suite above covers it by reflection.)
TEST(CareEventSchemaTest, EveryEventOfTheDomainIsAPayload) {
  const std::vector<std::string> domain_events = {
      "PatientEnrolled", "PatientIdentifierLinked", "ConsentGiven", "ConsentWithdrawn",
      "RecordBlocked", "RecordUnblocked", "InpatientAdmitted", "InpatientTransferred",
      "InpatientDischarged", "AdmissionCancelled", "DischargeCancelled",
      "PostDischargeNeedsAssessed", "AdmissionNoticeSent", "AdmissionNoticeAcknowledged",
      "ExpectedDischargeChanged", "DischargeReadyDeclared", "DischargeReadyRevoked",
      "SipMeetingInvited", "SipMeetingHeld", "CarePlanAgreed", "CarePlanRevised",
      "CarePlanClosed", "GoalSet", "GoalStatusChanged", "ActivityPlanned", "ActivityStarted",
      "ActivityPaused", "ActivityResumed", "ActivityCompleted", "ActivityCancelled",
      "AgreedTimeBooked", "CareTeamMemberAdded", "CareTeamMemberRemoved",
      "PrimaryContactAssigned", "HomeVisitPerformed", "SelfMonitoringObservationRecorded",
      "DeteriorationAlertRaised", "DischargeInformationSent", "DeadlineMet", "DeadlineBreached",
      "DemographicsUpdated"};
  for (const std::string& name : domain_events) {
    const FieldDescriptor* field = CareEvent::descriptor()->FindFieldByName(SnakeCase(name));
    ASSERT_NE(field, nullptr) << name;
    EXPECT_EQ(field->containing_oneof(), &PayloadOneof()) << name;
    EXPECT_EQ(field->message_type()->full_name(), "carehub.care.v1." + name);
  }
}

// A zero enum value is what an unset field and an unknown future value read as, so it must never
// mean something.
TEST(CareEventSchemaTest, EveryEnumStartsWithUnspecified) {
  const FileDescriptor* file = CareEvent::descriptor()->file();
  std::vector<const EnumDescriptor*> enums;
  for (int i = 0; i < file->enum_type_count(); ++i) enums.push_back(file->enum_type(i));
  for (int i = 0; i < file->message_type_count(); ++i) {
    const Descriptor* m = file->message_type(i);
    for (int j = 0; j < m->enum_type_count(); ++j) enums.push_back(m->enum_type(j));
  }
  ASSERT_FALSE(enums.empty());
  for (const EnumDescriptor* e : enums) {
    SCOPED_TRACE(e->full_name());
    ASSERT_GT(e->value_count(), 0);
    EXPECT_EQ(e->value(0)->number(), 0);
    const std::string& name = e->value(0)->name();
    EXPECT_TRUE(name.ends_with("_UNSPECIFIED")) << name;
  }
}

// An old reader meets an event written by a newer schema with a payload it does not know: the
// envelope still parses, the payload reads as "not set" and its bytes are kept, not lost.
TEST(CareEventSchemaTest, AnOldReaderKeepsAnUnknownPayload) {
  CareEvent event = Envelope();
  std::string bytes;
  ASSERT_TRUE(event.SerializeToString(&bytes));
  // Field 999, wire type 2 (length-delimited), holding 3 bytes: the tag is the varint of
  // (999 << 3) | 2 = 7994 = 0xBA 0x3E.
  bytes += std::string("\xBA\x3E\x03\x0A\x01\x78", 6);

  CareEvent parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_EQ(parsed.payload_case(), CareEvent::PAYLOAD_NOT_SET);
  EXPECT_EQ(parsed.event_id(), event.event_id());
  EXPECT_EQ(parsed.GetReflection()->GetUnknownFields(parsed).field_count(), 1);
  std::string again;
  ASSERT_TRUE(parsed.SerializeToString(&again));
  EXPECT_EQ(again, bytes);
}

// The generated API for one fact of Märta's stay, as an adapter and the care service write it.
TEST(CareEventSchemaTest, TypedAccessorsForAnAdmission) {
  CareEvent event;
  event.set_event_id("hl7:COSMIC:MSG00042");
  event.set_patient_id("6f1c2a0e-5b7d-4c1e-9a3f-2d8e4b6a1c90");
  event.mutable_occurred_at()->set_seconds(1700000000);
  event.mutable_data_owner()->set_kind(DATA_OWNER_KIND_REGION);
  event.set_source_message_id("MSG00042");
  InpatientAdmitted* admitted = event.mutable_inpatient_admitted();
  admitted->mutable_stay()->set_visit_number("V123456");
  admitted->mutable_stay()->set_patient_class(PATIENT_CLASS_INPATIENT);
  admitted->mutable_location()->set_unit_hsa_id("SE2321000131-E000000000101");
  admitted->mutable_location()->set_unit_name("Medicinavdelning 3");

  std::string bytes;
  ASSERT_TRUE(event.SerializeToString(&bytes));
  CareEvent parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  ASSERT_EQ(parsed.payload_case(), CareEvent::kInpatientAdmitted);
  EXPECT_FALSE(parsed.has_inpatient_discharged());
  EXPECT_EQ(parsed.inpatient_admitted().stay().visit_number(), "V123456");
  EXPECT_EQ(parsed.inpatient_admitted().location().unit_name(), "Medicinavdelning 3");
  EXPECT_EQ(parsed.data_owner().kind(), DATA_OWNER_KIND_REGION);
}

}  // namespace
}  // namespace carehub::care::v1
