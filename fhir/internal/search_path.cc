#include "fhir/internal/search_path.h"

#include <array>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"

namespace carehub::fhir::internal {
namespace {

// The choice elements ("x[x]") the table's expressions name without a type. Listing them keeps a
// plain field from matching a longer sibling (Goal.status must never visit Goal.statusDate).
constexpr std::array<std::string_view, 6> kChoiceElements = {"effective", "value",    "scheduled",
                                                             "occurred",  "deceased", "due"};
// The data types a choice element takes in the resources carehub writes or could receive.
constexpr std::array<std::string_view, 16> kChoiceTypes = {
    "DateTime", "Period", "Timing",  "String", "Quantity", "CodeableConcept", "Boolean", "Reference",
    "Instant",  "Date",   "Integer", "Age",    "Range",    "Ratio",           "SampledData", "Time"};

bool IsChoice(std::string_view name) {
  for (std::string_view c : kChoiceElements) {
    if (c == name) return true;
  }
  return false;
}

template <typename JsonT>
void Push(const JsonT& v, std::vector<const JsonT*>& out) {
  if (v.is_array()) {
    for (const JsonT& e : v) out.push_back(&e);
  } else if (!v.is_null()) {
    out.push_back(&v);
  }
}

template <typename JsonT>
std::string ReferenceType(const JsonT& node) {
  if (!node.is_object()) return "";
  auto it = node.find("reference");
  if (it == node.end() || !it->is_string()) return "";
  std::string ref = NormalizeReference(it->template get_ref<const std::string&>());
  return ref.substr(0, ref.find('/'));
}

}  // namespace

std::string NormalizeReference(std::string_view reference) {
  if (reference.empty() || reference[0] == '#') return "";
  std::vector<absl::string_view> parts = absl::StrSplit(Sv(reference), '/');
  if (parts.size() >= 4 && parts[parts.size() - 2] == "_history") parts.resize(parts.size() - 2);
  if (parts.size() < 2) return "";
  return absl::StrCat(parts[parts.size() - 2], "/", parts.back());
}

absl::StatusOr<SearchPath> SearchPath::Compile(std::string_view expression) {
  SearchPath path;
  for (absl::string_view split : absl::StrSplit(Sv(expression), " | ")) {
    std::string_view alt(split.data(), split.size());
    ASSIGN_OR_RETURN(Alternative steps, CompileAlternative(alt));
    path.alternatives_.push_back(std::move(steps));
  }
  return path;
}

absl::StatusOr<SearchPath::Alternative> SearchPath::CompileAlternative(std::string_view alt) {
  const std::string whole(alt);
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("search expression '", whole, "': ", Sv(why)));
  };
  std::string_view path = alt;
  std::string_view as_type;
  std::string_view tail;
  if (!alt.empty() && alt[0] == '(') {
    const size_t close = alt.find(')');
    const size_t as = alt.find(" as ");
    if (close == std::string_view::npos || as == std::string_view::npos || as > close) {
      return bad("expected (path as type)");
    }
    path = alt.substr(1, as - 1);
    as_type = alt.substr(as + 4, close - as - 4);
    tail = alt.substr(close + 1);
    if (!tail.empty() && tail[0] != '.') return bad("expected '.' after ')'");
    if (as_type.empty()) return bad("'as' needs a type");
  }
  std::vector<std::string> segments = SplitSteps(path);
  if (segments.size() < 2) return bad("expected ResourceType.field");
  Alternative steps;
  for (size_t i = 1; i < segments.size(); ++i) {
    ASSIGN_OR_RETURN(Step step, CompileStep(segments[i]));
    steps.push_back(std::move(step));
  }
  if (!as_type.empty()) {
    // "(x as dateTime)" selects the typed variant xDateTime of the choice element x.
    Step& last = steps.back();
    if (last.kind != Step::Kind::kChoice && last.kind != Step::Kind::kField) {
      return bad("'as' needs a field");
    }
    last.kind = Step::Kind::kField;
    last.name = absl::StrCat(last.name, std::string(1, static_cast<char>(std::toupper(
                                                         static_cast<unsigned char>(as_type[0])))),
                             Sv(as_type.substr(1)));
    if (!tail.empty()) {
      for (const std::string& seg : SplitSteps(tail.substr(1))) {
        ASSIGN_OR_RETURN(Step step, CompileStep(seg));
        steps.push_back(std::move(step));
      }
    }
  }
  for (const Step& step : steps) {
    if (step.name.empty()) return bad("empty step");
  }
  return steps;
}

std::vector<std::string> SearchPath::SplitSteps(std::string_view text) {
  // Split on '.' outside parentheses: "where(resolve() is Patient)" holds a call.
  std::vector<std::string> segments(1);
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == '.' && depth == 0) {
      segments.emplace_back();
    } else {
      segments.back().push_back(c);
    }
  }
  return segments;
}

absl::StatusOr<SearchPath::Step> SearchPath::CompileStep(const std::string& seg) {
  Step step;
  if (seg.rfind("where(resolve() is ", 0) == 0 && seg.back() == ')') {
    step.kind = Step::Kind::kResolveIs;
    step.name = seg.substr(19, seg.size() - 20);
  } else if (seg.rfind("where(", 0) == 0 && seg.back() == ')') {
    const std::string cond = seg.substr(6, seg.size() - 7);
    const size_t eq = cond.find("='");
    if (eq == std::string::npos || cond.back() != '\'') {
      return absl::InvalidArgumentError(absl::StrCat("unsupported where(): ", seg));
    }
    step.kind = Step::Kind::kFieldEquals;
    step.name = cond.substr(0, eq);
    step.value = cond.substr(eq + 2, cond.size() - eq - 3);
  } else {
    if (seg.empty() || seg.find_first_of("()[]'= ") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("unsupported step '", seg, "'"));
    }
    step.kind = IsChoice(seg) ? Step::Kind::kChoice : Step::Kind::kField;
    step.name = seg;
  }
  return step;
}

template <typename JsonT>
void SearchPath::Evaluate(const JsonT& resource, std::vector<const JsonT*>& out) const {
  std::vector<const JsonT*> nodes;
  std::vector<const JsonT*> next;
  for (const Alternative& alt : alternatives_) {
    nodes.assign(1, &resource);
    for (const Step& step : alt) {
      next.clear();
      for (const JsonT* node : nodes) {
        switch (step.kind) {
          case Step::Kind::kField:
            if (node->is_object()) {
              auto it = node->find(step.name);
              if (it != node->end()) Push(*it, next);
            }
            break;
          case Step::Kind::kChoice:
            if (node->is_object()) {
              for (std::string_view type : kChoiceTypes) {
                auto it = node->find(absl::StrCat(step.name, Sv(type)));
                if (it != node->end()) Push(*it, next);
              }
            }
            break;
          case Step::Kind::kResolveIs:
            if (ReferenceType(*node) == step.name) next.push_back(node);
            break;
          case Step::Kind::kFieldEquals:
            if (node->is_object()) {
              auto it = node->find(step.name);
              if (it != node->end() && it->is_string() && *it == step.value) next.push_back(node);
            }
            break;
        }
      }
      nodes.swap(next);
      if (nodes.empty()) break;
    }
    out.insert(out.end(), nodes.begin(), nodes.end());
  }
}

template void SearchPath::Evaluate(const nlohmann::json&,
                                   std::vector<const nlohmann::json*>&) const;
template void SearchPath::Evaluate(const nlohmann::ordered_json&,
                                   std::vector<const nlohmann::ordered_json*>&) const;

}  // namespace carehub::fhir::internal
