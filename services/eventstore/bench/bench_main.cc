// carehub-eventstore-bench: throughput and latency of the event store, in-process and over gRPC,
// each figure next to a baseline measured in the same run on the same machine, and PASS/MISS
// against the targets. See bench_flags.h for flags; the table's "what" column says what each
// figure measures and the headers of rocksdb_baseline.h and echo_baseline.h why each baseline
// is the fair comparison.
//
// Everything runs in this process: writers are threads, the gRPC server listens on
// 127.0.0.1:0. Data goes to a fresh scratch directory that is removed at the end.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "carehub/base/status_macros.h"
#include "carehub/services/eventstore_service.h"
#include "services/eventstore/bench/bench_flags.h"
#include "services/eventstore/bench/catch_up.h"
#include "services/eventstore/bench/echo_baseline.h"
#include "services/eventstore/bench/event_factory.h"
#include "services/eventstore/bench/library_appends.h"
#include "services/eventstore/bench/loopback_server.h"
#include "services/eventstore/bench/report.h"
#include "services/eventstore/bench/rocksdb_baseline.h"
#include "services/eventstore/bench/scratch_store.h"
#include "services/eventstore/bench/service_bench.h"

namespace carehub::bench {
namespace {

// The concurrency levels the targets name.
constexpr int kManyWriters = 64;
constexpr int kBatchWriters = 4;
constexpr size_t kBatchEvents = 100;
constexpr int kSharedStreams = 4;
// Page and batch sizes of the catch-up readers: the API defaults, what a caller gets untuned.
constexpr size_t kReadAllPage = 1000;
constexpr size_t kSubscriptionBatch = 512;

// What every measurement of one run shares.
struct Run {
  const BenchFlags* flags = nullptr;
  std::filesystem::path dir;  // the run's scratch directory
  std::string nonce;
  Report* report = nullptr;
  std::string load_at_start;

  bool Wants(const std::string& figure) const { return Wanted(*flags, figure); }

  LoadSpec Load(int workers) const { return {.workers = workers, .duration = flags->seconds}; }
  // Catch-up is bounded by count; this bound only stops a pathologically slow reader.
  absl::Duration CatchUpLimit() const { return std::max(absl::Seconds(60), 20 * flags->seconds); }
  // A directory of its own for each measurement, also of the same figure in another round.
  std::filesystem::path Path(const std::string& name) const { return dir / absl::StrCat(name, ".", ++paths); }

  mutable int paths = 0;
};

absl::StatusOr<std::filesystem::path> MakeRunDir(const std::string& parent_flag) {
  const char* tmpdir = std::getenv("TMPDIR");
  const std::string parent =
      !parent_flag.empty() ? parent_flag : (tmpdir != nullptr && *tmpdir ? tmpdir : "/tmp");
  std::error_code error;
  std::filesystem::create_directories(parent, error);
  std::string path = parent + "/carehub-eventstore-bench-XXXXXX";
  if (mkdtemp(path.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", path, ": ", std::strerror(errno)));
  }
  return std::filesystem::path(path);
}

// "1 writer", "16 writers".
std::string Count(int n, const std::string& noun) {
  return absl::StrCat(n, " ", noun, n == 1 ? "" : "s");
}

// The 1-minute load average: other processes compete for the cores and the disk, and a busy
// machine moves every figure. Empty if unknown.
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one_minute;
  in >> one_minute;
  return one_minute;
}

// Measures one figure if --only wants it (the catch-up figures, which have no baseline).
void Measure(const Run& run, const FigureSpec& spec,
             const std::function<absl::StatusOr<LoadResult>()>& measure) {
  if (!run.Wants(spec.name)) return;
  // Write back the previous measurement's dirty pages now rather than during this one.
  ::sync();
  run.report->Add(MakeFigure(spec, measure()));
}

// A figure and how to measure it once.
struct Measurement {
  FigureSpec spec;
  std::function<absl::StatusOr<LoadResult>()> measure;
};

// Measures `figures` (a baseline first, then the figures compared to it) in turn, --rounds times,
// and reports each as its median round. Drift in the machine (other load, the disk's sync
// latency) then moves a figure and its baseline alike, and one disturbed round decides no ratio.
void MeasureRounds(const Run& run, const std::vector<Measurement>& figures) {
  std::vector<std::vector<absl::StatusOr<LoadResult>>> rounds(figures.size());
  for (int round = 0; round < run.flags->rounds; ++round) {
    for (size_t i = 0; i < figures.size(); ++i) {
      if (!run.Wants(figures[i].spec.name)) continue;
      ::sync();  // write back the previous measurement's dirty pages now, not during this one
      rounds[i].push_back(figures[i].measure());
    }
  }
  for (size_t i = 0; i < figures.size(); ++i) {
    std::vector<absl::StatusOr<LoadResult>>& results = rounds[i];
    if (results.empty()) continue;
    auto failed = std::find_if(results.begin(), results.end(), [](const auto& r) { return !r.ok(); });
    if (failed != results.end()) {
      run.report->Add(MakeFigure(figures[i].spec, *failed));
      continue;
    }
    const bool per_item = figures[i].spec.per_item;
    std::sort(results.begin(), results.end(), [per_item](const auto& a, const auto& b) {
      return per_item ? a->ItemsPerSecond() < b->ItemsPerSecond() : a->OpsPerSecond() < b->OpsPerSecond();
    });
    run.report->Add(MakeFigure(figures[i].spec, results[results.size() / 2]));
  }
}

absl::StatusOr<LoadResult> AppendToFreshStore(const Run& run, const std::string& name,
                                              const AppendSpec& spec) {
  ASSIGN_OR_RETURN(std::unique_ptr<ScratchStore> scratch, ScratchStore::Open(run.Path(name)));
  return RunLibraryAppends(*scratch->store(), spec);
}

// One event per append from `writers` writers, against raw synced puts from as many threads.
void MeasureSingleEventWrites(const Run& run, int writers) {
  const std::string baseline = absl::StrCat("rocksdb.put.t", writers);
  const std::string name = absl::StrCat("library.append.w", writers);
  std::vector<Measurement> figures = {
      {{.name = baseline,
        .description = absl::StrCat("raw RocksDB synced Put, 21 B key + 400 B value, ", Count(writers, "thread")),
        .unit = "puts/s"},
       [&run, baseline, writers] {
         return RunRawRocksDbWrites({.path = run.Path(baseline),
                                     .load = run.Load(writers),
                                     .puts_per_write = 1,
                                     .run_nonce = run.nonce});
       }},
      {{.name = name,
        .description = absl::StrCat("Append of 1 event, ", Count(writers, "writer"),
                                    " each its own stream, ExpectedVersion::Exact"),
        .unit = "appends/s",
        .baseline = baseline},
       [&run, name, writers] {
         return AppendToFreshStore(run, name, {.load = run.Load(writers), .stream_prefix = name, .run_nonce = run.nonce});
       }}};
  if (writers == kManyWriters) {
    const std::string shared = absl::StrCat(name, ".shared", kSharedStreams);
    figures.push_back({{.name = shared,
                        .description = absl::StrCat("Append of 1 event, ", writers, " writers sharing ",
                                                    kSharedStreams, " streams, ExpectedVersion::Any"),
                        .unit = "appends/s",
                        .baseline = baseline},
                       [&run, shared, writers] {
                         return AppendToFreshStore(run, shared,
                                                   {.load = run.Load(writers),
                                                    .shared_streams = kSharedStreams,
                                                    .stream_prefix = shared,
                                                    .run_nonce = run.nonce});
                       }});
  }
  MeasureRounds(run, figures);
}

// kBatchEvents events per append, against raw synced WriteBatches of as many puts.
void MeasureBatchWrites(const Run& run) {
  const std::string baseline = absl::StrCat("rocksdb.batch", kBatchEvents, ".t", kBatchWriters);
  const std::string name = absl::StrCat("library.append", kBatchEvents, ".w", kBatchWriters);
  MeasureRounds(
      run,
      {{{.name = baseline,
         .description = absl::StrCat("raw RocksDB synced WriteBatch of ", kBatchEvents, " puts (400 B values), ",
                                     kBatchWriters, " threads"),
         .unit = "events/s",
         .per_item = true},
        [&run, baseline] {
          return RunRawRocksDbWrites({.path = run.Path(baseline),
                                      .load = run.Load(kBatchWriters),
                                      .puts_per_write = kBatchEvents,
                                      .run_nonce = run.nonce});
        }},
       {{.name = name,
         .description = absl::StrCat("Append of ", kBatchEvents, " events, ", kBatchWriters,
                                     " writers each its own stream"),
         .unit = "events/s",
         .per_item = true,
         .baseline = baseline},
        [&run, name] {
          return AppendToFreshStore(run, name,
                                    {.load = run.Load(kBatchWriters),
                                     .events_per_append = kBatchEvents,
                                     .stream_prefix = name,
                                     .run_nonce = run.nonce});
        }}});
}

absl::StatusOr<LoadResult> AppendOverGrpc(const Run& run, const std::string& name,
                                          const services::EventStoreServiceOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<ScratchStore> scratch, ScratchStore::Open(run.Path(name)));
  services::EventStoreService service(scratch->store(), options);
  ASSIGN_OR_RETURN(std::unique_ptr<LoopbackServer> server, LoopbackServer::Start({&service}));
  return RunServiceAppends(
      *server, {.load = run.Load(kManyWriters), .stream_prefix = name, .run_nonce = run.nonce});
}

// One-event appends over gRPC, against an echo call carrying the same bytes.
void MeasureGrpcAppends(const Run& run, const WireSizes& sizes) {
  const std::string baseline = absl::StrCat("grpc.echo.c", kManyWriters);
  const std::string name = absl::StrCat("grpc.append.c", kManyWriters);
  const services::EventStoreServiceOptions defaults;
  // Diagnostic, no target: the service runs the blocking Append on an executor, so at most
  // worker_threads appends can share one group commit. As many threads as clients shows how
  // much of the gap to the library figure that bound explains.
  services::EventStoreServiceOptions wide = defaults;
  wide.worker_threads = kManyWriters;
  const std::string wide_name = absl::StrCat(name, ".executor", kManyWriters);
  MeasureRounds(
      run,
      {{{.name = baseline,
         .description = absl::StrFormat(
             "gRPC callback unary echo, %d B request / %d B response, %d sync clients on one channel",
             sizes.request_bytes, sizes.response_bytes, kManyWriters),
         .unit = "calls/s"},
        [&run, &sizes] {
          return RunEchoBaseline({.load = run.Load(kManyWriters),
                                  .request_bytes = sizes.request_bytes,
                                  .response_bytes = sizes.response_bytes});
        }},
       {{.name = name,
         .description = absl::StrCat("EventStore.Append of 1 event over loopback, ", kManyWriters,
                                     " sync clients on one channel, each its own stream"),
         .unit = "appends/s",
         .baseline = baseline},
        [&run, name, defaults] { return AppendOverGrpc(run, name, defaults); }},
       {{.name = wide_name,
         .description = absl::StrCat("as ", name, ", service worker_threads ", kManyWriters, " instead of ",
                                     defaults.worker_threads, " (diagnostic)"),
         .unit = "appends/s",
         .baseline = baseline},
        [&run, wide_name, wide] { return AppendOverGrpc(run, wide_name, wide); }}});
}

// Catch-up: one log of catchup_events events, read three ways.

void MeasureInProcessCatchUp(const Run& run, eventstore::EventStore& store, uint64_t events) {
  const std::string of = absl::StrCat(" from position 0 over ", events, " events");
  Measure(run,
          {.name = "catchup.readall",
           .description = absl::StrCat("ReadAll in pages of ", kReadAllPage, of),
           .unit = "events/s",
           .per_item = true},
          [&] { return RunReadAllCatchUp(store, events, kReadAllPage, run.CatchUpLimit()); });
  Measure(run,
          {.name = "catchup.subscription",
           .description = absl::StrCat("Subscription (max_batch ", kSubscriptionBatch, ")", of),
           .unit = "events/s",
           .per_item = true},
          [&] {
            return RunSubscriptionCatchUp(store, events, kSubscriptionBatch, run.CatchUpLimit());
          });
}

absl::Status MeasureGrpcCatchUp(const Run& run, eventstore::EventStore& store, uint64_t events) {
  if (!run.Wants("catchup.grpc_subscribe")) return absl::OkStatus();
  services::EventStoreService service(&store);
  ASSIGN_OR_RETURN(std::unique_ptr<LoopbackServer> server, LoopbackServer::Start({&service}));
  Measure(
      run,
      {.name = "catchup.grpc_subscribe",
       .description = absl::StrCat("EventStore.Subscribe stream (max_batch ", kSubscriptionBatch,
                                   ") over loopback from position 0 over ", events, " events"),
       .unit = "events/s",
       .per_item = true},
      [&] {
        return RunServiceSubscribeCatchUp(*server, events, kSubscriptionBatch, run.CatchUpLimit());
      });
  return absl::OkStatus();
}

absl::Status MeasureCatchUp(const Run& run) {
  if (!run.Wants("catchup.readall") && !run.Wants("catchup.subscription") &&
      !run.Wants("catchup.grpc_subscribe")) {
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::unique_ptr<ScratchStore> scratch, ScratchStore::Open(run.Path("catchup")));
  const FillSpec fill_spec{.events = run.flags->catchup_events, .run_nonce = run.nonce};
  LoadResult fill;
  ASSIGN_OR_RETURN(const uint64_t stored, FillLog(*scratch->store(), fill_spec, fill));
  run.report->Add(MakeFigure(
      {.name = "catchup.fill",
       .description =
           absl::StrCat("filling the catch-up log: Append of ", fill_spec.events_per_append,
                        " events, ", fill_spec.writers, " writers (for the record)"),
       .unit = "events/s",
       .per_item = true},
      fill));
  const uint64_t events = std::min(stored, run.flags->catchup_events);
  MeasureInProcessCatchUp(run, *scratch->store(), events);
  return MeasureGrpcCatchUp(run, *scratch->store(), events);
}

void AddTargets(Report& report) {
  report.AddTarget({.figure = "library.append.w64",
                    .text = ">= 2x rocksdb.put.t64, p99 < 10 ms",
                    .min_ratio = 2.0,
                    .max_p99 = absl::Milliseconds(10)});
  report.AddTarget({.figure = "library.append100.w4",
                    .text = ">= 0.7x rocksdb.batch100.t4 (events/s)",
                    .min_ratio = 0.7});
  report.AddTarget(
      {.figure = "grpc.append.c64", .text = ">= 0.7x grpc.echo.c64", .min_ratio = 0.7});
  report.AddTarget(
      {.figure = "catchup.readall", .text = ">= 500,000 events/s", .min_value = 500'000});
  report.AddTarget(
      {.figure = "catchup.subscription", .text = ">= 500,000 events/s", .min_value = 500'000});
  report.AddTarget(
      {.figure = "catchup.grpc_subscribe", .text = ">= 300,000 events/s", .min_value = 300'000});
}

void AddRunNotes(const Run& run, const WireSizes& sizes) {
  run.report->AddNote(absl::StrFormat(
      "%d hardware threads; %.1f s per measurement; write figures: the median of %d rounds, each "
      "round measuring the baseline and then its figures; run %s in %s",
      std::thread::hardware_concurrency(), absl::ToDoubleSeconds(run.flags->seconds), run.flags->rounds,
      run.nonce, run.dir.string()));
  run.report->AddNote(absl::StrFormat(
      "events: %d B data + %d B metadata, type %s, unique ids; one-event Append on the wire: "
      "%d B request, %d B response",
      kDataBytes, kMetadataBytes, kEventType, sizes.request_bytes, sizes.response_bytes));
  run.report->AddNote(
      "every write measurement uses a fresh database; ratios compare figures at the same "
      "concurrency; latency is per operation, closed loop (each writer waits for its last)");
  run.report->AddNote(
      "catch-up reads follow the fill at once: warm OS page cache, cold store caches");
  run.report->AddNote(absl::StrCat("load average (1 min) at start ", run.load_at_start, ", at end ",
                                   LoadAverage()));
}

int RunBenchmark(const BenchFlags& flags) {
  absl::StatusOr<std::filesystem::path> dir = MakeRunDir(flags.dir);
  if (!dir.ok()) {
    std::fprintf(stderr, "%s\n", dir.status().ToString().c_str());
    return 1;
  }
  Report report;
  const Run run{.flags = &flags,
                .dir = *dir,
                .nonce = MakeRunNonce(),
                .report = &report,
                .load_at_start = LoadAverage()};
  const WireSizes sizes = OneEventAppendWireSizes(run.nonce);
  std::fprintf(stderr, "carehub-eventstore-bench: scratch %s\n", run.dir.string().c_str());

  for (int writers : {1, 16, kManyWriters}) MeasureSingleEventWrites(run, writers);
  MeasureBatchWrites(run);
  MeasureGrpcAppends(run, sizes);
  const absl::Status catch_up = MeasureCatchUp(run);

  std::error_code ignored;
  std::filesystem::remove_all(run.dir, ignored);
  AddTargets(report);
  AddRunNotes(run, sizes);
  if (!catch_up.ok()) report.AddNote("catch-up failed: " + catch_up.ToString());
  report.Print(stdout);
  return report.AnyErrors() || !catch_up.ok() ? 1 : 0;
}

}  // namespace
}  // namespace carehub::bench

int main(int argc, char** argv) {
  absl::StatusOr<carehub::bench::BenchFlags> flags = carehub::bench::ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr, "%s\n%s", flags.status().ToString().c_str(),
                 carehub::bench::Usage(argv[0]).c_str());
    return 2;
  }
  if (flags->help) {
    std::printf("%s", carehub::bench::Usage(argv[0]).c_str());
    return 0;
  }
  // As the servers run (services::RunServerProcess): no lock-order graph on every lock.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return carehub::bench::RunBenchmark(*flags);
}
