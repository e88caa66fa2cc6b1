// carehub-synth-region: writes a deterministic synthetic region (see region.h) into a carehub
// data directory, through the real care service, so that carehubd started on it projects and
// serves it. For tests and benchmarks; never point it at a production data directory.
//
//   carehub-synth-region --data_dir=/tmp/region --patients=100000
//   carehubd --data_dir=/tmp/region
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "carehub/base/status_macros.h"
#include "carehub/care/care_commands.h"
#include "carehub/care/hub_key.h"
#include "carehub/care/patient_id.h"
#include "carehub/care/payment_agreements.h"
#include "carehub/eventstore/event_store.h"
#include "tests/region/region.h"

ABSL_FLAG(std::string, data_dir, "", "carehub data directory to write into (eventstore/, care/).");
ABSL_FLAG(int, patients, 100, "Number of patients.");
ABSL_FLAG(int, first_patient, 0, "Index of the first patient (to add patients to a region).");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the journeys.");
ABSL_FLAG(int, threads, 16, "Patients generated in parallel (1: a byte-identical log).");

namespace carehub::region {
namespace {

absl::Status Run() {
  const std::filesystem::path dir(absl::GetFlag(FLAGS_data_dir));
  if (dir.empty()) return absl::InvalidArgumentError("--data_dir is required");
  std::error_code error;
  std::filesystem::create_directories(dir / "eventstore", error);
  std::filesystem::create_directories(dir / "care", error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", dir.string()));

  ASSIGN_OR_RETURN(std::unique_ptr<eventstore::EventStore> store,
                   eventstore::EventStore::Open({.path = (dir / "eventstore").string()}));
  ASSIGN_OR_RETURN(std::string key, care::LoadOrCreateHubKey((dir / "care" / "hub.key").string()));
  std::mt19937_64 gen(absl::GetFlag(FLAGS_seed) + static_cast<uint64_t>(absl::GetFlag(FLAGS_first_patient)));
  std::unique_ptr<care::PatientIdGenerator> ids = care::NewBitGenPatientIdGenerator(gen);
  ThreadClock clock;
  const care::PaymentAgreement agreement{.agreement_id = "synthetic-region-agreement",
                                         .version = "2026-1",
                                         .days = 3,
                                         .day_type = care::DayType::kWorking,
                                         .cut_off_hour = 12,
                                         .daily_rate_ore = 850000};
  ASSIGN_OR_RETURN(std::unique_ptr<care::CareCommands> care,
                   care::CareCommands::Create(store.get(), {.clock = &clock,
                                                            .ids = ids.get(),
                                                            .hub_key = std::move(key),
                                                            .payment_agreements = {agreement}}));
  const int patients = absl::GetFlag(FLAGS_patients);
  RegionOptions options{.patients = patients,
                        .first_patient = absl::GetFlag(FLAGS_first_patient),
                        .seed = absl::GetFlag(FLAGS_seed),
                        .threads = absl::GetFlag(FLAGS_threads)};
  const int report_every = std::max(1, patients / 20);
  options.on_patient = [report_every, patients](int done) {
    if (done % report_every == 0) std::fprintf(stderr, "  %d / %d patients\n", done, patients);
  };
  ASSIGN_OR_RETURN(RegionStats stats, GenerateRegion(*care, options));
  const double seconds = absl::ToDoubleSeconds(stats.elapsed);
  ASSIGN_OR_RETURN(const uint64_t log_end, eventstore::LogEnd(*store));
  std::printf("synthetic region: %llu patients, %llu commands, %llu events in %.1f s "
              "(%.0f commands/s, %.0f events/s); %llu events in the log\n",
              static_cast<unsigned long long>(stats.patients),
              static_cast<unsigned long long>(stats.commands),
              static_cast<unsigned long long>(stats.events), seconds, stats.commands / seconds,
              stats.events / seconds, static_cast<unsigned long long>(log_end));
  return absl::OkStatus();
}

}  // namespace
}  // namespace carehub::region

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Writes a synthetic region into a carehub data directory.");
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = carehub::region::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "carehub-synth-region: %s\n", std::string(status.ToString()).c_str());
    return 1;
  }
  return 0;
}
