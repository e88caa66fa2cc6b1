// The synthetic region: journeys are deterministic, every command is accepted by the real care
// service, and the log they make projects into FHIR without an error.
#include "tests/region/region.h"

#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "carehub/care/care_commands.h"
#include "carehub/care/hub_key.h"
#include "carehub/care/patient_id.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/fhir/read_model.h"
#include "carehub/services/testing/temp_dir.h"
#include "fhir/testing/care_events.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace carehub::region {
namespace {

TEST(RegionTest, JourneysAreAPureFunctionOfSeedAndIndex) {
  const RegionOptions options{.seed = 7};
  for (int i : {0, 1, 99}) {
    const std::vector<JourneyStep> a = Journey(i, options);
    const std::vector<JourneyStep> b = Journey(i, options);
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      EXPECT_EQ(a[k].at, b[k].at);
      EXPECT_EQ(a[k].command.SerializeAsString(), b[k].command.SerializeAsString());
      if (k > 0) {
        EXPECT_GE(a[k].at, a[k - 1].at) << "journey " << i << " goes back in time";
      }
    }
  }
  EXPECT_NE(Journey(1, options)[0].command.SerializeAsString(),
            Journey(1, RegionOptions{.seed = 8})[0].command.SerializeAsString());
}

TEST(RegionTest, PersonnummerAreDistinctAndValid) {
  std::set<std::string> seen;
  for (int i = 0; i < 113150; i += 7) {
    const std::string pnr = PatientPersonnummer(i);
    ASSERT_EQ(pnr.size(), 13u) << pnr;
    ASSERT_EQ(pnr[8], '-');
    EXPECT_TRUE(seen.insert(pnr).second) << pnr;
    // Luhn over the ten digits YYMMDDNNNC sums to a multiple of 10.
    const std::string ten = pnr.substr(2, 6) + pnr.substr(9);
    int sum = 0;
    for (size_t k = 0; k < ten.size(); ++k) {
      int d = (ten[k] - '0') * (k % 2 == 0 ? 2 : 1);
      sum += d > 9 ? d - 9 : d;
    }
    EXPECT_EQ(sum % 10, 0) << pnr;
  }
}

TEST(RegionTest, EveryCommandIsAcceptedAndTheLogProjects) {
  services::testing::TempDir dir;
  auto store = eventstore::EventStore::Open({.path = dir.File("log")});
  ASSERT_TRUE(store.ok()) << store.status();
  std::mt19937_64 gen(3);
  std::unique_ptr<care::PatientIdGenerator> ids = care::NewBitGenPatientIdGenerator(gen);
  ThreadClock clock;
  auto care = care::CareCommands::Create(
      store->get(), {.clock = &clock,
                     .ids = ids.get(),
                     .hub_key = *care::LoadOrCreateHubKey(dir.File("hub.key"))});
  ASSERT_TRUE(care.ok()) << care.status();

  absl::StatusOr<RegionStats> stats =
      GenerateRegion(**care, {.patients = 40, .seed = 5, .threads = 4});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->patients, 40u);
  EXPECT_GT(stats->events, stats->commands);
  EXPECT_EQ(eventstore::LogEnd(**store).value(), stats->events + 40 * 2)
      << "every event of the log is a patient's event or one of the two registry events per patient";

  auto model = fhir::ReadModel::Open({.path = dir.File("fhir")});
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_TRUE(fhir::testing::ProjectLog(**store, **model).ok());
  absl::StatusOr<std::vector<std::string>> patients = (*model)->ListByType("Patient");
  ASSERT_TRUE(patients.ok());
  EXPECT_EQ(patients->size(), 40u);
  absl::StatusOr<std::vector<std::string>> plans = (*model)->ListByType("CarePlan");
  ASSERT_TRUE(plans.ok());
  EXPECT_EQ(plans->size(), 40u);
  // Every patient has a name (demographics), and a birth date and gender read from the
  // personnummer: serial 980 + i % 10, so its third digit alternates between even and odd.
  std::map<std::string, int> genders;
  for (const std::string& text : *patients) {
    const nlohmann::json patient = nlohmann::json::parse(text);
    EXPECT_TRUE(patient.contains("name")) << patient.dump();
    const std::string birth_date = patient.value("birthDate", "");
    EXPECT_TRUE(birth_date.starts_with("1920-01-0")) << patient.dump();
    ++genders[patient.value("gender", "")];
  }
  EXPECT_EQ(genders, (std::map<std::string, int>{{"female", 20}, {"male", 20}}));
}

}  // namespace
}  // namespace carehub::region
