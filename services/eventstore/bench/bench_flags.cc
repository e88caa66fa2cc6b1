#include "services/eventstore/bench/bench_flags.h"

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace carehub::bench {
namespace {

// Splits "--name=value" or "--name value" (consuming the next argument) into name and value.
struct Arg {
  std::string name;
  std::optional<std::string> value;
};

Arg SplitArg(std::string_view arg) {
  while (!arg.empty() && arg.front() == '-') arg.remove_prefix(1);
  const size_t eq = arg.find('=');
  if (eq == std::string_view::npos) return {std::string(arg), std::nullopt};
  return {std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1))};
}

absl::Status Malformed(const std::string& name, const std::string& value) {
  return absl::InvalidArgumentError(absl::StrCat("bad value for --", name, ": '", value, "'"));
}

}  // namespace

absl::StatusOr<BenchFlags> ParseFlags(int argc, char** argv) {
  BenchFlags flags;
  std::optional<double> seconds;
  std::optional<uint64_t> catchup_events;
  std::optional<int> rounds;
  for (int i = 1; i < argc; ++i) {
    const std::string raw = argv[i];
    if (raw.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", raw, "'"));
    }
    Arg arg = SplitArg(raw);
    if (arg.name == "quick" || arg.name == "help") {
      (arg.name == "quick" ? flags.quick : flags.help) = arg.value.value_or("true") != "false";
      continue;
    }
    if (arg.name != "seconds" && arg.name != "catchup_events" && arg.name != "dir" &&
        arg.name != "only" && arg.name != "rounds") {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", arg.name));
    }
    if (!arg.value.has_value()) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat("--", arg.name, " needs a value"));
      }
      arg.value = argv[++i];
    }
    const std::string& value = *arg.value;
    if (arg.name == "seconds") {
      double s = 0;
      if (!absl::SimpleAtod(value, &s) || s <= 0) return Malformed(arg.name, value);
      seconds = s;
    } else if (arg.name == "catchup_events") {
      uint64_t n = 0;
      if (!absl::SimpleAtoi(value, &n) || n == 0) return Malformed(arg.name, value);
      catchup_events = n;
    } else if (arg.name == "rounds") {
      int n = 0;
      if (!absl::SimpleAtoi(value, &n) || n < 1 || n > 99) return Malformed(arg.name, value);
      rounds = n;
    } else if (arg.name == "only") {
      flags.only = absl::StrSplit(value, ',', absl::SkipEmpty());
    } else {
      flags.dir = value;
    }
  }
  flags.seconds = absl::Seconds(seconds.value_or(flags.quick ? 0.5 : 3.0));
  flags.catchup_events = catchup_events.value_or(flags.quick ? 20'000 : 1'000'000);
  flags.rounds = rounds.value_or(flags.quick ? 1 : 3);
  return flags;
}

bool Wanted(const BenchFlags& flags, const std::string& name) {
  if (flags.only.empty()) return true;
  for (const std::string& part : flags.only) {
    if (name.find(part) != std::string::npos) return true;
  }
  return false;
}

std::string Usage(const char* program) {
  return absl::StrCat(
      "usage: ", program,
      " [--seconds=S] [--rounds=N] [--dir=PATH] [--catchup_events=N] [--quick] [--only=A,B]\n",
      "  --seconds          seconds per throughput measurement (default 3; 0.5 with --quick)\n",
      "  --rounds           write figures and their baselines are measured in turn this many\n",
      "                     times; each reported figure is its median round (default 3; 1 with --quick)\n",
      "  --dir              parent of the run's scratch directory (default $TMPDIR or /tmp);\n",
      "                     the scratch directory is removed at the end\n",
      "  --catchup_events   events in the catch-up log (default 1000000; 20000 with --quick)\n",
      "  --quick            smoke run: one round, short measurements, small catch-up log\n",
      "  --only=A,B         only figures whose name contains A or B (e.g. put.t64,append.w64)\n",
      "Prints a table, PASS/MISS per target, and one 'bench name=... value=...' line per\n",
      "figure. Exits 0 when every measurement ran without error (whatever the targets say),\n",
      "1 when one failed, 2 on bad flags.\n");
}

}  // namespace carehub::bench
