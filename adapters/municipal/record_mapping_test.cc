#include "carehub/municipal/record_mapping.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "gtest/gtest.h"

namespace carehub::municipal {
namespace {

namespace v1 = care::v1;

class RecordMappingTest : public ::testing::Test {
 protected:
  RecordMappingTest()
      : clock_(absl::FromUnixSeconds(1795000000)),  // 2026-11-18
        mapper_(*RecordMapper::Create({.source_system = "lifecare-vasteras", .clock = &clock_})) {}

  // A record with the common fields, plus `extra`.
  static std::vector<Field> Record(std::string type, std::vector<Field> extra) {
    std::vector<Field> fields = {{"format", "carehub-municipal/1"},
                                 {"record_type", std::move(type)},
                                 {"record_id", "vasteras-hemtjanst-000001"},
                                 {"personnummer", "19121212-1212"},
                                 {"owner", "SoL"},
                                 {"occurred_at", "2026-11-18 08:15"}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    return fields;
  }

  std::string ErrorOf(const std::vector<Field>& fields) {
    absl::StatusOr<MappedRecord> mapped = mapper_.Map(fields);
    EXPECT_FALSE(mapped.ok());
    return mapped.ok() ? "" : std::string(mapped.status().message());
  }

  ManualClock clock_;
  RecordMapper mapper_;
};

TEST_F(RecordMappingTest, EnvelopeFromCommonFields) {
  absl::StatusOr<MappedRecord> m =
      mapper_.Map(Record("insats_paborjad", {{"activity_id", "act-morning"},
                                             {"unit_hsa_id", "SE2120001231-E1"},
                                             {"author_hsa_id", "SE2120001231-P7"},
                                             {"owner_hsa_id", "SE2120001231-S1"}}));
  ASSERT_TRUE(m.ok()) << m.status();
  const v1::CommandRequest& c = m->command;
  EXPECT_EQ(c.command_id(), "vasteras-hemtjanst-000001");
  EXPECT_EQ(c.source_message_id(), "vasteras-hemtjanst-000001");
  EXPECT_EQ(c.source().system(), "lifecare-vasteras");
  EXPECT_EQ(c.source().organisation_hsa_id(), "SE2120001231-E1");
  EXPECT_EQ(c.source().author().hsa_id(), "SE2120001231-P7");
  EXPECT_EQ(c.patient().identifier().kind(), v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
  EXPECT_EQ(c.patient().identifier().value(), "191212121212");
  EXPECT_EQ(c.patient().identifier().system(), "http://electronichealth.se/identifier/personnummer");
  EXPECT_EQ(c.data_owner().kind(), v1::DATA_OWNER_KIND_MUNICIPALITY_SOL);
  EXPECT_EQ(c.data_owner().organisation_hsa_id(), "SE2120001231-S1");
  // 08:15 Stockholm local time in November is 07:15 UTC.
  EXPECT_EQ(absl::FromUnixSeconds(c.occurred_at().seconds()),
            absl::FromCivil(absl::CivilSecond(2026, 11, 18, 7, 15, 0), absl::UTCTimeZone()));
  EXPECT_EQ(c.activity_started().activity_id(), "act-morning");
  EXPECT_EQ(m->order_key, "nid:http://electronichealth.se/identifier/personnummer:191212121212");
}

TEST_F(RecordMappingTest, TenDigitPersonnummerAndPatientIdOrderByPatient) {
  std::vector<Field> ten = Record("insats_avslutad", {{"activity_id", "a"}});
  ten[3].value = "121212+1212";  // '+': 100 or older
  absl::StatusOr<MappedRecord> a = mapper_.Map(ten);
  absl::StatusOr<MappedRecord> b =
      mapper_.Map(Record("insats_avslutad", {{"activity_id", "a"}, {"outcome", "klar"}}));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->order_key, b->order_key);
  EXPECT_EQ(b->command.activity_completed().outcome(), "klar");

  std::vector<Field> by_id = Record("insats_avslutad", {{"activity_id", "a"}});
  by_id[3] = {"patient_id", "3f1c-internal"};
  absl::StatusOr<MappedRecord> c = mapper_.Map(by_id);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->command.patient().patient_id(), "3f1c-internal");
  EXPECT_EQ(c->order_key, "id:3f1c-internal");
}

TEST_F(RecordMappingTest, ActivityPlannedWithSchedule) {
  absl::StatusOr<MappedRecord> m = mapper_.Map(Record(
      "insats_planerad", {{"activity_id", "act-morning"},
                          {"description", "Hemtjänst morgon och kväll"},
                          {"code_system", "urn:oid:1.2.752.129.2.2.3.1"},
                          {"code", "HT01"},
                          {"performer_hsa_id", "SE2120001231-E1"},
                          {"performer_name", "Västerås stad, hemtjänst"},
                          {"activity_owner", "sol"},
                          {"schedule_start", "2026-11-20"},
                          {"frequency", "2"},
                          {"period", "1"},
                          {"period_unit", "dag"},
                          {"times_of_day", "08:00|20:00"},
                          {"days_of_week", "1|2|3|4|5"},
                          {"goal_ids", "goal-home"},
                          {"in_home", "ja"}}));
  ASSERT_TRUE(m.ok()) << m.status();
  const v1::ActivityPlanned& p = m->command.activity_planned();
  EXPECT_EQ(p.activity_id(), "act-morning");
  EXPECT_EQ(p.code().code(), "HT01");
  EXPECT_EQ(p.performer().name(), "Västerås stad, hemtjänst");
  EXPECT_EQ(p.data_owner().kind(), v1::DATA_OWNER_KIND_MUNICIPALITY_SOL);
  EXPECT_EQ(p.schedule().frequency(), 2u);
  EXPECT_EQ(p.schedule().period_unit(), v1::Schedule::PERIOD_UNIT_DAY);
  ASSERT_EQ(p.schedule().times_of_day_size(), 2);
  EXPECT_EQ(p.schedule().times_of_day(1), "20:00");
  EXPECT_EQ(p.schedule().days_of_week_size(), 5);
  EXPECT_EQ(p.goal_ids(0), "goal-home");
  EXPECT_TRUE(p.in_home());
  EXPECT_TRUE(p.schedule().has_start());
  EXPECT_FALSE(p.schedule().has_end());
}

TEST_F(RecordMappingTest, EveryRecordTypeMaps) {
  const std::vector<std::pair<std::vector<Field>, v1::CommandRequest::CommandCase>> cases = {
      {Record("insats_vilande", {{"activity_id", "a"}, {"reason", "inlagd"}}),
       v1::CommandRequest::kActivityPaused},
      {Record("insats_aterupptagen", {{"activity_id", "a"}}), v1::CommandRequest::kActivityResumed},
      {Record("insats_avbruten", {{"activity_id", "a"}}), v1::CommandRequest::kActivityCancelled},
      {Record("overenskommen_tid",
              {{"appointment_id", "t1"}, {"start", "2026-11-20T09:00:00+01:00"}, {"mode", "video"}}),
       v1::CommandRequest::kAgreedTimeBooked},
      {Record("teammedlem_tillagd", {{"member_kind", "närstående"}, {"member_name", "Svea"}}),
       v1::CommandRequest::kCareTeamMemberAdded},
      {Record("teammedlem_borttagen", {{"member_kind", "personal"}, {"member_hsa_id", "SE-P1"}}),
       v1::CommandRequest::kCareTeamMemberRemoved},
      {Record("fast_vardkontakt", {{"member_hsa_id", "SE-P2"}, {"role_code", "fast-vardkontakt"}}),
       v1::CommandRequest::kPrimaryContactAssigned},
      {Record("hembesok_utfort", {{"visit_id", "v1"},
                                  {"visit_reason", "larm"},
                                  {"performer_hsa_ids", "SE-P1|SE-P2"},
                                  {"performer_names", "Anna|Bo"}}),
       v1::CommandRequest::kHomeVisitPerformed},
      {Record("egenmatning", {{"observation_id", "o1"},
                              {"code_system", "http://loinc.org"},
                              {"code", "59408-5"},
                              {"value", "91,5"},
                              {"unit", "%"}}),
       v1::CommandRequest::kSelfMonitoringObservationRecorded},
  };
  for (const auto& [fields, expected] : cases) {
    absl::StatusOr<MappedRecord> m = mapper_.Map(fields);
    ASSERT_TRUE(m.ok()) << fields[1].value << ": " << m.status();
    EXPECT_EQ(m->command.command_case(), expected) << fields[1].value;
  }
  absl::StatusOr<MappedRecord> obs = mapper_.Map(cases.back().first);
  EXPECT_DOUBLE_EQ(obs->command.self_monitoring_observation_recorded().value(), 91.5);
  absl::StatusOr<MappedRecord> visit = mapper_.Map(cases[7].first);
  ASSERT_EQ(visit->command.home_visit_performed().performers_size(), 2);
  EXPECT_EQ(visit->command.home_visit_performed().performers(1).name(), "Bo");
  EXPECT_EQ(visit->command.home_visit_performed().reason(), v1::HOME_VISIT_REASON_ALERT);
  EXPECT_EQ(RecordMapper::RecordTypes().size(), 12u);
}

TEST_F(RecordMappingTest, OccurredAtFallsBackToTheRecordsOwnTime) {
  std::vector<Field> fields =
      Record("egenmatning", {{"observation_id", "o1"}, {"code", "8867-4"}, {"value", "96"},
                             {"measured_at", "2026-11-18T06:00:00Z"}});
  fields.erase(fields.begin() + 5);  // occurred_at
  absl::StatusOr<MappedRecord> m = mapper_.Map(fields);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->command.occurred_at().seconds(),
            m->command.self_monitoring_observation_recorded().measured_at().seconds());

  std::vector<Field> planned = Record("insats_planerad", {{"activity_id", "a"}});
  planned.erase(planned.begin() + 5);
  EXPECT_EQ(ErrorOf(planned), "occurred_at: required");
}

TEST_F(RecordMappingTest, ClearErrors) {
  std::vector<Field> f = Record("insats_paborjad", {{"activity_id", "a"}});
  f[0].value = "carehub-municipal/2";
  EXPECT_EQ(ErrorOf(f), "format: unsupported version (this adapter reads carehub-municipal/1)");

  EXPECT_EQ(ErrorOf(Record("inskrivning", {})),
            "record_type: unknown or not supported; see FORMAT.md for the record types");
  EXPECT_EQ(ErrorOf(Record("insats_paborjad", {})), "activity_id: required");
  EXPECT_EQ(ErrorOf(Record("insats_paborjad", {{"activty_id", "a"}})),
            "activty_id: not a field of insats_paborjad");

  f = Record("insats_paborjad", {{"activity_id", "a"}});
  f[3].value = "19121212-1213";  // bad check digit
  const std::string error = ErrorOf(f);
  EXPECT_EQ(error.rfind("personnummer: ", 0), 0u) << error;
  EXPECT_EQ(error.find("1213"), std::string::npos) << "never echo the identifier: " << error;

  f = Record("insats_paborjad", {{"activity_id", "a"}, {"patient_id", "x"}});
  EXPECT_EQ(ErrorOf(f), "personnummer: give exactly one of personnummer and patient_id");

  f = Record("insats_paborjad", {{"activity_id", "a"}});
  f[4].value = "region";
  EXPECT_EQ(ErrorOf(f), "owner: must be one of: SoL, HSL");
  f[4].value = "HSL";
  f[5].value = "igår";
  EXPECT_NE(ErrorOf(f).find("occurred_at: not a time"), std::string::npos);

  EXPECT_EQ(ErrorOf(Record("insats_planerad", {{"activity_id", "a"}, {"frequency", "2"}})),
            "frequency: frequency, period and period_unit go together");
  EXPECT_EQ(ErrorOf(Record("insats_planerad", {{"activity_id", "a"}, {"times_of_day", "8"}})),
            "times_of_day: each time of day must be HH:MM, separated by '|'");
  EXPECT_EQ(ErrorOf(Record("egenmatning", {{"observation_id", "o"}, {"code", "c"}, {"value", "9x"}})),
            "value: not a decimal number");
  EXPECT_EQ(ErrorOf(Record("teammedlem_tillagd", {{"member_kind", "personal"}})),
            "member_hsa_id: required for staff (member_kind personal)");
  EXPECT_EQ(ErrorOf(Record("hembesok_utfort", {{"visit_id", "v"}, {"performer_names", "Anna"}})),
            "performer_names: must name each of performer_hsa_ids, in order");
  f = Record("insats_paborjad", {{"activity_id", "a"}});
  f[2].value = std::string(65, 'x');
  EXPECT_EQ(ErrorOf(f), "record_id: longer than 64 bytes");
}

TEST(RecordMapperCreateTest, NeedsASourceSystem) {
  EXPECT_EQ(RecordMapper::Create({}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace carehub::municipal
