#include "carehub/hl7v2/adt_mapping.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"

namespace carehub::hl7v2 {
namespace {

namespace v1 = care::v1;

FacilityConfig Facility() {
  absl::StatusOr<FacilityDirectory> d = FacilityDirectory::Parse(
      "# the region's EHR\n"
      "facility=SE2321000131 owner_hsa_id=SE2321000131-E000000000001 time_zone=Europe/Stockholm "
      "personnummer_authority=SKV,1.2.752.129.2.1.3.1\n");
  EXPECT_TRUE(d.ok()) << d.status();
  return *d->Find("SE2321000131");
}

std::string Msg(absl::string_view trigger, absl::string_view pv1, absl::string_view extra = "",
                absl::string_view evn = "EVN|X|20261125233000") {
  return absl::StrCat(
      "MSH|^~\\&|COSMIC|SE2321000131|CAREHUB|REGION|20261125233500||ADT^", trigger,
      "|MSG-", trigger, "|P|2.5\r", evn, "\r",
      "PID|1||555^^^HOSP^MR~191212121212^^^SKV^PN||Tolvansson^Tolvan^Test||19121212|M|||"
      "Storgatan 1^^V\xC3\xA4ster\xC3\xA5s^^72210^^^^1980||021-123456~070-1234567||sv\r",
      pv1, "\r", extra);
}

absl::StatusOr<v1::CommandRequest> Map(const std::string& text) {
  absl::StatusOr<Hl7Message> m = Hl7Message::Parse(text);
  if (!m.ok()) return m.status();
  return MapAdt(*m, Facility());
}

absl::Time Utc(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), absl::UTCTimeZone());
}
int64_t Seconds(const google::protobuf::Timestamp& t) { return t.seconds(); }

const char kPv1[] =
    "PV1|1|I|MAVA3^12^2^VS&SE2321000131-E000000001234|E||MAVA1^1^"
    "1|SE2321000131-P1^Doktor^Dora||||||||||||V100^^^COSMIC|||||||||||||||||01|NH^S\xC3\xA4rskilt boende Eken|||||||202611252300|202611301000";

TEST(AdtMappingTest, A01BecomesInpatientAdmitted) {
  absl::StatusOr<v1::CommandRequest> c =
      Map(Msg("A01", kPv1, "PV2|||||||||202611301200\r"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->command_id(), "MSG-A01");
  EXPECT_EQ(c->source_message_id(), "MSG-A01");
  EXPECT_EQ(c->source().system(), "COSMIC^SE2321000131");
  EXPECT_EQ(c->source().organisation_hsa_id(), "SE2321000131-E000000000001");
  EXPECT_EQ(c->data_owner().kind(), v1::DATA_OWNER_KIND_REGION);
  // The personnummer is the second PID-3 repetition: found by its assigning authority.
  EXPECT_EQ(c->patient().identifier().kind(), v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
  EXPECT_EQ(c->patient().identifier().value(), "191212121212");
  ASSERT_TRUE(c->has_inpatient_admitted());
  const v1::InpatientAdmitted& a = c->inpatient_admitted();
  EXPECT_EQ(a.stay().visit_number(), "V100");
  EXPECT_EQ(a.stay().visit_number_assigner(), "COSMIC");
  EXPECT_EQ(a.stay().patient_class(), v1::PATIENT_CLASS_INPATIENT);
  EXPECT_EQ(a.location().point_of_care(), "MAVA3");
  EXPECT_EQ(a.location().unit_hsa_id(), "SE2321000131-E000000001234");
  EXPECT_EQ(a.admission_type(), "E");
  EXPECT_EQ(a.attending_physician().hsa_id(), "SE2321000131-P1");
  // PV1-44 23:00 local (CET) = 22:00 UTC.
  EXPECT_EQ(Seconds(a.admitted_at()), absl::ToUnixSeconds(Utc(2026, 11, 25, 22, 0)));
  EXPECT_EQ(Seconds(c->occurred_at()), Seconds(a.admitted_at()));
  EXPECT_EQ(Seconds(a.expected_discharge_at()), absl::ToUnixSeconds(Utc(2026, 11, 30, 11, 0)));
}

TEST(AdtMappingTest, A02TransferFromPriorLocation) {
  absl::StatusOr<v1::CommandRequest> c =
      Map(Msg("A02", kPv1, "", "EVN|A02|20261126080000||||20261126075500+0100"));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->has_inpatient_transferred());
  EXPECT_EQ(c->inpatient_transferred().from_location().point_of_care(), "MAVA1");
  EXPECT_EQ(c->inpatient_transferred().to_location().point_of_care(), "MAVA3");
  EXPECT_EQ(Seconds(c->occurred_at()), absl::ToUnixSeconds(Utc(2026, 11, 26, 6, 55)));
}

TEST(AdtMappingTest, A12MovesBackFromTheCancelledLocation) {
  absl::StatusOr<v1::CommandRequest> c = Map(Msg("A12", kPv1));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->inpatient_transferred().from_location().point_of_care(), "MAVA1");
  EXPECT_EQ(c->inpatient_transferred().to_location().point_of_care(), "MAVA3");
}

TEST(AdtMappingTest, A03DischargeWithDisposition) {
  absl::StatusOr<v1::CommandRequest> c = Map(Msg("A03", kPv1));
  ASSERT_TRUE(c.ok()) << c.status();
  const v1::InpatientDischarged& d = c->inpatient_discharged();
  EXPECT_EQ(Seconds(d.discharged_at()), absl::ToUnixSeconds(Utc(2026, 11, 30, 9, 0)));
  EXPECT_EQ(d.disposition().code(), "01");
  EXPECT_EQ(d.discharged_to_code(), "NH");
  EXPECT_EQ(d.discharged_to().name(), "S\xC3\xA4rskilt boende Eken");
}

TEST(AdtMappingTest, A03WithoutPv145FallsBackToEvn6ThenMsh7) {
  std::string pv1 = absl::StrReplaceAll(kPv1, {{"|202611301000", "|"}});
  absl::StatusOr<v1::CommandRequest> c =
      Map(Msg("A03", pv1, "", "EVN|A03|20261130110000||||20261130104500"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(Seconds(c->inpatient_discharged().discharged_at()),
            absl::ToUnixSeconds(Utc(2026, 11, 30, 9, 45)));
  c = Map(Msg("A03", pv1, "", "EVN|A03|20261130110000"));
  ASSERT_TRUE(c.ok()) << c.status();
  // MSH-7 20261125233500 local.
  EXPECT_EQ(Seconds(c->inpatient_discharged().discharged_at()),
            absl::ToUnixSeconds(Utc(2026, 11, 25, 22, 35)));
}

TEST(AdtMappingTest, CancellationsAndClassChanges) {
  absl::StatusOr<v1::CommandRequest> c = Map(Msg("A11", kPv1));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->admission_cancelled().stay().visit_number(), "V100");
  c = Map(Msg("A13", kPv1));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->discharge_cancelled().location().point_of_care(), "MAVA3");
  c = Map(Msg("A06", kPv1));
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->has_inpatient_admitted());
  std::string no_disposition = absl::StrReplaceAll(kPv1, {{"|01|", "||"}});
  c = Map(Msg("A07", no_disposition));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->inpatient_discharged().disposition().code(), "A07");
  c = Map(Msg("A16", kPv1, "PV2|||||||||202611281400\r"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(Seconds(c->expected_discharge_changed().expected_discharge_at()),
            absl::ToUnixSeconds(Utc(2026, 11, 28, 13, 0)));
}

TEST(AdtMappingTest, A08A04A05UpdateDemographicsOnly) {
  for (const char* trigger : {"A08", "A04", "A05"}) {
    absl::StatusOr<v1::CommandRequest> c = Map(Msg(trigger, kPv1, "PD1||||||||||||Y\r"));
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_TRUE(c->has_demographics_updated()) << trigger;
    const v1::DemographicsUpdated& d = c->demographics_updated();
    EXPECT_EQ(d.family_name(), "Tolvansson");
    ASSERT_EQ(d.given_names_size(), 2);
    EXPECT_EQ(d.given_names(0), "Tolvan");
    EXPECT_EQ(d.city(), "V\xC3\xA4ster\xC3\xA5s");
    EXPECT_EQ(d.postal_code(), "72210");
    EXPECT_EQ(d.municipality_code(), "1980");
    EXPECT_EQ(d.phone_numbers_size(), 2);
    EXPECT_EQ(d.preferred_language(), "sv");
    EXPECT_TRUE(d.protected_identity());
  }
}

// After an A07 the visit goes on as an outpatient one, and the A03 that ends it (PV1-2 O) is
// about no stay of the hub's; nor is anything else that happens to an outpatient (O) or recurring
// (R) visit. An emergency (E) visit may be an inpatient stay begun in the emergency department.
TEST(AdtMappingTest, OutpatientVisitsUpdateThePatientOnly) {
  const std::string outpatient = absl::StrReplaceAll(kPv1, {{"PV1|1|I|", "PV1|1|O|"}});
  const std::string recurring = absl::StrReplaceAll(kPv1, {{"PV1|1|I|", "PV1|1|R|"}});
  const std::string emergency = absl::StrReplaceAll(kPv1, {{"PV1|1|I|", "PV1|1|E|"}});
  for (const char* trigger : {"A02", "A03", "A11", "A12", "A13", "A16"}) {
    for (const std::string& pv1 : {outpatient, recurring}) {
      absl::StatusOr<v1::CommandRequest> c = Map(Msg(trigger, pv1, "PV2|||||||||202611281400\r"));
      ASSERT_TRUE(c.ok()) << trigger << ": " << c.status();
      EXPECT_TRUE(c->has_demographics_updated()) << trigger << " " << pv1.substr(0, 8);
      EXPECT_EQ(c->demographics_updated().family_name(), "Tolvansson");
    }
  }
  absl::StatusOr<v1::CommandRequest> c = Map(Msg("A03", emergency));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->has_inpatient_discharged());
  // A07 carries the new class, O: it still ends the inpatient stay.
  c = Map(Msg("A07", outpatient));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->has_inpatient_discharged());
  // An A06 turns the outpatient visit into a stay, and an A01 always admits.
  for (const char* trigger : {"A01", "A06"}) {
    c = Map(Msg(trigger, outpatient));
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(c->has_inpatient_admitted()) << trigger;
  }
}

TEST(AdtMappingTest, Rejections) {
  absl::StatusOr<v1::CommandRequest> c = Map(Msg("A99", kPv1));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(RejectionError(c.status()).code, "201");

  std::string orm = absl::StrReplaceAll(Msg("A01", kPv1), {{"ADT^A01", "ORM^O01"}});
  c = Map(orm);
  EXPECT_EQ(RejectionError(c.status()).code, "200");

  std::string no_visit = absl::StrReplaceAll(kPv1, {{"V100^^^COSMIC", ""}});
  c = Map(Msg("A01", no_visit));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RejectionError(c.status()).code, "101");

  std::string no_pnr = absl::StrReplaceAll(Msg("A01", kPv1), {{"^^^SKV^PN", "^^^OTHER^PN"}});
  c = Map(no_pnr);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(c.status().message()).find("1912"), std::string::npos);

  std::string bad_time = absl::StrReplaceAll(kPv1, {{"202611252300", "2026-11-25"}});
  c = Map(Msg("A01", bad_time));
  EXPECT_EQ(RejectionError(c.status()).code, "102");

  std::string no_id = absl::StrReplaceAll(Msg("A01", kPv1), {{"|MSG-A01|", "||"}});
  c = Map(no_id);
  EXPECT_EQ(RejectionError(c.status()).code, "101");
}

TEST(AdtMappingTest, FacilityConfigErrors) {
  EXPECT_FALSE(FacilityDirectory::Parse("facility=X").ok());  // no owner
  EXPECT_FALSE(FacilityDirectory::Parse("facility=X owner_hsa_id=Y time_zone=Mars/Base").ok());
  EXPECT_FALSE(FacilityDirectory::Parse("facility=X owner_hsa_id=Y colour=red").ok());
  EXPECT_FALSE(FacilityDirectory::Parse("facility=X owner_hsa_id=Y\nfacility=X owner_hsa_id=Z").ok());
  absl::StatusOr<FacilityDirectory> d =
      FacilityDirectory::Parse("facility=* owner_hsa_id=Y charset=8859/1\n\n# c\n");
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_NE(d->Find("ANY"), nullptr);
  EXPECT_EQ(d->Find("ANY")->default_charset, "8859/1");
}

}  // namespace
}  // namespace carehub::hl7v2
