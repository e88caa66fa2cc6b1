// Command-line flags of carehub-eventstore-bench, parsed without global flag objects.
//
//   --seconds=S          seconds per throughput measurement (default 3; 0.5 with --quick)
//   --rounds=N           write figures and their baselines are measured in turn N times, and
//                        each is reported as its median round (default 3; 1 with --quick)
//   --dir=PATH           where to create the run's scratch directory (default $TMPDIR or /tmp);
//                        the scratch directory is removed at the end, PATH itself never
//   --catchup_events=N   events in the catch-up log (default 1000000; 20000 with --quick)
//   --quick              a smoke run: short measurements, small catch-up log
//   --only=A,B           measure only figures whose name contains one of these substrings
//                        (e.g. --only=put.t64,append.w64 for one figure and its baseline)
//   --help
//
// Values may follow the flag after '=' or as the next argument.
#ifndef CAREHUB_SERVICES_EVENTSTORE_BENCH_BENCH_FLAGS_H_
#define CAREHUB_SERVICES_EVENTSTORE_BENCH_BENCH_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace carehub::bench {

struct BenchFlags {
  absl::Duration seconds = absl::Seconds(3);
  std::string dir;  // empty: $TMPDIR or /tmp
  uint64_t catchup_events = 1'000'000;
  int rounds = 3;
  bool quick = false;
  bool help = false;
  std::vector<std::string> only;  // empty: every figure
};

// Whether the figure `name` is to be measured under flags.only.
bool Wanted(const BenchFlags& flags, const std::string& name);

// InvalidArgument for an unknown flag or a malformed value.
absl::StatusOr<BenchFlags> ParseFlags(int argc, char** argv);

// The text printed for --help.
std::string Usage(const char* program);

}  // namespace carehub::bench

#endif  // CAREHUB_SERVICES_EVENTSTORE_BENCH_BENCH_FLAGS_H_
