#include "services/eventstore/bench/report.h"

#include <cinttypes>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace carehub::bench {
namespace {

// 1234567.8 -> "1,234,568": figures span five orders of magnitude, separators keep them legible.
std::string Grouped(double value) {
  const std::string digits = absl::StrFormat("%.0f", value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    const size_t left = digits.size() - i;  // digits from here to the end, this one included
    if (i > 0 && digits[i - 1] != '-' && left % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string Latency(const std::optional<absl::Duration>& d) {
  if (!d.has_value()) return "-";
  const double us = absl::ToDoubleMicroseconds(*d);
  return us < 1000 ? absl::StrFormat("%.0f us", us) : absl::StrFormat("%.2f ms", us / 1000);
}

std::string Micros(const std::optional<absl::Duration>& d) {
  return d.has_value() ? absl::StrFormat("%.1f", absl::ToDoubleMicroseconds(*d)) : "-";
}

}  // namespace

Figure MakeFigure(const FigureSpec& spec, const absl::StatusOr<LoadResult>& load) {
  Figure f{.name = spec.name,
           .description = spec.description,
           .unit = spec.unit,
           .baseline = spec.baseline};
  if (!load.ok()) {
    f.errors = 1;
    f.first_error = load.status().ToString();
    return f;
  }
  f.value = spec.per_item ? load->ItemsPerSecond() : load->OpsPerSecond();
  if (load->latency.count() > 0) {
    f.p50 = load->latency.Percentile(0.50);
    f.p99 = load->latency.Percentile(0.99);
  }
  f.samples = load->ops;
  f.errors = load->errors;
  f.first_error = load->first_error;
  return f;
}

void Report::Add(Figure figure) {
  std::fprintf(stderr, "  measured %-34s %14s %-10s p99 %-10s%s\n", figure.name.c_str(),
               Grouped(figure.value).c_str(), figure.unit.c_str(), Latency(figure.p99).c_str(),
               figure.errors > 0 ? ("  ERROR " + figure.first_error).c_str() : "");
  figures_.push_back(std::move(figure));
}

void Report::AddTarget(Target target) { targets_.push_back(std::move(target)); }

void Report::AddNote(std::string note) { notes_.push_back(std::move(note)); }

const Figure* Report::Find(const std::string& name) const {
  for (const Figure& f : figures_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::optional<double> Report::Ratio(const Figure& figure) const {
  if (figure.baseline.empty()) return std::nullopt;
  const Figure* base = Find(figure.baseline);
  if (base == nullptr || base->value <= 0) return std::nullopt;
  return figure.value / base->value;
}

std::string Report::Miss(const Target& target) const {
  const Figure* f = Find(target.figure);
  if (f == nullptr) return "not measured";
  if (f->errors > 0) return "errors: " + f->first_error;
  std::vector<std::string> misses;
  if (target.min_ratio.has_value()) {
    const std::optional<double> ratio = Ratio(*f);
    if (!ratio.has_value()) {
      misses.push_back("no baseline");
    } else if (*ratio < *target.min_ratio) {
      misses.push_back(absl::StrFormat("ratio %.2f < %.2f", *ratio, *target.min_ratio));
    }
  }
  if (target.min_value.has_value() && f->value < *target.min_value) {
    misses.push_back(absl::StrCat(Grouped(f->value), " < ", Grouped(*target.min_value)));
  }
  if (target.max_p99.has_value() && (!f->p99.has_value() || *f->p99 >= *target.max_p99)) {
    misses.push_back(absl::StrCat("p99 ", Latency(f->p99), " >= ", Latency(target.max_p99)));
  }
  return absl::StrJoin(misses, "; ");
}

bool Report::AllTargetsMet() const {
  for (const Target& t : targets_) {
    if (!Miss(t).empty()) return false;
  }
  return true;
}

bool Report::AnyErrors() const {
  for (const Figure& f : figures_) {
    if (f.errors > 0) return true;
  }
  return false;
}

void Report::PrintTable(std::FILE* out) const {
  std::fprintf(out, "%-30s %13s %-10s %9s %9s  %-26s %6s  %s\n", "figure", "value", "unit", "p50",
               "p99", "baseline", "ratio", "what");
  for (const Figure& f : figures_) {
    const std::optional<double> ratio = Ratio(f);
    std::fprintf(out, "%-30s %13s %-10s %9s %9s  %-26s %6s  %s%s\n", f.name.c_str(),
                 Grouped(f.value).c_str(), f.unit.c_str(), Latency(f.p50).c_str(),
                 Latency(f.p99).c_str(), f.baseline.empty() ? "-" : f.baseline.c_str(),
                 ratio.has_value() ? absl::StrFormat("%.2f", *ratio).c_str() : "-",
                 f.description.c_str(),
                 f.errors > 0 ? absl::StrCat("  [ERROR ", f.first_error, "]").c_str() : "");
  }
}

void Report::PrintTargets(std::FILE* out) const {
  std::fprintf(out, "\ntargets\n");
  for (const Target& t : targets_) {
    const std::string miss = Miss(t);
    const Figure* f = Find(t.figure);
    std::string got = "-";
    if (f != nullptr) {
      const std::optional<double> ratio = Ratio(*f);
      got = ratio.has_value() ? absl::StrFormat("ratio %.2f", *ratio)
                              : absl::StrCat(Grouped(f->value), " ", f->unit);
      if (t.max_p99.has_value()) absl::StrAppend(&got, ", p99 ", Latency(f->p99));
    }
    std::fprintf(out, "  %-4s  %-30s %-44s %s%s\n", miss.empty() ? "PASS" : "MISS",
                 t.figure.c_str(), t.text.c_str(), got.c_str(),
                 miss.empty() ? "" : ("  (" + miss + ")").c_str());
  }
}

void Report::PrintMachineLines(std::FILE* out) const {
  std::fprintf(out, "\n");
  for (const Figure& f : figures_) {
    std::string line = absl::StrFormat("bench name=%s value=%.1f unit=%s p50_us=%s p99_us=%s",
                                       f.name, f.value, f.unit, Micros(f.p50), Micros(f.p99));
    absl::StrAppend(&line, " samples=", f.samples, " errors=", f.errors);
    const Figure* base = f.baseline.empty() ? nullptr : Find(f.baseline);
    const std::optional<double> ratio = Ratio(f);
    absl::StrAppend(&line, " baseline=", f.baseline.empty() ? "-" : f.baseline);
    absl::StrAppend(
        &line, " baseline_value=", base != nullptr ? absl::StrFormat("%.1f", base->value) : "-");
    absl::StrAppend(&line, " ratio=", ratio.has_value() ? absl::StrFormat("%.3f", *ratio) : "-");
    std::fprintf(out, "%s\n", line.c_str());
  }
}

void Report::Print(std::FILE* out) const {
  std::fprintf(out, "\n");
  PrintTable(out);
  PrintTargets(out);
  if (!notes_.empty()) std::fprintf(out, "\n");
  for (const std::string& note : notes_) std::fprintf(out, "note: %s\n", note.c_str());
  PrintMachineLines(out);
  std::fflush(out);
}

}  // namespace carehub::bench
