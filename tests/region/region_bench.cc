// carehub-region-bench: the FHIR projection over a synthetic region (carehub-synth-region).
//   1. rebuild: a new read model projected from position 0 of the region's log, in events/s,
//      beside the rate of merely reading the same log through a subscription (the ceiling);
//   2. lag: while new patients' commands arrive through the care service at --lag_rate events/s,
//      the time from each append's acknowledgement to the projector having applied it, p50/p99,
//      and the CPU each thread name (fhir-project, fhir-write, es-writer, ...) used meanwhile.
//
//   carehub-synth-region --data_dir=/data/region --patients=100000
//   carehub-region-bench --data_dir=/data/region
//
// The lag phase appends to the region's log (patients from --lag_first_patient on); run it on a
// copy if the region must stay as generated. The benchmark's read model (DATA_DIR/bench-fhir-PID)
// is removed at the end unless CAREHUB_BENCH_KEEP_MODEL is set (e.g. to move it to DATA_DIR/fhir
// and serve the region without projecting it again). --model_dir projects into a model of the
// caller's instead and keeps it: rebuild into an empty one, then measure the lag on it again with
// --rebuild=false, without a rebuild before. Targets (DESIGN/issue): rebuild >= 50,000 events/s,
// lag p99 < 50 ms at 2,000 events/s.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/thread_name.h"
#include "carehub/care/care_commands.h"
#include "carehub/care/hub_key.h"
#include "carehub/care/patient_id.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/fhir/read_model.h"
#include "carehub/services/fhir_projector.h"
#include "tests/region/region.h"

ABSL_FLAG(std::string, data_dir, "", "A data directory written by carehub-synth-region.");
ABSL_FLAG(bool, rebuild, true, "Measure the rebuild.");
ABSL_FLAG(std::string, model_dir, "",
          "A read model to project into and keep, e.g. DATA_DIR/fhir where carehubd keeps it; it "
          "is caught up first. With --rebuild=false the lag is then measured on that model, "
          "without a rebuild just before. Empty: a new model in DATA_DIR/bench-fhir-PID, removed "
          "at the end.");
ABSL_FLAG(uint64_t, rebuild_events, 0,
          "Time the rebuild over the first N events only (0: the whole log); for quick profiles.");
ABSL_FLAG(double, lag_seconds, 20, "How long the lag phase appends (0: skip it).");
ABSL_FLAG(double, lag_rate, 2000, "Events per second appended during the lag phase.");
ABSL_FLAG(bool, lag_series, false,
          "Also print the lag phase second by second (p50, p99, max; UTC times, to set beside "
          "the read model's RocksDB LOG).");
ABSL_FLAG(int, lag_first_patient, 100000,
          "Index of the first new patient of the lag phase: above the region's, and below about "
          "380,000 (a synthetic patient is born 1920-01-01 + index/10 days; a birth date in the "
          "future is refused).");

namespace carehub::region {
namespace {

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p / 100 * static_cast<double>(v.size())))];
}

// The lags of the acknowledgements of each second, one line per second.
void PrintLagSeries(const std::vector<std::pair<uint64_t, absl::Time>>& acks,
                    const std::vector<double>& lags) {
  std::map<int64_t, std::vector<double>> by_second;
  for (size_t i = 0; i < acks.size() && i < lags.size(); ++i) {
    by_second[absl::ToUnixSeconds(acks[i].second)].push_back(lags[i]);
  }
  for (const auto& [second, values] : by_second) {
    std::printf("  %s  n %5zu  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n",
                absl::FormatTime("%H:%M:%S", absl::FromUnixSeconds(second), absl::UTCTimeZone())
                    .c_str(),
                values.size(), Percentile(values, 50), Percentile(values, 99),
                Percentile(values, 100));
  }
}

// CPU seconds used so far by this process's threads, summed by thread name (/proc/self/task):
// where a phase's time went, between the projector's threads, the event store's, RocksDB's
// and the benchmark's own. A thread that ends between two readings loses its share.
std::map<std::string, double> ThreadCpuSeconds() {
  std::map<std::string, double> out;
  const double ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::string name;
    std::string stat;
    std::getline(std::ifstream(task.path() / "comm"), name);
    std::getline(std::ifstream(task.path() / "stat"), stat);
    // The name in stat is in parentheses and may hold spaces: fields are counted from the last
    // ')', which ends field 2; utime and stime are fields 14 and 15.
    const size_t close = stat.rfind(')');
    if (name.empty() || close == std::string::npos) continue;  // ended meanwhile
    std::istringstream fields(stat.substr(close + 1));
    std::string field;
    uint64_t ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      uint64_t value = 0;
      if (i >= 14 && absl::SimpleAtoi(field, &value)) ticks += value;
    }
    out[name] += static_cast<double>(ticks) / ticks_per_second;
  }
  return out;
}

// "name 48% ..." for each thread name that used at least 1% of one core between the two
// readings, busiest first, and the total against the machine's cores.
std::string CpuShares(const std::map<std::string, double>& before,
                      const std::map<std::string, double>& after, double seconds) {
  std::vector<std::pair<double, std::string>> shares;
  double total = 0;
  for (const auto& [name, used] : after) {
    auto it = before.find(name);
    const double percent = 100 * (used - (it == before.end() ? 0 : it->second)) / seconds;
    total += percent;
    if (percent >= 1) shares.emplace_back(percent, name);
  }
  std::sort(shares.rbegin(), shares.rend());
  std::string out;
  for (const auto& [percent, name] : shares) {
    absl::StrAppend(&out, name, " ", static_cast<int>(percent + 0.5), "%  ");
  }
  absl::StrAppend(&out, "total ", static_cast<int>(total), "% of ",
                  100 * std::thread::hardware_concurrency(), "%");
  return out;
}

// The subscription read rate of the whole log: what a projection that did nothing would reach.
absl::StatusOr<double> ReadLogRate(eventstore::EventStore& store, uint64_t end) {
  const absl::Time begin = absl::Now();
  std::unique_ptr<eventstore::Subscription> sub = store.Subscribe({.max_batch = 512});
  uint64_t events = 0;
  while (true) {
    ASSIGN_OR_RETURN(eventstore::SubscriptionBatch batch, sub->Poll());
    events += batch.events.size();
    if (batch.checkpoint >= end || batch.caught_up) break;
  }
  return static_cast<double>(events) / absl::ToDoubleSeconds(absl::Now() - begin);
}

absl::Status Run() {
  const std::filesystem::path dir(absl::GetFlag(FLAGS_data_dir));
  if (dir.empty()) return absl::InvalidArgumentError("--data_dir is required");
  ASSIGN_OR_RETURN(std::unique_ptr<eventstore::EventStore> store,
                   eventstore::EventStore::Open({.path = (dir / "eventstore").string()}));
  ASSIGN_OR_RETURN(const uint64_t end, eventstore::LogEnd(*store));
  const bool own_model = absl::GetFlag(FLAGS_model_dir).empty();
  const std::filesystem::path model_dir =
      own_model ? dir / absl::StrCat("bench-fhir-", ::getpid())
                : std::filesystem::path(absl::GetFlag(FLAGS_model_dir));
  if (own_model) std::filesystem::remove_all(model_dir);
  ASSIGN_OR_RETURN(std::unique_ptr<fhir::ReadModel> model,
                   fhir::ReadModel::Open({.path = model_dir.string()}));
  ASSIGN_OR_RETURN(const uint64_t checkpoint, model->Checkpoint());
  if (absl::GetFlag(FLAGS_rebuild) && checkpoint > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        model_dir.string(), " has projected ", checkpoint,
        " events already: a rebuild is timed from an empty model (or pass --rebuild=false)"));
  }
  std::printf("region log: %llu events\n", static_cast<unsigned long long>(end));

  // Visibility times of positions, for the lag phase (filled by the projector's callback).
  absl::Mutex mu;
  std::vector<std::pair<uint64_t, absl::Time>> applied;  // (checkpoint, when), lag phase only
  std::atomic<bool> record{false};
  services::FhirProjector::Options options;
  options.idle_wait = absl::Milliseconds(100);
  options.on_applied = [&](uint64_t checkpoint) {
    if (!record.load(std::memory_order_relaxed)) return;
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu);
    applied.emplace_back(checkpoint, now);
  };
  services::FhirProjector projector(store.get(), model.get(), options);

  if (absl::GetFlag(FLAGS_rebuild)) {
    const uint64_t rebuild_events = absl::GetFlag(FLAGS_rebuild_events);
    const uint64_t rebuild_end = rebuild_events > 0 ? std::min(end, rebuild_events) : end;
    ASSIGN_OR_RETURN(double read_rate, ReadLogRate(*store, rebuild_end));
    const absl::Time begin = absl::Now();
    RETURN_IF_ERROR(projector.Start());
    RETURN_IF_ERROR(projector.WaitForCheckpoint(rebuild_end, absl::Hours(2)));
    const double seconds = absl::ToDoubleSeconds(absl::Now() - begin);
    const double rate = static_cast<double>(rebuild_end) / seconds;
    std::printf("%-34s %12s %10s\n", "", "events/s", "seconds");
    std::printf("%-34s %12.0f %10s\n", "log read (subscription, baseline)", read_rate, "");
    std::printf("%-34s %12.0f %10.1f   %.2fx of read; target >= 50,000: %s\n",
                "projection rebuild", rate, seconds, rate / read_rate,
                rate >= 50000 ? "PASS" : "MISS");
    if (rebuild_end < end && absl::GetFlag(FLAGS_lag_seconds) > 0) {
      RETURN_IF_ERROR(projector.WaitForCheckpoint(end, absl::Hours(2)));
    }
  } else {
    // Catch the new model up without timing it.
    RETURN_IF_ERROR(projector.Start());
    RETURN_IF_ERROR(projector.WaitForCheckpoint(end, absl::Hours(2)));
  }
  // The compaction that follows a long catch-up (the model serves reads meanwhile); the lag is
  // measured in the state it leaves, which is the model's state from then on.
  const absl::Time compaction_begin = absl::Now();
  RETURN_IF_ERROR(projector.WaitForCompaction(absl::Hours(1)));
  std::printf("%-34s %12s %10.1f   (after the catch-up, in the background)\n",
              "wait for the model's compaction", "",
              absl::ToDoubleSeconds(absl::Now() - compaction_begin));

  const double lag_seconds = absl::GetFlag(FLAGS_lag_seconds);
  if (lag_seconds > 0) {
    ASSIGN_OR_RETURN(std::string key,
                     care::LoadOrCreateHubKey((dir / "care" / "hub.key").string()));
    std::unique_ptr<care::PatientIdGenerator> ids = care::NewUrandomPatientIdGenerator();
    ThreadClock clock;
    ASSIGN_OR_RETURN(std::unique_ptr<care::CareCommands> care,
                     care::CareCommands::Create(store.get(), {.clock = &clock,
                                                              .ids = ids.get(),
                                                              .hub_key = std::move(key)}));
    record = true;
    // Commands are paced so that events arrive at --lag_rate (a command makes ~1.3 events);
    // workers take tickets from a schedule, so latency does not slow the arrival rate.
    const double events_per_command = 1.35;
    const double command_rate = absl::GetFlag(FLAGS_lag_rate) / events_per_command;
    const int64_t tickets = static_cast<int64_t>(command_rate * lag_seconds);
    std::atomic<int64_t> next_ticket{0};
    std::atomic<int> next_patient{absl::GetFlag(FLAGS_lag_first_patient)};
    std::vector<std::pair<uint64_t, absl::Time>> acks;  // (last position, ack time)
    std::atomic<uint64_t> events{0};
    absl::Status error;
    const absl::Time start = absl::Now();
    const RegionOptions region{.seed = 99};
    auto worker = [&] {
      NameThisThread("bench-commands");
      std::vector<JourneyStep> steps;
      size_t step = 0;
      std::string patient_id;
      for (int64_t t = next_ticket++; t < tickets; t = next_ticket++) {
        absl::SleepFor(start + absl::Seconds(static_cast<double>(t) / command_rate) - absl::Now());
        if (step == steps.size()) {
          steps = Journey(next_patient++, region);
          step = 0;
          patient_id.clear();
        }
        JourneyStep& s = steps[step++];
        ThreadClock::SetForThisThread(s.at);
        if (!patient_id.empty()) s.command.mutable_patient()->set_patient_id(patient_id);
        absl::StatusOr<care::v1::CommandResponse> r = care->Execute(s.command);
        const absl::Time acked = absl::Now();
        absl::MutexLock lock(&mu);
        if (!r.ok()) {
          if (error.ok()) error = r.status();
          return;
        }
        patient_id = r->patient_id();
        if (r->replayed()) {
          // A replayed command appends nothing, so it has no lag to measure.
          if (error.ok()) {
            error = absl::FailedPreconditionError(absl::StrCat(
                "patient ", next_patient.load() - 1, " is already in this log (an earlier run): "
                "pass a --lag_first_patient above ", next_patient.load() + 16));
          }
          return;
        }
        events += static_cast<uint64_t>(r->event_ids_size());
        acks.emplace_back(r->last_position(), acked);
      }
    };
    const std::map<std::string, double> cpu_before = ThreadCpuSeconds();
    std::vector<std::thread> threads;
    for (int i = 0; i < 16; ++i) threads.emplace_back(worker);
    // Read while the workers still run (a thread's time is gone from /proc once it is joined).
    const absl::Duration window = absl::Seconds(lag_seconds * 0.9);
    absl::SleepFor(start + window - absl::Now());
    const std::map<std::string, double> cpu_after = ThreadCpuSeconds();
    for (std::thread& t : threads) t.join();
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
    RETURN_IF_ERROR(error);
    ASSIGN_OR_RETURN(const uint64_t log_end, eventstore::LogEnd(*store));
    RETURN_IF_ERROR(projector.WaitForCheckpoint(log_end, absl::Minutes(1)));
    std::vector<double> lags;
    {
      absl::MutexLock lock(&mu);
      // The checkpoint moves just before on_applied runs: wait for the last callback too.
      auto recorded = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
        return !applied.empty() && applied.back().first >= log_end;
      };
      mu.AwaitWithTimeout(absl::Condition(&recorded), absl::Seconds(10));
      std::sort(applied.begin(), applied.end());
      for (const auto& [position, acked] : acks) {
        // The first checkpoint past the position: when the projector had applied it.
        auto it = std::lower_bound(applied.begin(), applied.end(),
                                   std::make_pair(position + 1, absl::InfinitePast()));
        if (it == applied.end()) {
          return absl::InternalError(absl::StrCat(
              "position ", position, " was never applied; last applied ",
              applied.empty() ? 0 : applied.back().first, " of ", applied.size()));
        }
        lags.push_back(std::max(0.0, absl::ToDoubleMilliseconds(it->second - acked)));
      }
    }
    if (absl::GetFlag(FLAGS_lag_series)) PrintLagSeries(acks, lags);
    const double p99 = Percentile(lags, 99);
    std::printf("append-to-visible lag at %.0f events/s for %.0f s (%llu events, %zu commands):\n",
                static_cast<double>(events.load()) / elapsed, elapsed,
                static_cast<unsigned long long>(events.load()), lags.size());
    std::printf("  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms; target p99 < 50 ms: %s\n",
                Percentile(lags, 50), Percentile(lags, 90), p99, Percentile(lags, 100),
                p99 < 50 ? "PASS" : "MISS");
    std::printf("  CPU by thread, %% of one core over the first %.0f s: %s\n",
                absl::ToDoubleSeconds(window),
                CpuShares(cpu_before, cpu_after, absl::ToDoubleSeconds(window)).c_str());
  }
  projector.Stop();
  model.reset();
  if (own_model && getenv("CAREHUB_BENCH_KEEP_MODEL") == nullptr) {
    std::filesystem::remove_all(model_dir);
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace carehub::region

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("FHIR projection rebuild and lag over a synthetic region.");
  absl::ParseCommandLine(argc, argv);
  // As the servers run (services::RunServerProcess): no lock-order graph on every lock.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const absl::Status status = carehub::region::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "carehub-region-bench: %s\n", std::string(status.ToString()).c_str());
    return 1;
  }
  return 0;
}
