// Report: the figures of one benchmark run, each with its ratio to a baseline measured in the
// same run, and the targets they are held to.
//
//   Report report;
//   report.Add(MakeFigure({.name = "rocksdb.put.t64", ...}, RunRawRocksDbWrites(...)));
//   report.Add(MakeFigure({.name = "library.append.w64", ..., .baseline = "rocksdb.put.t64"},
//                         RunLibraryAppends(...)));
//   report.AddTarget({.figure = "library.append.w64", .min_ratio = 2.0, .max_p99 = ...});
//   report.Print(stdout);  // a table, the targets with PASS/MISS, one `bench ...` line per figure
//
// Ratios are value / baseline value. Not thread-safe.
#ifndef CAREHUB_SERVICES_EVENTSTORE_BENCH_REPORT_H_
#define CAREHUB_SERVICES_EVENTSTORE_BENCH_REPORT_H_

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/eventstore/bench/closed_loop.h"

namespace carehub::bench {

struct Figure {
  std::string name;         // dotted, stable: the key of the machine-readable line
  std::string description;  // what was measured, for the human reader
  double value = 0;
  std::string unit;  // "puts/s", "appends/s", "events/s", "calls/s"
  std::optional<absl::Duration> p50;
  std::optional<absl::Duration> p99;
  uint64_t samples = 0;  // operations behind the figure
  uint64_t errors = 0;
  std::string first_error;
  std::string baseline;  // name of the figure this one is compared to; empty for none
};

// What a figure is, before it is measured.
struct FigureSpec {
  std::string name;
  std::string description;
  std::string unit;
  bool per_item = false;  // value = items/s (events, puts) rather than operations/s
  std::string baseline;
};

// The figure of a closed-loop result; a failed measurement becomes a figure with an error.
Figure MakeFigure(const FigureSpec& spec, const absl::StatusOr<LoadResult>& load);

struct Target {
  std::string figure;
  std::string text;  // the target as a person states it
  std::optional<double> min_ratio;
  std::optional<double> min_value;
  std::optional<absl::Duration> max_p99;
};

class Report {
 public:
  // Also prints a one-line progress note to stderr, so a long run shows where it is.
  void Add(Figure figure);
  void AddTarget(Target target);
  // A line printed under the table (e.g. the machine, the flags).
  void AddNote(std::string note);

  // Whether every target was met (a target whose figure is missing or has errors is missed).
  bool AllTargetsMet() const;
  // Whether any measurement failed.
  bool AnyErrors() const;
  void Print(std::FILE* out) const;

 private:
  const Figure* Find(const std::string& name) const;
  std::optional<double> Ratio(const Figure& figure) const;
  // Empty if met; otherwise why not.
  std::string Miss(const Target& target) const;
  void PrintTable(std::FILE* out) const;
  void PrintTargets(std::FILE* out) const;
  void PrintMachineLines(std::FILE* out) const;

  std::vector<Figure> figures_;
  std::vector<Target> targets_;
  std::vector<std::string> notes_;
};

}  // namespace carehub::bench

#endif  // CAREHUB_SERVICES_EVENTSTORE_BENCH_REPORT_H_
